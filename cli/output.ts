import * as fs from "node:fs";
import * as path from "node:path";
import pc from "picocolors";

/** Colour only on a terminal, and never with NO_COLOR set (https://no-color.org). */
export const color = pc.createColors(Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);

/** The same rule for what goes to stderr (errors, suggestions), which may be a terminal when stdout is not. */
export const errColor = pc.createColors(Boolean(process.stderr.isTTY) && !process.env.NO_COLOR);

/** Left-aligned columns, two spaces apart. */
export function table(rows: readonly (readonly string[])[], indent = "  "): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map(
      (row) =>
        indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join("  "),
    )
    .join("\n");
}

/** A failure the user can act on: printed without a stack trace, with the exit code it implies. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** The folder holding Pulumi.yaml: the current one or the nearest above it; undefined if none. */
export function findProjectDir(start = process.cwd()): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** The folder holding Pulumi.yaml: the current one or the nearest above it. */
export function projectDir(start = process.cwd()): string {
  const dir = findProjectDir(start);
  if (!dir)
    throw new CliError(
      "No Pulumi.yaml here or in any folder above: run orchestra inside the infrastructure repository.",
    );
  return dir;
}

let printedJson = false;

/** Prints a value as the whole of stdout, for --json. */
export function printJson(value: unknown): void {
  printedJson = true;
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Forgets the last run's document: `main` may run more than once in a process (the tests). */
export function resetJsonPrinted(): void {
  printedJson = false;
}

/** Whether this run has printed its JSON document already (so a later failure must not add a second). */
export function jsonPrinted(): boolean {
  return printedJson;
}

/**
 * The one document a --json command prints when it fails before its answer: `ok` as `doctor` has it,
 * `error` as `auth check` has it (`kind`: `usage` for a wrong command line, `refused` otherwise).
 */
export function printJsonError(kind: "usage" | "refused", message: string): void {
  printJson({ ok: false, error: { kind, message } });
}
