import type { Command } from "@commander-js/extra-typings";
import { jsonOption, requiredStackOption } from "./options";
import * as diff from "../diff/run";

export function registerDiff(program: Command): void {
  program
    .command("diff")
    .description(
      "Render a stack at a base git ref and in the working tree, offline, and show what changes: traffic first",
    )
    .addOption(requiredStackOption("stack to compare"))
    .option(
      "--base <git-ref>",
      "commit to compare with (default: the merge-base with the default branch, else HEAD)",
    )
    .option("--markdown", "print a pull-request comment in markdown")
    .addOption(jsonOption("{stack, base, baseCommit, traffic, added, removed, changed, unchanged, cost}"))
    .addHelpText(
      "after",
      "\nThe base is rendered by its own program (checked out in a temporary git worktree, removed afterwards),\n" +
        "so code changes show too. Like plan: no Pulumi CLI, no credentials; secret inputs print as [secret].\n" +
        "Exit 0 whether or not anything changed.\n\nExamples:\n  orchestra diff --stack prod\n" +
        "  orchestra diff --stack prod --base origin/main --markdown > comment.md",
    )
    .action(async (opts) => diff.runDiff(opts));
}
