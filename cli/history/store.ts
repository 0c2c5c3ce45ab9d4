import * as fs from "node:fs";
import * as path from "node:path";
import { sync as writeFileAtomicSync } from "write-file-atomic";
import { redactArgs } from "./redact";
import { ensureStateDir, stateDir } from "./stateDir";

/** One invocation of orchestra, as kept in `<state dir>/history.jsonl`. */
export interface HistoryEntry {
  /** ISO time the command started. */
  readonly time: string;
  /** The command path, e.g. `canary set`; the first word for usage errors. */
  readonly command: string;
  /** The arguments, secrets redacted. */
  readonly args: readonly string[];
  readonly exitCode: number;
  readonly durationMs: number;
  readonly cwd: string;
}

const FILE = "history.jsonl";
/** Past this many entries the oldest are dropped, so the file stays small. */
export const MAX_ENTRIES = 1000;

export function historyFile(): string {
  return path.join(stateDir(), FILE);
}

export function recordInvocation(entry: Omit<HistoryEntry, "args"> & { args: readonly string[] }): void {
  try {
    const file = path.join(ensureStateDir(), FILE);
    const line = `${JSON.stringify({ ...entry, args: redactArgs(entry.args) })}\n`;
    fs.appendFileSync(file, line, { mode: 0o600 });
    // Trim rarely: only once the file holds twice the limit.
    if (fs.statSync(file).size > MAX_ENTRIES * 2 * 200) {
      const lines = fs.readFileSync(file, "utf8").split("\n").filter(Boolean);
      if (lines.length > MAX_ENTRIES) {
        writeFileAtomicSync(file, `${lines.slice(-MAX_ENTRIES).join("\n")}\n`, { mode: 0o600 });
      }
    }
  } catch {
    // History is a convenience: a read-only home must not fail the command.
  }
}

export function readHistory(): HistoryEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(historyFile(), "utf8");
  } catch {
    return [];
  }
  const entries: HistoryEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as HistoryEntry);
    } catch {
      // A torn line (two processes appending at once) is skipped, not fatal.
    }
  }
  return entries;
}
