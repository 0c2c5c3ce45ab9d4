/**
 * `npm run bench:analysis [-- --json] [-- --trials N] [-- --write-docs]`: whole rollouts (steps 5, 25, 50, 100; 10-minute
 * intervals; at most 6 looks per step) simulated by bench/rolloutSim.ts and judged with the default
 * settings by the rollout's own judgment, for each scenario of the judgment's targets and 50, 200,
 * 1,000 and 10,000 canary requests per interval at the 5% step. Seeded: every run prints the same
 * numbers. Prints each target as met or NOT met with its number and the Monte Carlo error. With
 * --write-docs the table also replaces the one between the bench:analysis markers of
 * docs/canary-and-rollout.md, so the numbers there are this script's, never typed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { JUDGMENT_DEFAULTS, type JudgmentSettings } from "../model/judgment/settings";
import { INTERVAL_MINUTES, MODEL, prng, simulateRollout, STEPS, type Scenario } from "../bench/rolloutSim";

const args = process.argv.slice(2);
const json = args.includes("--json");
const trialsAt = args.indexOf("--trials");
const trials = trialsAt >= 0 ? Number(args[trialsAt + 1]) : 1000;
if (!Number.isInteger(trials) || trials < 1) {
  process.stderr.write(`--trials must be a whole number above 0; got "${args[trialsAt + 1]}".\n`);
  process.exit(2);
}

const TRAFFIC = [50, 200, 1000, 10_000] as const;

const SCENARIOS: readonly Scenario[] = [
  { name: "identical, 0.1% 5xx", baseErrorRatio: 0.001 },
  { name: "identical, 2% 5xx", baseErrorRatio: 0.02 },
  {
    name: "identical, heterogeneous revisions, baseline on",
    baseErrorRatio: 0.02,
    heterogeneity: true,
    baseline: true,
  },
  { name: "identical, heterogeneous revisions, baseline off", baseErrorRatio: 0.02, heterogeneity: true },
  { name: "every request 2% slower", baseErrorRatio: 0.02, latencyFactor: 1.02 },
  { name: "5xx x1.2 at 0.1%", baseErrorRatio: 0.001, errorFactor: 1.2 },
  { name: "5xx x2 at 2%", baseErrorRatio: 0.02, errorFactor: 2 },
  { name: "5xx x2 at 0.1%", baseErrorRatio: 0.001, errorFactor: 2 },
  { name: "every latency quantile +30%", baseErrorRatio: 0.02, latencyFactor: 1.3 },
  { name: "p95 +30%, p50 unchanged", baseErrorRatio: 0.02, tailFactor: 1.3 },
  { name: "every canary request 4xx", baseErrorRatio: 0.02, all4xx: true },
];

type Measure = "rollback" | "before50" | "firstLook" | "minutes";
interface Target {
  readonly scenario: string;
  readonly traffic: readonly number[];
  readonly measure: Measure;
  readonly atMost?: number;
  readonly atLeast?: number;
}
/** The judgment's targets (docs/canary-and-rollout.md), checked against the rows below. */
const TARGETS: readonly Target[] = [
  { scenario: "identical, 0.1% 5xx", traffic: TRAFFIC, measure: "rollback", atMost: 0.01 },
  { scenario: "identical, 2% 5xx", traffic: TRAFFIC, measure: "rollback", atMost: 0.01 },
  {
    scenario: "identical, heterogeneous revisions, baseline on",
    traffic: TRAFFIC,
    measure: "rollback",
    atMost: 0.02,
  },
  { scenario: "every request 2% slower", traffic: TRAFFIC, measure: "rollback", atMost: 0.02 },
  { scenario: "5xx x1.2 at 0.1%", traffic: [10_000], measure: "rollback", atMost: 0.05 },
  { scenario: "5xx x2 at 2%", traffic: [200], measure: "before50", atLeast: 0.95 },
  { scenario: "5xx x2 at 2%", traffic: [1000], measure: "before50", atLeast: 0.99 },
  { scenario: "5xx x2 at 0.1%", traffic: [10_000], measure: "before50", atLeast: 0.95 },
  { scenario: "every latency quantile +30%", traffic: TRAFFIC, measure: "before50", atLeast: 1 },
  { scenario: "p95 +30%, p50 unchanged", traffic: [200], measure: "before50", atLeast: 0.8 },
  { scenario: "p95 +30%, p50 unchanged", traffic: [1000], measure: "before50", atLeast: 0.95 },
  { scenario: "every canary request 4xx", traffic: TRAFFIC, measure: "firstLook", atLeast: 1 },
  { scenario: "identical, 0.1% 5xx", traffic: [1000], measure: "minutes", atMost: 120 },
  { scenario: "identical, 2% 5xx", traffic: [1000], measure: "minutes", atMost: 120 },
];

interface Row {
  readonly scenario: string;
  readonly canaryRequestsPerInterval: number;
  readonly trials: number;
  /** Whole-rollout rollback rate. */
  readonly rollback: number;
  /** Rolled back before the canary reached 50%. */
  readonly before50: number;
  /** Rolled back at the first look of the first step. */
  readonly firstLook: number;
  /** Mean minutes from the first step's start to the decision (promote or roll back). */
  readonly minutes: number;
  /** Standard errors of the above. */
  readonly se: { readonly rate: number; readonly minutes: number };
}

