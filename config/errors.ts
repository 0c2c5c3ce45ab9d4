/** One problem in a stack's config: where it is, what was there, and what to do. */
export interface ConfigIssue {
  /** Key path as written in the stack file, e.g. `ai-orchestra:services.api.canary.percent`. */
  readonly path: string;
  /** The offending value; absent for a missing key. */
  readonly value?: unknown;
  readonly hasValue: boolean;
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

function showValue(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Renders issues the way a reviewer reads them: path, bad value, allowed values, fix. */
export function formatIssues(stack: string, issues: readonly ConfigIssue[]): string {
  const n = issues.length;
  const lines = [`Stack "${stack}" has ${n} config error${n === 1 ? "" : "s"}; nothing was declared.`];
  for (const issue of issues) {
    const head = issue.hasValue ? `${issue.path} = ${showValue(issue.value)}` : `${issue.path} (missing)`;
    lines.push("", `  x ${head}`, ...issue.message.split("\n").map((l) => `    ${l}`));
  }
  return lines.join("\n");
}
