import { clause as liveClause } from "../../model/live";
/**
 * The Automation API throws `CommandError`, whose message is the whole CLI transcript (exit code, stdout,
 * stderr). A rollout reports one line: the CLI's own most specific `error:` line.
 */

/** What a CommandError keeps of the CLI's run (a private field of the SDK's class). */
interface CommandResult {
  readonly stdout?: string;
  readonly stderr?: string;
  readonly code?: number;
  readonly err?: { readonly code?: unknown; readonly message?: string };
}

const commandResult = (e: unknown): CommandResult | undefined => {
  const r = (e as { commandResult?: unknown } | null)?.commandResult;
  return r && typeof r === "object" ? (r as CommandResult) : undefined;
};

export const oneLine = (s: string, max = 300): string => {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
};

/** Text to embed mid-sentence: without its own closing period (model/live.ts's rule, for a string). */
export const clause = (s: string): string => liveClause(s) ?? "";

/** Lines that only say that something failed, not what. */
const GENERIC = /^(update failed|preview failed|refresh failed|an error occurred|\d+ errors? occurred:?)$/i;

export const MISSING_CLI =
  "the Pulumi CLI is not installed (no `pulumi` on PATH): https://www.pulumi.com/docs/install/";

/**
 * The most specific error in a CLI output: an `error:` line that says what failed, or, after one that
 * only counts errors ("1 error occurred:"), the innermost `* ...` cause listed under it.
 */
function specificError(lines: readonly string[]): string | undefined {
  for (let i = 0; i < lines.length; i++) {
    const said = /^error:\s*(.+)$/i.exec(lines[i])?.[1]?.trim();
    if (!said) continue;
    if (!GENERIC.test(said)) return said;
    const causes: string[] = [];
    for (let j = i + 1; j < lines.length && lines[j].startsWith("* "); j++) causes.push(lines[j].slice(2));
    if (causes.length > 0) return causes[causes.length - 1];
  }
  return undefined;
}

/**
 * One line for a failed Pulumi command: a missing CLI says so; otherwise the most specific error of
 * stderr, then of stdout (where `up` prints the resources' diagnostics), else the last line of stderr,
 * else the exit code. Anything else (not a CommandError) gives its own message, on one line.
 */
export function pulumiErrorLine(e: unknown): string {
  const r = commandResult(e);
  if (!r) return oneLine(e instanceof Error ? e.message : String(e));
  const stderr = r.stderr ?? "";
  if (r.err?.code === "ENOENT" || /\bENOENT\b/.test(stderr)) return MISSING_CLI;
  const lines = (text: string) =>
    text
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
  const line =
    specificError(lines(stderr)) ??
    specificError(lines(r.stdout ?? "")) ??
    lines(stderr).slice(-1)[0] ??
    `pulumi exited with code ${String(r.code ?? "?")}`;
  return oneLine(line);
}

/** A Pulumi command that failed, explained in one line; the SDK's error is kept as the cause. */
export class PulumiCommandFailed extends Error {
  constructor(command: string, cause: unknown) {
    super(`\`pulumi ${command}\` failed: ${pulumiErrorLine(cause)}`, { cause });
    this.name = "PulumiCommandFailed";
  }
}
