import type { Command } from "@commander-js/extra-typings";
import { allowVulnerableOption, jsonOption, percent, requiredStackOption, stackOption } from "./options";
import * as actions from "../canary/actions";
import { DEFAULT_CANARY_PERCENT } from "../../model/canary/lifecycle";
import { CLOUD_RUN_ENDPOINT_ENV } from "../live/endpoint";

const editedStack = () => requiredStackOption("stack whose Pulumi.<name>.yaml to edit");

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
    .command("start")
    .argument("<service>")
    .description("Start a canary: the new image takes a share of traffic, stable keeps the rest")
    .requiredOption("--image <ref>", "the new release, REPOSITORY@sha256:DIGEST")
    .option(
      "--percent <n>",
      `share of traffic for the canary, 0 for a dark launch (default ${DEFAULT_CANARY_PERCENT})`,
      percent,
    )
    .option(
      "--baseline",
      "also deploy the stable release afresh at the canary's percent (tag `baseline`), to compare like with like",
    )
    .addOption(editedStack())
    .option(
      "--live",
      "check the stable pin against what Cloud Run serves, instead of against the last commit",
    )
    .addOption(allowVulnerableOption())
    .addHelpText(
      "after",
      "\nThe image first passes the stack's vulnerability gate (ai-orchestra:vulnerabilityGate,\n" +
        "docs/vulnerability-gate.md): its linux/amd64 image's findings are read from Container Analysis, waited for\n" +
        "while not ready, and fixable ones at or above the stack's severity refuse it (prod) or are printed (elsewhere).\n" +
        "\nStable is pinned to the revision its settings give, which must be the one deployed: the command\n" +
        "refuses when those settings differ from the last commit's (an uncommitted change was never deployed),\n" +
        "or, with --live, from what Cloud Run serves as stable in every region (Application Default Credentials\n" +
        `with roles/run.viewer; ${CLOUD_RUN_ENDPOINT_ENV}=http://HOST:PORT for an emulator).`,
    )
    .action(async (service, opts) => actions.start(service, opts));

  canary
    .command("set")
    .argument("<service>")
    .argument("<percent>", "", percent)
    .description("Move the canary to a new share of traffic (no new revision)")
    .option("--drop-baseline", "remove the baseline's traffic and tag; the canary is compared with stable")
    .addOption(editedStack())
    .addHelpText(
      "after",
      "\nA staged canary enters the traffic list here, and Cloud Run refuses a list naming a revision that is\n" +
        "not ready, so its readiness is first read from the Cloud Run Admin API in every region of the service\n" +
        "(Application Default Credentials with run.services.get and run.revisions.list, e.g. roles/run.viewer;\n" +
        `${CLOUD_RUN_ENDPOINT_ENV}=http://HOST:PORT for an emulator). Unless it is ready everywhere, nothing is\n` +
        "written and the error names each region with Cloud Run's reason and the next step. With a baseline,\n" +
        "the baseline is created first: the first `set` finds it ready and lets the next `pulumi up` create the\n" +
        "canary; the second finds the canary ready and gives both the percent.",
    )
    .action(async (service, p, opts) => actions.set(service, p, opts));

  canary
    .command("promote")
    .argument("<service>")
    .description("Make the canary the stable release at 100% (no new revision)")
    .addOption(editedStack())
    .action(async (service, opts) => actions.promote(service, opts));

  canary
    .command("rollback")
    .argument("<service>")
    .description(
      "Back to the exact stable revision at 100%, whether or not the canary became ready (offline)",
    )
    .addOption(editedStack())
    .action(async (service, opts) => actions.rollback(service, opts));

  canary
    .command("status")
    .description("Show every service's release state and traffic split")
    .addOption(stackOption("one stack (default: every Pulumi.<stack>.yaml)"))
    .option(
      "--live",
      "also read every region from the Cloud Run Admin API, compare it with the stack file and give the next step",
    )
    .addOption(jsonOption())
    .addHelpText(
      "after",
      "\nWith --live, each region shows its health (healthy, reconciling, failed), the latest ready revision,\n" +
        "the latest created one when it differs (and why it failed), what serves against what the stack file\n" +
        "asks, and the canary revision's readiness; then one next step per service. It exits 1 when a region\n" +
        "cannot be read (with the reason and the fix), regions serve different splits, or a region's last\n" +
        "update failed. Credentials: Application Default Credentials with roles/run.viewer;\n" +
        `${CLOUD_RUN_ENDPOINT_ENV}=http://HOST:PORT reads an emulator instead.`,
    )
    .action(async (opts) => actions.status(opts));
}
