import type { Command } from "@commander-js/extra-typings";
import { jsonOption, requiredStackOption } from "./options";
import * as plan from "../plan/run";

export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description("Render a stack offline (no Pulumi CLI, no cloud credentials) and print what it declares")
    .addOption(requiredStackOption("stack to render (Pulumi.<name>.yaml)"))
    .addOption(jsonOption("{stack, resources: [{type, name, parent, inputs}], violations}"))
    .option("--policy", "exit 1 on a mandatory guardrail violation (docs/guardrails.md)")
    .addHelpText(
      "after",
      "\nRuns the real program in-process against Pulumi's mocks. Computed values (URLs, emails) are offline\n" +
        "stand-ins; secure: values are never decrypted and secret inputs print as [secret].\n\nExample:\n  orchestra plan --stack prod",
    )
    .action(async (opts) => plan.runPlan(opts));
}