/** The defaults, with the guards a rollout would take from the model service's alerts. */
const settings: JudgmentSettings = { ...JUDGMENT_DEFAULTS, guards: MODEL.alerts };
const started = Date.now();
const rows: Row[] = [];
let seed = 1;
for (const sc of SCENARIOS)
  for (const traffic of TRAFFIC) {
    const rand = prng(seed++);
    let rollback = 0;
    let before50 = 0;
    let firstLook = 0;
    const minutes: number[] = [];
    for (let t = 0; t < trials; t++) {
      const o = simulateRollout(sc, traffic, settings, rand);
      if (o.decision === "rollback") {
        rollback++;
        if (o.step < 50) before50++;
        if (o.step === STEPS[0] && o.look === 1) firstLook++;
      }
      minutes.push(o.minutes);
    }
    const mean = minutes.reduce((a, b) => a + b, 0) / trials;
    const sd = Math.sqrt(minutes.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, trials - 1));
    const worst = Math.max(rollback, trials - rollback);
    rows.push({
      scenario: sc.name,
      canaryRequestsPerInterval: traffic,
      trials,
      rollback: rollback / trials,
      before50: before50 / trials,
      firstLook: firstLook / trials,
      minutes: mean,
      // The largest binomial standard error of the row's rates is at the rollback rate's worse side.
      se: {
        rate: Math.sqrt(((worst / trials) * (1 - worst / trials)) / trials) || 0,
        minutes: sd / Math.sqrt(trials),
      },
    });
  }

const results = TARGETS.flatMap((t) =>
  t.traffic.map((traffic) => {
    const row = rows.find((r) => r.scenario === t.scenario && r.canaryRequestsPerInterval === traffic)!;
    const value = row[t.measure];
    const met = t.atMost !== undefined ? value <= t.atMost : value >= t.atLeast!;
    return { ...t, traffic, value, met };
  }),
);
const seconds = (Date.now() - started) / 1000;

if (json) {
  process.stdout.write(
    `${JSON.stringify({ trials, seconds, settings, model: MODEL, rows, targets: results }, null, 2)}\n`,
  );
} else {
  const pc = (x: number) => `${(x * 100).toFixed(1)}%`;
  const out: string[] = [];
  out.push(
    `Whole rollouts: steps ${STEPS.join(", ")}; ${INTERVAL_MINUTES}-minute intervals; at most ${settings.maxIntervals} looks per step; ` +
      `default settings (budget ${settings.budget}; guards from the model service's alerts: 5xx ${settings.guards.maxErrorRatio * 100}%, ` +
      `p95 ${settings.guards.maxP95Ms} ms). ` +
      `${trials} rollouts per row; seeded. Monte Carlo standard error of a rate p: sqrt(p(1-p)/${trials}) ` +
      `(${pc(Math.sqrt((0.01 * 0.99) / trials))} at 1%, ${pc(Math.sqrt((0.05 * 0.95) / trials))} at 5%).`,
    "",
  );
  const head = ["scenario", "canary req/interval", "rollback", "before 50%", "at first look", "mean minutes"];
  const lines = [
    head,
    ...rows.map((r) => [
      r.scenario,
      String(r.canaryRequestsPerInterval),
      pc(r.rollback),
      pc(r.before50),
      pc(r.firstLook),
      `${r.minutes.toFixed(0)} ± ${r.se.minutes.toFixed(0)}`,
    ]),
  ];
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  out.push(
    ...lines.map((l) =>
      l
        .map((c, i) => c.padEnd(widths[i]))
        .join("  ")
        .trimEnd(),
    ),
    "",
  );
  const names: Record<Measure, string> = {
    rollback: "rolled back",
    before50: "rolled back before 50%",
    firstLook: "rolled back at the first look",
    minutes: "mean minutes to promote",
  };
  for (const r of results) {
    const shown = r.measure === "minutes" ? r.value.toFixed(0) : pc(r.value);
    const bound =
      r.atMost !== undefined
        ? `at most ${r.measure === "minutes" ? r.atMost : pc(r.atMost)}`
        : `at least ${pc(r.atLeast!)}`;
    out.push(
      `${r.met ? "met    " : "NOT met"}  ${r.scenario}, ${r.traffic} req/interval: ${names[r.measure]} ${shown} (target ${bound})`,
    );
  }
  out.push("", `${results.filter((r) => r.met).length} of ${results.length} targets met.`);
  process.stdout.write(`${out.join("\n")}\n(${seconds.toFixed(0)} s)\n`);
  if (args.includes("--write-docs")) {
    const page = path.join(__dirname, "..", "docs", "canary-and-rollout.md");
    const begin = "<!-- bench:analysis:begin -->";
    const end = "<!-- bench:analysis:end -->";
    const [before, rest] = fs.readFileSync(page, "utf8").split(begin);
    const after = rest?.split(end)[1];
    if (after === undefined) throw new Error(`${page} has no ${begin} ... ${end} section.`);
    const fence = "```";
    fs.writeFileSync(
      page,
      `${before}${begin}\n\n${fence}text\n${out.join("\n")}\n${fence}\n\n${end}${after}`,
    );
  }
}
