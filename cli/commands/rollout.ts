import { Option, type Command } from "@commander-js/extra-typings";
import { JUDGMENT_DEFAULTS } from "../../model/judgment/settings";
import { parseProbability, parseRatios, parseVariance } from "../rollout/judgmentFlags";
import { DEFAULT_MAX_FAILED_READS, DEFAULT_MAX_INTERVALS, DEFAULT_READY_TIMEOUT } from "../rollout/steps";
import {
  allowVulnerableOption,
  duration,
  jsonOption,
  parsed,
  positiveNumber,
  stackOption,
  steps,
  usage,
} from "./options";
import * as run from "../rollout/run";
import * as judge from "../rollout/judgeCommand";

const d = JUDGMENT_DEFAULTS;
const ratios = (r: Record<string, number>) =>
  `5xx=${r.errors},4xx=${r.clientErrors},slow=${r.slow},latency=${r.latency},tokens=${r.tokens},provider=${r.providerErrors}`;

/**
 * The analysis flags, declared once: `orchestra rollout` judges with them and `orchestra rollout judge`
 * replays with the same ones.
 */
const analysis = {
  interval: () =>
    parsed("--interval <duration>", "bake time per analysis interval (30s, 10m, 1h)", duration, "10m"),
  maxIntervals: () =>
    parsed(
      "--max-intervals <n>",
      "looks per step; the last decides on what was seen",
      positiveNumber(true),
      String(DEFAULT_MAX_INTERVALS),
    ),
  minRequests: () =>
    parsed(
      "--min-requests <n>",
      "canary requests per region a step needs to advance on what was seen",
      positiveNumber(true),
      String(d.minRequests),
    ),
  budget: () =>
    parsed(
      "--budget <probability>",
      "false-rollback budget for the whole rollout (all steps, looks, tests and regions)",
      usage(parseProbability),
      String(d.budget),
    ),
  passRisk: () =>
    parsed(
      "--pass-risk <probability>",
      "per step, the chance a canary as bad as --detect passes before its last look",
      usage(parseProbability),
      String(d.passRisk),
    ),
  margins: () =>
    new Option(
      "--margins <list>",
      `regressions smaller than these canary/reference ratios never roll back (default: ${ratios(d.margins)})`,
    ).argParser(usage(parseRatios)),
  detect: () =>
    new Option(
      "--detect <list>",
      `regressions a pass must rule out, canary/reference ratios (default: ${ratios(d.detect)})`,
    ).argParser(usage(parseRatios)),
  baseline: () =>
    new Option("--no-baseline", "compare the canary with stable even when a baseline revision serves"),
  llm: () =>
    new Option(
      "--no-llm",
      "do not judge model calls (output tokens per call, provider errors) of a service that logs them",
    ),
  variance: () =>
    parsed(
      "--variance <kind>",
      "request: each request is an observation; interval: each interval is one (robust to bad minutes, slower)",
      usage(parseVariance),
      d.variance,
    ),
  maxErrorRatio: (fallback: string) =>
    new Option("--max-error-ratio <ratio>", `absolute 5xx ratio guard (default: ${fallback})`).argParser(
      positiveNumber(false),
    ),
  maxP95: (fallback: string) =>
    new Option("--max-p95 <ms>", `absolute p95 latency guard in ms (default: ${fallback})`).argParser(
      positiveNumber(false),
    ),
};

