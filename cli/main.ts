import { Command, CommanderError } from "commander";
import { version } from "../package.json";
import { CanaryRuleError } from "../canary/lifecycle";
import { StackFileError } from "../render/stackFile";
import { registerCanary } from "./commands/canary";
import { registerPlan } from "./commands/plan";
import { CliError, color } from "./output";

/** Exit codes: 0 ok, 1 the operation failed or was refused, 2 the command line was wrong. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command("orchestra")
    .description(
      "AI Orchestra's delivery tool: offline plans and canary control for the Pulumi stacks in this repository",
    )
    .version(version)
    .exitOverride()
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({ outputError: (text, write) => write(color.red(text)) });
  registerPlan(program);
  registerCanary(program);
  for (const cmd of program.commands) cmd.exitOverride();

  try {
    await program.parseAsync(argv, { from: "user" });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.exitCode === 0
        ? 0
        : 2;
    }
    if (e instanceof CliError || e instanceof CanaryRuleError || e instanceof StackFileError) {
      process.stderr.write(`${color.red("error:")} ${e.message}\n`);
      return e instanceof CliError ? e.exitCode : 1;
    }
    throw e;
  }
}
