import { credentialKind, hiddenValue, isSecretConfigKey } from "../model/secrets";

/** One problem in a stack's config: where it is, what was there, and what to do. */
export interface ConfigIssue {
  /** Key path as written in the stack file, e.g. `ai-orchestra:services.api.canary.percent`. */
  readonly path: string;
  /** The offending value; absent for a missing key. */
  readonly value?: unknown;
  readonly hasValue: boolean;
  /** The key itself is wrong (its name), whatever its value. */
  readonly badKey?: boolean;
  /** What is allowed, then a `Fix:` line. */
  readonly message: string;
}

/** An issue's message: what is allowed, then a `Fix:` line saying what to write instead. */
export const fix = (allowed: string, howTo: string): string => `${allowed}\nFix: ${howTo}`;

/** A config error the program raises before declaring anything. */
export class ConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(formatIssues(stack, issues));
    this.name = "ConfigError";
  }
}

/** A value that is never shown: the issue says what it looks like instead (see `hideSecrets`). */
export class HiddenValue {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

/**
 * The issue with its value hidden when it is a secret: under a secret key (even one merely suggested
 * for a mistyped key), or shaped like a credential anywhere inside.
 */
export function hideSecrets(issue: ConfigIssue, secretKey = isSecretConfigKey(issue.path)): ConfigIssue {
  if (!issue.hasValue || issue.value instanceof HiddenValue) return issue;
  const kind = credentialIn(issue.value);
  if (!secretKey && !kind) return issue;
  return { ...issue, value: new HiddenValue(hiddenValue(kind)) };
}

function credentialIn(value: unknown): string | undefined {
  if (typeof value === "string") return credentialKind(value);
  if (value === null || typeof value !== "object") return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const kind = credentialKind(key) ?? credentialIn(inner);
    if (kind) return kind;
  }
  return undefined;
}

function showValue(value: unknown): string {
  if (value instanceof HiddenValue) return value.text;
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Renders issues the way a reviewer reads them: path, bad value, allowed values, fix. */
export function formatIssues(stack: string, issues: readonly ConfigIssue[]): string {
  const n = issues.length;
  const lines = [`Stack "${stack}" has ${n} config error${n === 1 ? "" : "s"}; nothing was declared.`];
  for (const issue of issues) {
    const head = issue.badKey
      ? `${issue.path} (the key)`
      : issue.hasValue
        ? `${issue.path} = ${showValue(issue.value)}`
        : `${issue.path} (missing)`;
    lines.push("", `  x ${head}`, ...issue.message.split("\n").map((l) => `    ${l}`));
  }
  return lines.join("\n");
}
