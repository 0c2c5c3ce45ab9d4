import type { Command } from "@commander-js/extra-typings";
import { requiredStackOption } from "./options";
import * as pulumiRun from "../pulumi/run";

export function registerPreview(program: Command): void {
  program
    .command("preview")
    .description("Run `pulumi preview -s STACK` after checking the Pulumi CLI, its login and the stack file")
    .addOption(requiredStackOption("stack to preview"))
    .argument("[pulumi-args...]", "passed to pulumi after --, e.g. -- --diff")
    .addHelpText(
      "after",
      "\nExit code: pulumi's own.\n\nExample:\n  orchestra preview --stack prod -- --diff",
    )
    .action(async (extra, opts) => pulumiRun.checkedRun("preview", opts, extra));
}
