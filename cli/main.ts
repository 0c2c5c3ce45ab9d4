import { stripVTControlCharacters } from "node:util";
import { Command, CommanderError, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { version } from "../package.json";
import { CanaryRuleError } from "../model/canary/lifecycle";
import { StackFileError } from "../render/stackFile";
import { registerAuth } from "./commands/auth";
import { registerCanary } from "./commands/canary";
import { registerCicd } from "./commands/cicd";
import { registerCompletion } from "./commands/completion";
import { registerCost } from "./commands/cost";
import { registerDiff } from "./commands/diff";
import { registerDoctor } from "./commands/doctor";
import { registerHistory } from "./commands/history";
import { registerImage } from "./commands/image";
import { registerPlan } from "./commands/plan";
import { registerPreview } from "./commands/preview";
import { registerRollout } from "./commands/rollout";
import { registerUp } from "./commands/up";
import { findToken } from "./github/keyring";
import { readTokenMemo } from "./history/stateDir";
import { recordInvocation } from "./history/store";
import { CliError, errColor, findProjectDir, jsonPrinted, printJsonError, resetJsonPrinted } from "./output";
import { nextStep } from "./suggest/nextStep";
import { readProjectState } from "./suggest/projectState";

/**
 * Commands after which no next step is suggested: they are about orchestra itself, not the project;
 * (the canary edits) they end with their own, and a second one from the stack files could contradict it;
 * (`cicd state-access`) they print commands to run; or (a replay) they are about recorded data.
 */
const NO_SUGGESTION = new Set([
  "history",
  "completion",
  "canary start",
  "canary set",
  "canary promote",
  "canary rollback",
  "cicd state-access",
  "rollout judge",
]);

/** The program with every command, in help order. */
export function buildProgram(): Command {
  const program = new Command("orchestra")
    .description(
      "AI Orchestra's delivery tool: environment checks, GitHub auth, offline plans and diffs, canary control " +
        "and pulumi preview/up for the Pulumi stacks in this repository",
    )
    .version(version)
    // A subcommand's options are its own: `rollout judge` takes the analysis flags `rollout` also has.
    // Only --version and --help live on the program, so nothing else moves.
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({ outputError: (text, write) => write(errColor.red(text)) });
  for (const register of [
    registerDoctor,
    registerAuth,
    registerPlan,
    registerDiff,
    registerCost,
    registerPreview,
    registerUp,
    registerCanary,
    registerRollout,
    registerImage,
    registerCicd,
    registerHistory,
    registerCompletion,
  ])
    register(program);
  // Subcommands inherit exitOverride only when defined after it: set it on every level.
  const exitOverrideAll = (cmd: CommandUnknownOpts) => {
    cmd.exitOverride();
    cmd.commands.forEach(exitOverrideAll);
  };
  exitOverrideAll(program);
  return program;
}

/** Exit codes: 0 ok, 1 the operation failed or was refused, 2 the command line was wrong. */
export async function main(argv: readonly string[]): Promise<number> {
  const started = new Date();
  resetJsonPrinted();
  const program = buildProgram();
  let ran: { command: string; stack?: string; live?: boolean; json?: boolean } | undefined;
  program.hook("preAction", (_root, action) => {
    const names: string[] = [];
    for (let c: typeof action | null = action; c && c !== program; c = c.parent) names.unshift(c.name());
    // Any command's options: only --stack and --live, where the command has them, are recorded.
    const { stack, live, json } = action.optsWithGlobals();
    ran = {
      command: names.join(" "),
      stack: typeof stack === "string" ? stack : undefined,
      live: live === true,
      json: json === true,
    };
  });

  const exitCode = await run(program, argv, () => ran?.json ?? wantsJson(argv));

  recordInvocation({
    time: started.toISOString(),
    command: ran?.command ?? argv.find((a) => !a.startsWith("-")) ?? "",
    args: [...argv],
    exitCode,
    durationMs: Date.now() - started.getTime(),
    cwd: process.cwd(),
  });
  // Only after a command that ran (not help, not a usage error), and on stderr: stdout stays pure.
  // `--live` ends with its own next step per service, read from Cloud Run: a guess from the stack files
  // alone could contradict it.
  if (ran && !ran.live && !NO_SUGGESTION.has(ran.command) && !process.env.ORCHESTRA_NO_SUGGESTIONS) {
    try {
      // The token in use now, for the expiry hint: only looked for when a check was remembered.
      const current = readTokenMemo() ? (await findToken())?.token : undefined;
      const hint = nextStep({ ...ran, exitCode }, readProjectState(findProjectDir(), new Date(), current));
      if (hint) process.stderr.write(`\n${errColor.cyan("next:")} ${hint}\n`);
    } catch {
      // A suggestion is never worth failing for.
    }
  }
  return exitCode;
}

/** A refusal the user can act on: printed as a message, without a stack trace. */
function isRefusal(e: unknown): e is Error {
  return e instanceof CliError || e instanceof CanaryRuleError || e instanceof StackFileError;
}

/** `--json` on the command line before any `--` (what follows belongs to pulumi). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes("--json");
}

/** Runs the command; a --json run that fails before its answer still prints one JSON document. */
async function run(program: Command, argv: readonly string[], json: () => boolean): Promise<number> {
  try {
    await program.parseAsync(argv, { from: "user" });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.exitCode === 0)
        return 0;
      if (json() && !jsonPrinted())
        printJsonError("usage", stripVTControlCharacters(e.message).replace(/^error: /, ""));
      return 2;
    }
    if (isRefusal(e)) {
      process.stderr.write(`${errColor.red("error:")} ${e.message}\n`);
      if (json() && !jsonPrinted()) printJsonError("refused", stripVTControlCharacters(e.message));
      return e instanceof CliError ? e.exitCode : 1;
    }
    throw e;
  }
}
