import { Command, CommanderError } from "commander";
import { version } from "../package.json";
import { registerAuth } from "./commands/auth";
import { registerCanary } from "./commands/canary";
import { registerCicd } from "./commands/cicd";
import { registerCompletion } from "./commands/completion";
import { registerDiff } from "./commands/diff";
import { registerDoctor } from "./commands/doctor";
import { registerHistory } from "./commands/history";
import { registerPlan } from "./commands/plan";
import { registerPulumi } from "./commands/pulumi";
import { registerRollout } from "./commands/rollout";
import { recordInvocation } from "./history/store";
import { CliError, errColor, findProjectDir } from "./output";

/** Commands after which no next step is suggested: they are about orchestra itself, not the project. */
const NO_SUGGESTION = new Set(["history", "completion"]);

export function buildProgram(): Command {
  const program = new Command("orchestra")
    .description(
      "AI Orchestra's delivery tool: environment checks, GitHub auth, offline plans and diffs, canary control\n" +
        "and pulumi preview/up for the Pulumi stacks in this repository",
    )
    .version(version)
    .exitOverride()
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({ outputError: (text, write) => write(errColor.red(text)) });
  registerDoctor(program);
  registerAuth(program);
  registerPlan(program);
  registerDiff(program);
  registerPulumi(program);
  registerCanary(program);
  registerRollout(program);
  registerCicd(program);
  registerHistory(program);
  registerCompletion(program);
  const exitOverrideAll = (cmd: Command) => {
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
  let ran: { command: string; stack?: string } | undefined;
  program.hook("preAction", (_root, action) => {
    const names: string[] = [];
    for (let c: Command | null = action; c && c !== program; c = c.parent) names.unshift(c.name());
    const stack = (action.opts() as { stack?: unknown }).stack;
    ran = { command: names.join(" "), stack: typeof stack === "string" ? stack : undefined };
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
  if (ran && !NO_SUGGESTION.has(ran.command) && !process.env.ORCHESTRA_NO_SUGGESTIONS) {
    try {
      const { nextStep } = await import("./suggest/nextStep");
      const { readProjectState } = await import("./suggest/projectState");
      const hint = nextStep({ ...ran, exitCode }, readProjectState(findProjectDir()));
      if (hint) process.stderr.write(`\n${errColor.cyan("next:")} ${hint}\n`);
    } catch {
      // A suggestion is never worth failing for.
    }
  }
  return exitCode;
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
    // Loaded only now: the canary rules pull in config validation, which most commands never need.
    const { CanaryRuleError } = await import("../canary/lifecycle");
    const { StackFileError } = await import("../render/stackFile");
    if (e instanceof CliError || e instanceof CanaryRuleError || e instanceof StackFileError) {
      process.stderr.write(`${errColor.red("error:")} ${e.message}\n`);
      return e instanceof CliError ? e.exitCode : 1;
    }
    throw e;
  }
}
