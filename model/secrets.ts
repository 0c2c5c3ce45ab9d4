/**
 * What a secret looks like, in one place: the guardrails flag these shapes in plain text, and the
 * history, config errors and API errors redact the same ones.
 */

/** Shapes of credentials that must never be plain text: token prefixes, keys and passwords in URLs. */
const CREDENTIALS: readonly (readonly [RegExp, string])[] = [
  // Real GitHub tokens are longer (36 and 82 characters); the shorter minimum also catches a truncated one.
  [/\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{8,}/g, "a GitHub token"],
  [/\bgithub_pat_[A-Za-z0-9_]{8,}/g, "a GitHub fine-grained token"],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, "a Slack token"],
  [/\bAKIA[0-9A-Z]{16}\b/g, "an AWS access key"],
  [/\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, "a Google API key"],
  [/\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}/g, "an API secret key"],
  [
    /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[^]*?(?:-----END (?:[A-Z]+ )?PRIVATE KEY-----|$)/g,
    "a private key",
  ],
  [/"private_key_id"\s*:/g, "a service-account key file"],
  [/(?<=\/\/)[^/@\s:]+:[^/@\s]+(?=@)/g, "a password in a URL"],
];

/** What a value looks like, if it looks like a credential. */
export function credentialKind(value: string): string | undefined {
  return CREDENTIALS.find(([re]) => {
    re.lastIndex = 0;
    return re.test(value);
  })?.[1];
}

export const REDACTED = "[redacted]";

/** The text with every credential-shaped part replaced by [redacted]. */
export function redactCredentials(text: string): string {
  return CREDENTIALS.reduce((out, [re]) => out.replace(re, REDACTED), text);
}

/** Config keys (under `ai-orchestra:`) that hold secrets, and so must be `secure:` in the stack file. */
export const SECRET_CONFIG_KEYS = ["slackToken", "pagerdutyServiceKey", "deliveryAppPrivateKey"] as const;

/** Keys whose every entry is a secret: `githubSecrets.NAME` holds the value of an Actions secret. */
const SECRET_MAPS = ["githubSecrets"] as const;

/**
 * Whether a config key path (`ai-orchestra:slackToken`, `ai-orchestra:githubSecrets.NAME`, or the
 * `--path` form `ai-orchestra:githubSecrets["NAME"]`) holds a secret value.
 */
export function isSecretConfigKey(key: string): boolean {
  const m = /^(?:([^:]+):)?([A-Za-z0-9_-]+)/.exec(key);
  if (!m || (m[1] !== undefined && m[1] !== "ai-orchestra")) return false;
  return (
    (SECRET_CONFIG_KEYS as readonly string[]).includes(m[2]) ||
    (SECRET_MAPS as readonly string[]).includes(m[2])
  );
}

/** How a value that must not be shown is shown instead: what it looks like, never what it is. */
export function hiddenValue(kind?: string): string {
  return kind ? `[redacted: looks like ${kind}]` : "[redacted: a secret]";
}