/** Every option parsed on the command line, so a bad value is a usage error before the rollout starts. */
function defineRollout(program: Command) {
  return (
    program
      .command("rollout")
      // `rollout judge` shares the analysis flags: after `judge` they are its own, not the rollout's.
      .enablePositionalOptions()
      .argument("<service>")
      .description(
        "Progressive canary rollout: step the traffic up, verify and judge each step, promote or roll back",
      )
      // Checked in the action rather than by commander, which would also demand it of `rollout judge`.
      .addOption(stackOption("stack whose Pulumi.<name>.yaml to roll out (required)"))
      .option(
        "--image <ref>",
        "the new release, REPOSITORY@sha256:DIGEST (default: continue the current canary)",
      )
      .addOption(allowVulnerableOption())
      .option(
        "--with-baseline",
        "start the canary with a baseline: the stable release deployed afresh at the canary's percent, judged against it",
      )
      .addOption(parsed("--steps <list>", "canary percents, increasing, ending at 100", steps, "5,25,50,100"))
      .addOption(analysis.interval())
      .addOption(analysis.maxIntervals())
      .addOption(
        parsed(
          "--metrics-lag <duration>",
          "how far behind Cloud Monitoring points may arrive (a read sooner after its window is incomplete)",
          duration,
          "4m",
        ),
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
      .addOption(analysis.minRequests())
      .addOption(analysis.budget())
      .addOption(analysis.passRisk())
      .addOption(analysis.margins())
      .addOption(analysis.detect())
      .addOption(analysis.baseline())
      .addOption(analysis.llm())
      .addOption(analysis.variance())
      .addOption(analysis.maxErrorRatio("the service's errorRatio alert"))
      .addOption(analysis.maxP95("the service's latency alert"))
      .option("--report <path>", "write the report to <path>.json and <path>.md", "rollout-report")
      .option("--resume", "continue an interrupted rollout from its last verified step")
      .option("--dry-run", "print the plan and change nothing")
      .addOption(
        parsed(
          "--expected-requests <n>",
          "with --dry-run: canary requests per interval at the first step, for the smallest regression it can detect",
          positiveNumber(true),
          "1000",
        ),
      )
      .addHelpText(
        "after",
        "\nChecks first (nothing is changed if one fails): a new --image passes the stack's vulnerability gate\n" +
          "(docs/vulnerability-gate.md; --dry-run runs it too), then the Pulumi CLI, its login, the stack, the secrets provider,\n" +
          "and that Cloud Run's Admin API can be read in every region. A new --image is started staged (its revision\n" +
          "created, no traffic) and applied; once Cloud Run reports it ready in every region, each step sets the canary\n" +
          "percent, runs `pulumi up` (Automation API, in a temporary copy of the project), verifies the split from\n" +
          "Cloud Run itself, smoke-tests the canary, bakes, then judges canary against stable (or a baseline) from\n" +
          "Cloud Monitoring, per region. No step goes above the stack's policy.maxCanaryPercent, and a running canary\n" +
          "is never lowered. After the last step the canary is promoted; any failure rolls back (stable 100%).\n" +
          "With --with-baseline, the stable release is first deployed afresh as a baseline (tag baseline) and serves\n" +
          "at the canary's percent beside it, up to 49%; --no-baseline judges against stable even so.\n" +
          "Pulumi.<stack>.yaml takes a state only once it was applied. The report (--report .json/.md, and\n" +
          "$GITHUB_STEP_SUMMARY in Actions) is written at every end; `orchestra rollout judge` replays its data.\n" +
          "Exit codes: 0 promoted, 1 rolled back or interrupted, 2 refused before any change (usage, preflight,\n" +
          "lock, nothing to resume), 3 failed with state to check (an apply failed or is not confirmed live; the\n" +
          "report names the command to run), 130 interrupted by Ctrl-C (SIGINT), 143 by SIGTERM.",
      )
  );
}

function defineJudge(rollout: ReturnType<typeof defineRollout>) {
  return rollout
    .command("judge")
    .description(
      "Replay recorded metrics through the rollout's judgment: promote or rollback, where and why, per scenario",
    )
    .addOption(
      new Option(
        "--input <file>",
        "the judge input as JSON (- for stdin): { scenarios: [...] }",
      ).makeOptionMandatory(),
    )
    .addOption(jsonOption('{ "scenarios": [{ name, decision, step, interval, reason }] }'))
    .addOption(analysis.interval())
    .addOption(analysis.maxIntervals())
    .addOption(analysis.minRequests())
    .addOption(analysis.budget())
    .addOption(analysis.passRisk())
    .addOption(analysis.margins())
    .addOption(analysis.detect())
    .addOption(analysis.baseline())
    .addOption(analysis.llm())
    .addOption(analysis.variance())
    .addOption(analysis.maxErrorRatio(String(d.guards.maxErrorRatio)))
    .addOption(analysis.maxP95(String(d.guards.maxP95Ms)))
    .addHelpText(
      "after",
      "\nThe input holds, per scenario, each step's percent and its intervals in order (each interval's own\n" +
        "canary, stable and optional baseline data, optionally per region): see docs/canary-and-rollout.md.\n" +
        "Each step reads its intervals one per look, exactly as a rollout would; a step whose intervals run out\n" +
        "is decided as at --max-intervals. A rollout report (--report) converts to this input with the jq line\n" +
        "in the docs. Exit codes: 0 judged, 1 the input is invalid (the scenario and field are named).",
    );
}

/** The rollout's options as commander parses them, --stack checked present. */
export type RolloutFlags = Omit<ReturnType<ReturnType<typeof defineRollout>["opts"]>, "stack"> & {
  readonly stack: string;
};
export type JudgeFlags = ReturnType<ReturnType<typeof defineJudge>["opts"]>;

export function registerRollout(program: Command): void {
  const rollout = defineRollout(program).action(async (service, opts, cmd) => {
    const stack = opts.stack;
    if (stack === undefined) return cmd.error("error: required option '-s, --stack <name>' not specified");
    await run.rollout(service, { ...opts, stack });
  });
  defineJudge(rollout).action(async (opts) => judge.judgeCommand(opts));
}
