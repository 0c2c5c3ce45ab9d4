import type { Command } from "@commander-js/extra-typings";
import { requiredStackOption } from "./options";
import * as pulumiRun from "../pulumi/run";

export function registerUp(program: Command): void {
  program
    .command("up")
    .description(
      "Run `pulumi up -s STACK` after the same checks; prod only from a clean, pushed default branch",
    )
    .addOption(requiredStackOption("stack to deploy"))
    .option("--allow-dirty", "deploy prod with uncommitted changes")
    .option("--allow-branch", "deploy prod from a branch other than the default one")
    .option("--allow-unpushed", "deploy prod from a commit its branch's upstream does not have")
    .argument("[pulumi-args...]", "passed to pulumi after --, e.g. -- --yes")
    .addHelpText(
      "after",
      "\nA prod stack (environment: prod) is refused from a dirty tree, another branch than the default one, or\n" +
        "a commit not pushed to the branch's upstream (as of the last fetch), unless --allow-dirty /\n" +
        "--allow-branch / --allow-unpushed say so. Exit code: pulumi's own, 1 when refused.\n\nExample:\n  orchestra up --stack prod -- --yes",
    )
    .action(async (extra, opts) => pulumiRun.checkedRun("up", opts, extra));
}
