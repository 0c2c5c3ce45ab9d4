import { Command, CommanderError, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { version } from "../package.json";
import { CanaryRuleError } from "../model/canary/lifecycle";
import { StackFileError } from "../render/stackFile";
import { registerAuth } from "./commands/auth";
import { registerCanary } from "./commands/canary";
import { registerCicd } from "./commands/cicd";
import { registerCompletion } from "./commands/completion";
import { registerDiff } from "./commands/diff";
import { registerDoctor } from "./commands/doctor";
import { registerHistory } from "./commands/history";
import { registerPlan } from "./commands/plan";
import { registerPreview } from "./commands/preview";
import { registerRollout } from "./commands/rollout";
import { registerUp } from "./commands/up";
import { recordInvocation } from "./history/store";
import { CliError, errColor, findProjectDir } from "./output";
import { nextStep } from "./suggest/nextStep";
import { readProjectState } from "./suggest/projectState";

/** Commands after which no next step is suggested: they are about orchestra itself, not the project. */
// `cicd state-access` prints commands to run: a canary hint after them would only distract.
const NO_SUGGESTION = new Set(["history", "completion", "cicd state-access"]);

/** The program with every command, in help order. */
export function buildProgram(): Command {
  const program = new Command("orchestra")
    .description(
      "AI Orchestra's delivery tool: environment checks, GitHub auth, offline plans and diffs, canary control " +
        "and pulumi preview/up for the Pulumi stacks in this repository",
    )
    .version(version)
    .exitOverride()
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({ outputError: (text, write) => write(errColor.red(text)) });
  for (const register of [
    registerDoctor,
    registerAuth,
    registerPlan,
    registerDiff,
    registerPreview,
    registerUp,
    registerCanary,
    registerRollout,
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
  const program = buildProgram();
  let ran: { command: string; stack?: string; live?: boolean } | undefined;
  program.hook("preAction", (_root, action) => {
    const names: string[] = [];
    for (let c: typeof action | null = action; c && c !== program; c = c.parent) names.unshift(c.name());
    // Any command's options: only --stack and --live, where the command has them, are recorded.
    const { stack, live } = action.optsWithGlobals();
    ran = {
      command: names.join(" "),
      stack: typeof stack === "string" ? stack : undefined,
      live: live === true,
    };
  });

  const exitCode = await run(program, argv);

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
      const hint = nextStep({ ...ran, exitCode }, readProjectState(findProjectDir()));
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

async function run(program: Command, argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync(argv, { from: "user" });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.exitCode === 0
        ? 0
        : 2;
    }
    if (isRefusal(e)) {
      process.stderr.write(`${errColor.red("error:")} ${e.message}\n`);
      return e instanceof CliError ? e.exitCode : 1;
    }
    throw e;
  }
}
