import { CLOUD_RUN_SERVICE, serviceName } from "./cloudrun";
import type { Finding, ResourceRule, StackRule } from "./types";
import { known, strings } from "./values";
import { credentialKind, SECRET_CONFIG_KEYS } from "../../model/secrets";

export const noServiceAccountKeys: ResourceRule = {
  id: "no-service-account-keys",
  kind: "resource",
  description: "No service-account keys: CI authenticates with Workload Identity Federation.",
  types: ["gcp:serviceaccount/key:Key"],
  check(r) {
    return [
      {
        message: `declares a service-account key (${r.name}): a long-lived credential that can leak.`,
        fix: "remove it; authenticate with Workload Identity Federation (docs/cicd.md) or the runtime service account.",
      },
    ];
  },
};

const REPOSITORY_FILE = "github:index/repositoryFile:RepositoryFile";
const SHA = /^[0-9a-f]{40}$/;

/** `uses:` references of a workflow or composite action that are not pinned by a full commit SHA. */
export function unpinnedActions(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:-\s+)?uses:\s*["']?([^\s"'#]+)/gm)) {
    const ref = m[1];
    // Actions in the same repository, and Docker images by digest, cannot move under a pin.
    if (ref.startsWith("./") || (ref.startsWith("docker://") && ref.includes("@sha256:"))) continue;
    const at = ref.lastIndexOf("@");
    if (at < 0 || !SHA.test(ref.slice(at + 1))) out.push(ref);
  }
  return out;
}

export const pinnedActions: ResourceRule = {
  id: "pinned-actions",
  kind: "resource",
  description: "Workflow files pin every action they use by full commit SHA.",
  types: [REPOSITORY_FILE],
  check(r) {
    const file = known(r.props, "file", true);
    if (typeof file !== "string" || !/^\.github\/(workflows|actions)\//.test(file)) return [];
    const content = known(r.props, "content", true);
    if (typeof content !== "string") return [];
    const loose = unpinnedActions(content);
    if (loose.length === 0) return [];
    return [
      {
        message: `${file} uses ${loose.join(", ")} by tag or branch: whoever controls it can change what runs.`,
        fix: "pin each by its commit SHA with the version in a comment (components/github/workflows/pins.ts).",
      },
    ];
  },
};

/** Names that announce a secret: `*_TOKEN`, `*_SECRET`, `*_PASSWORD`, `*_API_KEY`, `*_PRIVATE_KEY`. */
const SECRET_NAME = /(?:^|_)(?:TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY|CLIENT_SECRET)$/i;

const VARIABLE_TYPES = [
  "github:index/actionsVariable:ActionsVariable",
  "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
  "github:index/actionsOrganizationVariable:ActionsOrganizationVariable",
];

export const noPlaintextSecrets: ResourceRule = {
  id: "no-plaintext-secrets",
  kind: "resource",
  description:
    "No credential in plain text: not in Cloud Run env values, GitHub variables or committed workflow files.",
  types: [CLOUD_RUN_SERVICE, ...VARIABLE_TYPES, REPOSITORY_FILE],
  check(r) {
    const findings: Finding[] = [];
    if (r.type === CLOUD_RUN_SERVICE) {
      const name = serviceName(r.props, r.name);
      const containers = known(r.props, "template.containers", true);
      for (const [ci, c] of (Array.isArray(containers) ? containers : []).entries()) {
        const envs = known(c, "envs") ?? [];
        for (const [ei] of (Array.isArray(envs) ? envs : []).entries()) {
          const env = known(envs, String(ei));
          const value = known(env, "value");
          if (typeof value !== "string") continue; // a valueSource: read from Secret Manager
          const envName = String(known(env, "name"));
          const kind = credentialKind(value);
          if (kind || SECRET_NAME.test(envName)) {
            findings.push({
              message: `${name}'s env ${envName} (container ${ci}) is ${kind ? `${kind} in plain text` : "named like a secret but has a plain value"}.`,
              fix: `store it in Secret Manager and reference it under \`ai-orchestra:services.${name}.secretEnv.${envName}\`.`,
            });
          }
        }
      }
    } else if (VARIABLE_TYPES.includes(r.type)) {
      const variable = String(known(r.props, "variableName"));
      const value = known(r.props, "value", true);
      const kind = typeof value === "string" ? credentialKind(value) : undefined;
      if (kind || SECRET_NAME.test(variable)) {
        findings.push({
          message: `GitHub variable ${variable} ${kind ? `holds ${kind}` : "is named like a secret"}: variables are readable by anyone who can read the repository's settings and logs.`,
          fix: "make it an Actions secret (`ai-orchestra:githubSecrets`, set with `pulumi config set --secret`).",
        });
      }
    } else {
      const file = String(known(r.props, "file"));
      const content = known(r.props, "content", true);
      const kind = typeof content === "string" ? credentialKind(content) : undefined;
      if (kind) {
        findings.push({
          message: `${file} contains ${kind}.`,
          fix: "use `${{ secrets.NAME }}` and keep the value as an Actions secret.",
        });
      }
    }
    return findings;
  },
};

/**
 * Config keys holding a secret in plain text: a secret key set without `--secret`, a `githubSecrets`
 * entry that is not `secure:`, or any plain value that looks like a credential.
 */
export function plainSecretConfig(
  flat: Readonly<Record<string, string>>,
  secretKeys: readonly string[],
  secureStandIn: string,
): { key: string; why: string }[] {
  const found: { key: string; why: string }[] = [];
  for (const key of SECRET_CONFIG_KEYS) {
    const full = `ai-orchestra:${key}`;
    if (flat[full] && !secretKeys.includes(full))
      found.push({ key: full, why: "is a secret set in plain text" });
  }
  const githubSecrets = flat["ai-orchestra:githubSecrets"];
  if (githubSecrets) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(githubSecrets);
    } catch {
      parsed = {};
    }
    for (const [name, value] of Object.entries((parsed ?? {}) as Record<string, unknown>)) {
      if (value !== secureStandIn)
        found.push({ key: `ai-orchestra:githubSecrets.${name}`, why: "is a secret set in plain text" });
    }
  }
  for (const [key, raw] of Object.entries(flat)) {
    if (found.some((f) => f.key === key || f.key.startsWith(`${key}.`))) continue;
    let parsed: unknown = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // a plain string
    }
    for (const s of strings(parsed)) {
      const kind = credentialKind(s.value);
      if (kind) found.push({ key: s.path ? `${key}.${s.path}` : key, why: `holds ${kind} in plain text` });
    }
  }
  return found;
}

export const secretConfig: StackRule = {
  id: "secret-config",
  kind: "stack",
  description: "Secrets in the stack file are `secure:` values, never plain text.",
  check(_resources, ctx) {
    if (!ctx.plainSecretConfig) throw new StackFileUnread();
    return ctx.plainSecretConfig.map((p) => ({
      message: `Pulumi.${ctx.stack}.yaml: ${p.key} ${p.why}; it is in git for anyone to read.`,
      fix: `\`pulumi config set --secret ${p.key.replace(/\..*$/, "")} ... -s ${ctx.stack}\` (with \`--path\` for a nested key), then rotate the exposed value.`,
    }));
  },
};

/** The stack file could not be read, so which config is plain text is not known. */
export class StackFileUnread extends Error {
  constructor() {
    super("the stack file could not be read, so which config values are secure: is unknown");
  }
}
