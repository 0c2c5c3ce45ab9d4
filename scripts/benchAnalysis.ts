import { ANALYSIS_DEFAULTS } from "../cli/rollout/analysis";
import { DEFAULT_MAX_INTERVALS } from "../cli/rollout/steps";
import {
  BASE_ERROR_RATIO,
  BASE_MEDIAN_MS,
  SCENARIOS,
  simulate,
  type BenchRow,
} from "../cli/rollout/simulate";

/**
 * `npm run bench:analysis [-- --json] [-- --trials N]`: how often the rollout analysis rolls back a
 * healthy canary (aa) and catches a regressed one (error2x, p95plus30), across canary weights and
 * traffic levels. Seeded: every run prints the same numbers.
 */
const args = process.argv.slice(2);
const json = args.includes("--json");
const trialsAt = args.indexOf("--trials");
const trials = trialsAt >= 0 ? Number(args[trialsAt + 1]) : 1000;

const settings = { ...ANALYSIS_DEFAULTS, maxErrorRatio: 1, maxP95Ms: Number.MAX_VALUE };
const rows: BenchRow[] = [];
let seed = 1;
for (const scenario of SCENARIOS)
  for (const canaryPercent of [5, 25, 50])
    for (const requestsPerInterval of [50, 200, 1000, 5000])
      rows.push(
        simulate(
          scenario,
          canaryPercent,
          requestsPerInterval,
          settings,
          DEFAULT_MAX_INTERVALS,
          trials,
          seed++,
        ),
      );

if (json) {
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
} else {
  const f = (x: number | null) => (x === null ? "-" : `${(x * 100).toFixed(1)}%`);
  process.stdout.write(
    `Model: stable 5xx ${BASE_ERROR_RATIO * 100}%, log-normal latency median ${BASE_MEDIAN_MS} ms; ` +
      `${trials} trials per row; at most ${DEFAULT_MAX_INTERVALS} analyses per step; ` +
      `fail p < ${settings.failPValue}, pass p > ${settings.passPValue}; absolute guards off.\n\n`,
  );
  const head = [
    "scenario",
    "canary %",
    "canary req/interval",
    "false rollback",
    "detection",
    "mean intervals",
  ];
  const lines = [
    head,
    ...rows.map((r) => [
      r.scenario,
      String(r.canaryPercent),
      String(r.requestsPerInterval),
      f(r.falseRollbackRate),
      f(r.detectionRate),
      r.meanIntervalsToDecision.toFixed(2),
    ]),
  ];
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  process.stdout.write(lines.map((l) => l.map((c, i) => c.padEnd(widths[i])).join("  ")).join("\n") + "\n");
}
