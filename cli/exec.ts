import { execFile } from "node:child_process";

export interface ExecResult {
  /** The program is not installed (not on PATH). */
  readonly missing: boolean;
  /** Exit code; null when killed (timeout). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to read its answer, never through a shell; missing programs and timeouts are results, not errors. */
export function exec(
  file: string,
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { cwd: options.cwd, timeout: options.timeoutMs ?? 10_000, encoding: "utf8", windowsHide: true },
      (error, stdout, stderr) => {
        const err = error as (NodeJS.ErrnoException & { code?: string | number }) | null;
        resolve({
          missing: err?.code === "ENOENT",
          code: err ? (typeof err.code === "number" ? err.code : null) : 0,
          stdout: String(stdout ?? ""),
          stderr: String(stderr ?? ""),
        });
      },
    );
  });
}
