import { color, printJson, table } from "../output";
import { historyFile, readHistory } from "./store";

export function showHistory(opts: { limit?: number; json?: boolean }): void {
  const limit = opts.limit ?? 20;
  const entries = limit === 0 ? [] : readHistory().slice(-limit);
  if (opts.json) return printJson({ file: historyFile(), entries });
  if (entries.length === 0) {
    process.stdout.write(`No history yet (${historyFile()}).\n`);
    return;
  }
  const rows = entries.map((e) => [
    e.time.replace("T", " ").slice(0, 19),
    e.exitCode === 0 ? color.green(" 0") : color.red(String(e.exitCode).padStart(2)),
    ["orchestra", ...e.args].join(" "),
  ]);
  process.stdout.write(`${table([["TIME (UTC)", "EXIT", "COMMAND"], ...rows])}\n`);
}
