import type { Command } from "@commander-js/extra-typings";
import { DEFAULT_MAX_FAILED_READS, DEFAULT_MAX_INTERVALS, DEFAULT_READY_TIMEOUT } from "../rollout/steps";
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
    .option(
      "--baseline",
      "start the canary with a baseline: the stable release deployed afresh at the canary's percent, compared with it",
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
        "--ready-timeout <duration>",
        "how long Cloud Run may take to report an applied state (revision ready, split served)",
        duration,
        DEFAULT_READY_TIMEOUT,
      ),
    )
    .addOption(
      parsed(
        "--max-failed-reads <n>",
        "metric reads failing in a row (after retries) before the canary is rolled back",
        positiveNumber(true),
        String(DEFAULT_MAX_FAILED_READS),
      ),
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
      "\nChecks first (nothing is changed if one fails): the Pulumi CLI, its login, the stack, the secrets provider,\n" +
        "and that Cloud Run's Admin API can be read in every region. A new --image is started staged (its revision\n" +
        "created, no traffic) and applied; once Cloud Run reports it ready in every region, each step sets the canary\n" +
        "percent, runs `pulumi up` (Automation API, in a temporary copy of the project), verifies the split from\n" +
        "Cloud Run itself, smoke-tests the canary, bakes, then compares canary with stable in Cloud Monitoring. No step\n" +
        "goes above the stack's policy.maxCanaryPercent, and a running canary is never lowered. After the last step\n" +
        "the canary is promoted; any failure rolls back (stable 100%). With --baseline, the stable release is first\n" +
        "deployed afresh as a baseline (tag baseline) and serves at the canary's percent beside it, up to 49%.\n" +
        "Pulumi.<stack>.yaml takes a state only once it was applied. The report (--report .json/.md, and\n" +
        "$GITHUB_STEP_SUMMARY in Actions) is written at every end.\n" +
        "Exit codes: 0 promoted, 1 rolled back or interrupted, 2 refused before any change (usage, preflight,\n" +
        "lock, nothing to resume), 3 failed with state to check (an apply failed or is not confirmed live; the\n" +
        "report names the command to run), 130 interrupted by Ctrl-C (SIGINT), 143 by SIGTERM.",
    );
}

/** The rollout's options as commander parses them. */
export type RolloutFlags = ReturnType<ReturnType<typeof defineRollout>["opts"]>;

export function registerRollout(program: Command): void {
  defineRollout(program).action(async (service, opts) => run.rollout(service, opts));
}
