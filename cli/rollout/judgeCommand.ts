import * as fs from "node:fs";
import { judgeScenario, type ScenarioResult } from "../../model/judgment/judge";
import type { JudgeFlags } from "../commands/rollout";
import { CliError } from "../output";
import { parseJudgeInput } from "./judgeInput";
import { judgmentSettings } from "./judgmentFlags";
import { formatDuration } from "./steps";

/** Where the judge reads and writes: the process, or a test's strings. */
export interface JudgeIo {
  readonly readFile: (path: string) => string;
  readonly readStdin: () => string;
  readonly write: (text: string) => void;
}

const processIo: JudgeIo = {
  readFile: (p) => fs.readFileSync(p, "utf8"),
  readStdin: () => fs.readFileSync(0, "utf8"),
  write: (t) => process.stdout.write(t),
};

/**
 * `orchestra rollout judge`: every scenario through judgeScenario, the decision code `orchestra rollout`
 * runs. Throws a CliError (exit 1) naming the scenario and field of a bad input; judges nothing then.
 */
export function judgeCommand(flags: JudgeFlags, io: JudgeIo = processIo): void {
  const source = flags.input === "-" ? "stdin" : flags.input;
  let text: string;
  try {
    text = flags.input === "-" ? io.readStdin() : io.readFile(flags.input);
  } catch (e) {
    throw new CliError(`Cannot read the judge input ${source}: ${(e as Error).message}`);
  }
  let settings;
  try {
    settings = judgmentSettings(flags);
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
  let input;
  try {
    input = parseJudgeInput(text, source);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const results = input.scenarios.map((sc) => judgeScenario(sc, settings));
  if (flags.json) {
    const scenarios = results.map(({ name, decision, step, interval, reason }) => ({
      name,
      decision,
      step,
      interval,
      reason,
    }));
    io.write(`${JSON.stringify({ scenarios }, null, 2)}\n`);
    return;
  }
  const line = (r: ScenarioResult) =>
    `${r.decision.padEnd(8)} ${r.name}: at ${r.step}%, look ${r.interval}, after ${formatDuration(r.looks * flags.interval)}. ${r.reason}`;
  const promoted = results.filter((r) => r.decision === "promote").length;
  io.write(
    `${results.map(line).join("\n")}${results.length > 0 ? "\n" : ""}` +
      `${results.length} scenario${results.length === 1 ? "" : "s"}: ${promoted} promoted, ${results.length - promoted} rolled back.\n`,
  );
}
