/**
 * Whether a stack file lets CI build its secrets manager. The Pulumi CLI builds one before every
 * preview and up, even with no secret in the config: from `secretsprovider:` in the stack file, else
 * `encryptionsalt:` (a passphrase), else, with a `gs://` backend, a passphrase too. CI has no
 * passphrase, so only a KMS provider whose `encryptedkey` is committed works there.
 */

/** The top-level keys of `Pulumi.<stack>.yaml` the secrets manager is built from. */
export interface SecretsProviderLines {
  readonly secretsprovider?: unknown;
  readonly encryptedkey?: unknown;
  readonly encryptionsalt?: unknown;
}

/** The secrets manager the Pulumi CLI builds for a stack, by its rules. */
export type SecretsManager =
  | { readonly kind: "provider"; readonly provider: string }
  | { readonly kind: "passphrase" }
  | { readonly kind: "backend" };

/**
 * `secretsprovider:` wins (a `passphrase` one is a passphrase); else `encryptionsalt:` is a
 * passphrase; else Pulumi Cloud (an http(s) backend) manages secrets itself, and any self-managed
 * backend (gs://, s3://, file://...) falls back to a passphrase.
 */
export function secretsManagerOf(lines: SecretsProviderLines, cloudBackend: boolean): SecretsManager {
  const provider = typeof lines.secretsprovider === "string" ? lines.secretsprovider : undefined;
  if (provider && !provider.startsWith("passphrase")) return { kind: "provider", provider };
  if (provider || lines.encryptionsalt !== undefined || !cloudBackend) return { kind: "passphrase" };
  return { kind: "backend" };
}

export interface SecretsProviderProblem {
  readonly reason: string;
  readonly fix: string;
}

/** `reason Fix: fix.`, as `orchestra plan` prints it. */
export const describeProblem = (p: SecretsProviderProblem) => `${p.reason} Fix: ${p.fix}.`;

/** What is wrong and how to fix it, or undefined when CI can build the secrets manager. */
export function secretsProviderProblem(
  stack: string,
  lines: SecretsProviderLines,
  kmsKey: string | undefined,
  cloudBackend = false,
): SecretsProviderProblem | undefined {
  const manager = secretsManagerOf(lines, cloudBackend);
  if (manager.kind === "backend") return undefined;
  const provider = manager.kind === "provider" ? manager.provider : undefined;
  const wanted = kmsKey ? `gcpkms://${kmsKey}` : "gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K";
  const change =
    `run \`pulumi stack change-secrets-provider "${wanted}" -s ${stack}\` (or create the stack with ` +
    `\`pulumi stack init ${stack} --secrets-provider "${wanted}"\`) and commit the \`secretsprovider\` and \`encryptedkey\` lines it writes`;
  if (!provider) {
    const why =
      lines.encryptionsalt !== undefined
        ? "uses a passphrase (`encryptionsalt`)"
        : "names no secrets provider, so the Pulumi CLI falls back to a passphrase";
    return {
      reason: `Pulumi.${stack}.yaml ${why}: every CI preview, deploy and drift job would fail with "passphrase must be set with PULUMI_CONFIG_PASSPHRASE".`,
      fix: change,
    };
  }
  if (kmsKey && provider !== wanted)
    return {
      reason: `Pulumi.${stack}.yaml's secretsprovider is ${provider}, but \`cicd.secretsKey\` (which CI is granted) is ${kmsKey}.`,
      fix: change,
    };
  if (provider.startsWith("gcpkms://") && typeof lines.encryptedkey !== "string")
    return {
      reason: `Pulumi.${stack}.yaml names ${provider} but has no \`encryptedkey\`: each CI run would make a new data key that cannot read the committed secrets.`,
      fix: change,
    };
  return undefined;
}
