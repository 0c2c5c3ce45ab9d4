import type { Command } from "@commander-js/extra-typings";
import { DEFAULT_MAX_INTERVALS } from "../rollout/steps";
import { duration, parsed, positiveNumber, requiredStackOption, steps } from "./options";
import * as run from "../rollout/run";

/** Every option parsed on the command line, so a bad value is a usage error before the rollout starts. */
function defineRollout(program: Command) {
  return program
    .command("rollout")
    .argument("<service>")
    .description(
      "Progressive canary rollout: step the traffic up, verify and analyse each step, promote or roll back",
    )
    .addOption(requiredStackOption("stack whose Pulumi.<name>.yaml to roll out"))
    .option(
      "--image <ref>",
      "the new release, REPOSITORY@sha256:DIGEST (default: continue the current canary)",
    )
    .addOption(parsed("--steps <list>", "canary percents, increasing, ending at 100", steps, "5,25,50,100"))
    .addOption(
      parsed("--interval <duration>", "bake time per analysis interval (30s, 10m, 1h)", duration, "10m"),
    )
    .addOption(
      parsed(
        "--max-intervals <n>",
        "analyses per step before it is decided on what was seen",
        positiveNumber(true),
        String(DEFAULT_MAX_INTERVALS),
      ),
    )
    .addOption(
      parsed("--metrics-lag <duration>", "how far behind Cloud Monitoring points may arrive", duration, "2m"),
    )
    .addOption(
      parsed(
        "--min-requests <n>",
        "requests per revision below which nothing is judged",
        positiveNumber(true),
        "100",
      ),
    )
    .option(
      "--max-error-ratio <ratio>",
      "absolute 5xx ratio guard (default: the service's errorRatio alert)",
      positiveNumber(false),
    )
    .option(
      "--max-p95 <ms>",
      "absolute p95 latency guard in ms (default: the service's latency alert)",
      positiveNumber(false),
    )
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
    );
}

/** The rollout's options as commander parses them. */
export type RolloutFlags = ReturnType<ReturnType<typeof defineRollout>["opts"]>;

export function registerRollout(program: Command): void {
  defineRollout(program).action(async (service, opts) => run.rollout(service, opts));
}
