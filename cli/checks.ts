import { color } from "./output";

type Palette = typeof color;

/** One finding of `doctor`, `auth check` or the checks before `preview`/`up`. */
export interface Check {
  /** Stable identifier, for --json consumers: `node`, `pulumi-cli`, `token-scopes`... */
  readonly id: string;
  readonly status: "ok" | "warn" | "fail";
  /** What was found, one line. */
  readonly detail: string;
  /** What to do about it; absent when there is nothing to do. */
  readonly fix?: string;
  /** A failing required check makes the command exit 1; others only inform. */
  readonly required?: boolean;
}

/** True when a required check failed (non-required failures are reported as warnings' big siblings). */
export function anyRequiredFailed(checks: readonly Check[]): boolean {
  return checks.some((c) => c.status === "fail" && c.required !== false);
}

const MARK = {
  ok: (c: Palette) => c.green("ok  "),
  warn: (c: Palette) => c.yellow("warn"),
  fail: (c: Palette) => c.red("FAIL"),
};

/** `  ok    pulumi-cli  Pulumi CLI v3.1 ...` with the fix on the next line; `errColor` for stderr. */
export function formatChecks(checks: readonly Check[], palette: Palette = color): string {
  const width = Math.max(...checks.map((c) => c.id.length));
  return checks
    .map((c) => {
      const line = `  ${MARK[c.status](palette)}  ${c.id.padEnd(width)}  ${c.detail}`;
      return c.fix && c.status !== "ok" ? `${line}\n  ${" ".repeat(6 + width)}  fix: ${c.fix}` : line;
    })
    .join("\n");
}
