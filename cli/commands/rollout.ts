import type { Command } from "commander";
import { Option } from "commander";

/** Loaded on use: the rollout pulls in the Automation API and Cloud Monitoring clients. */
const run = () => import("../rollout/run");

export function registerRollout(program: Command): void {
  program
    .command("rollout <service>")
    .description(
      "Progressive canary rollout: step the traffic up, verify and analyse each step, promote or roll back",
    )
    .addOption(
      new Option("-s, --stack <name>", "stack whose Pulumi.<name>.yaml to roll out").makeOptionMandatory(),
    )
    .option(
      "--image <ref>",
      "the new release, REPOSITORY@sha256:DIGEST (default: continue the current canary)",
    )
    .option("--steps <list>", "canary percents, increasing, ending at 100", "5,25,50,100")
    .option("--interval <duration>", "bake time per analysis interval (30s, 10m, 1h)", "10m")
    .option("--max-intervals <n>", "analyses per step before it is decided on what was seen", "6")
    .option("--metrics-lag <duration>", "how far behind Cloud Monitoring points may arrive", "2m")
    .option("--min-requests <n>", "requests per revision below which nothing is judged", "100")
    .option("--max-error-ratio <ratio>", "absolute 5xx ratio guard (default: the service's errorRatio alert)")
    .option("--max-p95 <ms>", "absolute p95 latency guard in ms (default: the service's latency alert)")
    .option("--report <path>", "write the report to <path>.json and <path>.md", "rollout-report")
    .option("--resume", "continue an interrupted rollout from its last verified step")
    .option("--dry-run", "print the plan and change nothing")
    .addHelpText(
      "after",
      "\nEach step: set the canary percent, `pulumi up` (Automation API, in a temporary copy of the project),\n" +
        "verify that every region made the canary revision ready at the step's percent, smoke-test it, bake,\n" +
        "then compare canary with stable in Cloud Monitoring (two-proportion test on the 5xx ratio, Mann-Whitney U\n" +
        "on latency, absolute guards). Pulumi.<stack>.yaml takes a step once it is verified. After the last step\n" +
        "the canary is promoted. Any failure rolls back (stable 100%) and applies it.\n" +
        "Exit codes: 0 promoted, 1 rolled back or failed, 2 usage error, 130 interrupted (Ctrl-C), 143 SIGTERM.",
    )
    .action(async (service: string, opts: RolloutFlags) => (await run()).rollout(service, opts));
}

export interface RolloutFlags {
  stack: string;
  image?: string;
  steps: string;
  interval: string;
  maxIntervals: string;
  metricsLag: string;
  minRequests: string;
  maxErrorRatio?: string;
  maxP95?: string;
  report: string;
  resume?: boolean;
  dryRun?: boolean;
}
