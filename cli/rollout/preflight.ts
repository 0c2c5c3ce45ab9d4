import { secretsManagerOf, type SecretsProviderLines } from "../../model/secretsProvider";
/**
 * Checks before a rollout changes anything: every reason it could not apply a step, or read what
 * serves, found while nothing is edited yet. The facts are gathered by the Pulumi driver (automation.ts)
 * and the live reader; these functions only judge them.
 */
import { satisfiesMinimum } from "../doctor/evaluate";
import type { ExecResult } from "../exec";
import type { LiveServiceRead } from "../../model/live";

/** One failed check: what is wrong and what to do, each one line. */
export interface PreflightProblem {
  readonly check: "pulumi-cli" | "pulumi-login" | "pulumi-stack" | "secrets-provider" | "live-api";
  readonly reason: string;
  readonly fix: string;
}

export interface PreflightReport {
  readonly problems: readonly PreflightProblem[];
  /** What passed, one line each: versions, backend, secrets provider. */
  readonly notes: readonly string[];
}

/** The Automation API's own minimum (`@pulumi/pulumi/automation/minimumVersion`). */
export const MIN_PULUMI_VERSION = "3.2.0";

/** What the driver found out about the Pulumi CLI, its backend and the stack. */
export interface PulumiFacts {
  readonly stack: string;
  readonly version: ExecResult;
  /** `pulumi whoami --json`; undefined when not run (no CLI). */
  readonly whoami?: ExecResult;
  /** `pulumi stack select --stack S`; undefined when not run. */
  readonly select?: ExecResult;
  /** The stack file's secrets-manager lines (`readSecretsProviderLines`). */
  readonly secretsLines: SecretsProviderLines;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether the file PULUMI_CONFIG_PASSPHRASE_FILE names can be read. */
  readonly passphraseFileReadable?: boolean;
  /** `ai-orchestra:cicd.stateBucket`, for the login fix. */
  readonly stateBucket?: string;
}

const lastLine = (text: string) =>
  text
    .trim()
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-1)[0] ?? "";

/** The backend URL `pulumi whoami --json` reports (`gs://...`, `https://api.pulumi.com`...). */
export function backendUrl(whoami: ExecResult | undefined): string | undefined {
  if (!whoami || whoami.code !== 0) return undefined;
  try {
    const url = (JSON.parse(whoami.stdout) as { url?: unknown }).url;
    return typeof url === "string" ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Pulumi checks, in the order a user fixes them: the CLI, the login, the stack, the secrets
 * provider. A check that needs an earlier one to pass is not judged when it failed.
 */
export function pulumiPreflight(f: PulumiFacts): PreflightReport {
  const problems: PreflightProblem[] = [];
  const notes: string[] = [];
  const v = f.version;
  if (v.missing)
    return {
      notes,
      problems: [
        {
          check: "pulumi-cli",
          reason: "the Pulumi CLI is not installed (no `pulumi` on PATH)",
          fix: "install it: https://www.pulumi.com/docs/install/ (in GitHub Actions: pulumi/actions or pulumi/setup-pulumi)",
        },
      ],
    };
  if (v.code !== 0)
    return {
      notes,
      problems: [
        {
          check: "pulumi-cli",
          reason: `\`pulumi version\` failed: ${lastLine(v.stderr) || `exit code ${String(v.code)}`}`,
          fix: "reinstall the Pulumi CLI: https://www.pulumi.com/docs/install/",
        },
      ],
    };
  const version = v.stdout.trim();
  if (!satisfiesMinimum(version, `>=${MIN_PULUMI_VERSION}`))
    problems.push({
      check: "pulumi-cli",
      reason: `Pulumi CLI ${version} is older than ${MIN_PULUMI_VERSION}, the oldest the Automation API drives`,
      fix: "upgrade it: https://www.pulumi.com/docs/install/",
    });
  else notes.push(`Pulumi CLI ${version}`);

  const w = f.whoami;
  const url = backendUrl(w);
  if (!w || w.code !== 0) {
    problems.push({
      check: "pulumi-login",
      reason: `not logged in to a Pulumi backend${w && lastLine(w.stderr) ? ` (${lastLine(w.stderr)})` : ""}`,
      fix: f.stateBucket
        ? `\`pulumi login gs://${f.stateBucket}\` (this stack's state bucket)`
        : "`pulumi login` with the stack's backend",
    });
    return { problems, notes };
  }
  notes.push(`logged in to ${url ?? "a Pulumi backend"}`);

  const sel = f.select;
  if (sel && sel.code !== 0) {
    problems.push({
      check: "pulumi-stack",
      reason: `stack ${f.stack} cannot be selected on ${url ?? "this backend"}: ${lastLine(sel.stderr) || `exit code ${String(sel.code)}`}`,
      fix: `check the stack name and the backend (\`pulumi stack ls\`); a new stack needs \`pulumi stack init ${f.stack}\``,
    });
  } else notes.push(`stack ${f.stack} selected`);

  const cloudBackend = url !== undefined && /^https?:\/\//.test(url);
  const manager = secretsManagerOf(f.secretsLines, cloudBackend);
  if (manager.kind === "provider") {
    notes.push(`secrets provider ${manager.provider.replace(/\?.*$/, "")}`);
  } else if (manager.kind === "passphrase") {
    const fileVar = f.env.PULUMI_CONFIG_PASSPHRASE_FILE;
    if (f.env.PULUMI_CONFIG_PASSPHRASE !== undefined)
      notes.push("secrets by passphrase (PULUMI_CONFIG_PASSPHRASE)");
    else if (fileVar && f.passphraseFileReadable)
      notes.push("secrets by passphrase (PULUMI_CONFIG_PASSPHRASE_FILE)");
    else
      problems.push({
        check: "secrets-provider",
        reason: fileVar
          ? `PULUMI_CONFIG_PASSPHRASE_FILE names ${fileVar}, which cannot be read`
          : `Pulumi.${f.stack}.yaml has no \`secretsprovider:\` and ${url ?? "the backend"} keeps secrets by passphrase, but PULUMI_CONFIG_PASSPHRASE is not set`,
        fix: fileVar
          ? "point PULUMI_CONFIG_PASSPHRASE_FILE at a readable file, or set PULUMI_CONFIG_PASSPHRASE"
          : `set PULUMI_CONFIG_PASSPHRASE (or _FILE), or give the stack a KMS provider: \`pulumi stack change-secrets-provider gcpkms://... -s ${f.stack}\`, and commit the file`,
      });
  } else {
    notes.push(`secrets managed by ${url}`);
  }
  return { problems, notes };
}

/**
 * The live check: every region of the service can be read and has the service. A region that cannot
 * be read now could not be verified after a step either.
 */
export function livePreflight(read: LiveServiceRead, stack: string): PreflightReport {
  const problems: PreflightProblem[] = [];
  for (const r of read.regions) {
    if (!r.ok)
      problems.push({
        check: "live-api",
        reason: `Cloud Run in ${r.region} cannot be read: ${r.failure.reason}`,
        fix: r.failure.fix,
      });
    else if (!r.state.exists)
      problems.push({
        check: "live-api",
        reason: `service ${read.service} does not exist in ${r.region} (project ${read.project})`,
        fix: `deploy it first with \`pulumi up -s ${stack}\`; regions are added between releases, not during one`,
      });
  }
  return {
    problems,
    notes:
      problems.length === 0
        ? [`Cloud Run read in ${read.regions.map((r) => r.region).join(", ")} (project ${read.project})`]
        : [],
  };
}

export const formatProblem = (p: PreflightProblem) => `${p.check}: ${p.reason}. Fix: ${p.fix}.`;
