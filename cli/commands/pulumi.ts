import type { Command } from "commander";

export function registerPulumi(program: Command): void {
  program
    .command("preview")
    .description("Run `pulumi preview -s STACK` after checking the Pulumi CLI, its login and the stack file")
    .requiredOption("-s, --stack <name>", "stack to preview")
    .argument("[pulumi-args...]", "passed to pulumi after --, e.g. -- --diff")
    .addHelpText(
      "after",
      "\nExit code: pulumi's own.\n\nExample:\n  orchestra preview --stack prod -- --diff",
    )
    .action(async (extra: string[], opts: { stack: string }) =>
      (await import("../pulumi/run")).checkedRun("preview", opts, extra),
    );

  program
    .command("up")
    .description("Run `pulumi up -s STACK` after the same checks; prod only from a clean default branch")
    .requiredOption("-s, --stack <name>", "stack to deploy")
    .option("--allow-dirty", "deploy prod with uncommitted changes")
    .option("--allow-branch", "deploy prod from a branch other than the default one")
    .argument("[pulumi-args...]", "passed to pulumi after --, e.g. -- --yes")
    .addHelpText(
      "after",
      "\nA prod stack (environment: prod) is refused from a dirty tree or another branch than the default one\n" +
        "unless --allow-dirty / --allow-branch say so. Exit code: pulumi's own, 1 when refused.\n\nExample:\n  orchestra up --stack prod -- --yes",
    )
    .action(async (extra: string[], opts: { stack: string; allowDirty?: boolean; allowBranch?: boolean }) =>
      (await import("../pulumi/run")).checkedRun("up", opts, extra),
    );
}
