import { Command, CommanderError } from "commander";
import { version } from "../package.json";
import { recordInvocation } from "./history/store";
import { CliError, errColor, findProjectDir } from "./output";

/** Commands after which no next step is suggested: they are about orchestra itself, not the project. */
const NO_SUGGESTION = new Set(["history", "completion"]);

/* eslint-disable @typescript-eslint/no-require-imports -- each command's definition is loaded on use */
/** The command modules in help order: the top-level commands each defines, and its loader. */
const COMMANDS: readonly (readonly [readonly string[], () => (program: Command) => void])[] = [
  [["doctor"], () => (require("./commands/doctor") as typeof import("./commands/doctor")).registerDoctor],
  [["auth"], () => (require("./commands/auth") as typeof import("./commands/auth")).registerAuth],
  [["plan"], () => (require("./commands/plan") as typeof import("./commands/plan")).registerPlan],
  [["diff"], () => (require("./commands/diff") as typeof import("./commands/diff")).registerDiff],
  [
    ["preview", "up"],
    () => (require("./commands/pulumi") as typeof import("./commands/pulumi")).registerPulumi,
  ],
  [["canary"], () => (require("./commands/canary") as typeof import("./commands/canary")).registerCanary],
  [["rollout"], () => (require("./commands/rollout") as typeof import("./commands/rollout")).registerRollout],
  [["cicd"], () => (require("./commands/cicd") as typeof import("./commands/cicd")).registerCicd],
  [["history"], () => (require("./commands/history") as typeof import("./commands/history")).registerHistory],
  [
    ["completion"],
    () => (require("./commands/completion") as typeof import("./commands/completion")).registerCompletion,
  ],
];
/* eslint-enable @typescript-eslint/no-require-imports */

/** Every top-level command, in help order. */
export const COMMAND_NAMES: readonly string[] = COMMANDS.flatMap(([names]) => names);

/**
 * Which top-level commands to define for `argv`: only the one it names, when it names one (a plan need
 * not load the definitions of every other command); all of them for help, a usage error (the "did you
 * mean" needs every name), or `completion`, which walks the whole tree.
 */
export function commandsFor(argv: readonly string[] | undefined): readonly string[] {
  const first = argv?.[0];
  // An option first (`--version`, `--help`) is the program's own: define everything.
  if (first === undefined || first === "completion" || !COMMAND_NAMES.includes(first)) return COMMAND_NAMES;
  return [first];
}

/** The program with every command, or with only those `argv` needs. */
export function buildProgram(argv?: readonly string[]): Command {
  const program = new Command("orchestra")
    .description(
      "AI Orchestra's delivery tool: environment checks, GitHub auth, offline plans and diffs, canary control\n" +
        "and pulumi preview/up for the Pulumi stacks in this repository",
    )
    .version(version)
    .exitOverride()
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({ outputError: (text, write) => write(errColor.red(text)) });
  const wanted = new Set(commandsFor(argv));
  for (const [names, load] of COMMANDS) if (names.some((n) => wanted.has(n))) load()(program);
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
  const program = buildProgram(argv);
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
    if (e instanceof CliError || (await isRefusal(e))) {
      process.stderr.write(`${errColor.red("error:")} ${(e as Error).message}\n`);
      return e instanceof CliError ? e.exitCode : 1;
    }
    throw e;
  }
}

/**
 * A canary rule or stack file refusal. Their classes are only looked up in modules the command already
 * loaded: an error cannot come from a module that was never loaded, and loading the canary rules just to
 * compare would pull in all of config validation (a third of a small command's time).
 */
async function isRefusal(e: unknown): Promise<boolean> {
  const loaded = (id: string) => require.cache[require.resolve(id)] !== undefined;
  if (
    loaded("../model/canary/lifecycle") &&
    e instanceof (await import("../model/canary/lifecycle")).CanaryRuleError
  )
    return true;
  return loaded("../render/stackFile") && e instanceof (await import("../render/stackFile")).StackFileError;
}
