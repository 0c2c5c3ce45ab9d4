import type { Command } from "commander";
import { Option } from "commander";

/** Loaded on use: the lifecycle rules pull in config validation, which --help and other commands never need. */
const actions = () => import("../canary/actions");

/** Shown in --help without loading the lifecycle; a test keeps it equal to DEFAULT_CANARY_PERCENT. */
export const HELP_DEFAULT_PERCENT = 10;

const stackOption = () =>
  new Option("-s, --stack <name>", "stack whose Pulumi.<name>.yaml to edit").makeOptionMandatory();

export function registerCanary(program: Command): void {
  const canary = program
    .command("canary")
    .description("Start, move, promote and roll back canary releases by editing the stack file")
    .addHelpText(
      "after",
      "\nEach command edits Pulumi.<stack>.yaml in place (comments kept) and refuses anything Cloud Run would\n" +
        "reject, leaving the file untouched. Nothing is deployed until `pulumi up`.",
    );

  canary
    .command("start <service>")
    .description("Start a canary: the new image takes a share of traffic, stable keeps the rest")
    .requiredOption("--image <ref>", "the new release, REPOSITORY@sha256:DIGEST")
    .option(
      "--percent <n>",
      `share of traffic for the canary, 0 for a dark launch (default ${HELP_DEFAULT_PERCENT})`,
    )
    .addOption(stackOption())
    .action(async (service: string, opts: { image: string; percent?: string; stack: string }) =>
      (await actions()).start(service, opts),
    );

  canary
    .command("set <service> <percent>")
    .description("Move the canary to a new share of traffic (no new revision)")
    .addOption(stackOption())
    .action(async (service: string, percent: string, opts: { stack: string }) =>
      (await actions()).set(service, percent, opts),
    );

  canary
    .command("promote <service>")
    .description("Make the canary the stable release at 100% (no new revision)")
    .addOption(stackOption())
    .action(async (service: string, opts: { stack: string }) => (await actions()).promote(service, opts));

  canary
    .command("rollback <service>")
    .description("Send 100% back to stable; the canary stays reachable at its tag URL with 0%")
    .addOption(stackOption())
    .action(async (service: string, opts: { stack: string }) => (await actions()).rollback(service, opts));

  canary
    .command("status")
    .description("Show every service's release state and traffic split")
    .option("-s, --stack <name>", "one stack (default: every Pulumi.<stack>.yaml)")
    .option(
      "--live",
      "also read what each region serves from the deployed stack (`pulumi stack output`); a region that disagrees with the others is an error",
    )
    .option("--json", "print JSON")
    .action(async (opts: { stack?: string; json?: boolean; live?: boolean }) =>
      (await actions()).status(opts),
    );
}
