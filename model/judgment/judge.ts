import {
  addBuckets,
  commonBuckets,
  countFrom,
  countPossiblyAbove,
  quantile,
  quantileEdge,
  scaleBuckets,
  toBuckets,
  total,
  type Buckets,
} from "./distribution";
import {
  intervalRegions,
  type Distribution,
  type Interval,
  type LlmSide,
  type RegionSides,
  type ScenarioInput,
  type Side,
} from "./input";
import type { JudgmentSettings } from "./settings";
import {
  detectableRatio,
  exceedsLimit,
  mannWhitney,
  meanAbove,
  rateAbove,
  rateBelow,
  underLimit,
} from "./tests";

/**
 * The false-rollback budget as spent so far: the rollout's state file carries it, so a resumed rollout
 * goes on spending what was left rather than starting over.
 */
export interface BudgetState {
  readonly total: number;
  readonly spent: number;
}

/** One revision's sums over the step so far. */
interface SideSum {
  readonly requests: number;
  readonly errors: number;
  readonly clientErrors: number;
  readonly latency?: Buckets;
  /** Its model calls, when the data has them. */
  readonly llm?: LlmSum;
}

interface LlmSum {
  readonly calls: number;
  readonly providerErrors: number;
  readonly tokens?: Buckets;
  /** Time to first token, in ms like request latency. */
  readonly ttft?: Buckets;
  /** The data carried time to first token: the service streams, and its latency is that. */
  readonly streams: boolean;
}

interface RegionSum {
  readonly canary: SideSum;
  readonly stable: SideSum;
  readonly baseline: SideSum;
  /** Each look's own data, for per-interval variance. */
  readonly looks: readonly RegionSides[];
}

export interface StepState {
  readonly percent: number;
  /** Looks judged so far in this step. */
  readonly looks: number;
  /** The share of the budget this step may spend over its looks. */
  readonly allowance: number;
  readonly regions: Readonly<Record<string, RegionSum>>;
}

export interface JudgeState {
  readonly budget: BudgetState;
  readonly step?: StepState;
}

export type TestName =
  | "traffic"
  | "sampleRatio"
  | "errors"
  | "clientErrors"
  | "slow"
  | "latency"
  | "errorGuard"
  | "p95Guard"
  | "tokens"
  | "providerErrors";

/** fail: a regression beyond the margin (for sampleRatio: the split does not match); pass: evidence
 * the detectable regression is absent; open: neither yet. */
export type Outcome = "fail" | "pass" | "open";

export interface Verdict {
  /** "" when the interval has no regions. */
  readonly region: string;
  readonly test: TestName;
  readonly outcome: Outcome;
  /** Plain words with the numbers behind the verdict. */
  readonly explanation: string;
  readonly values: Readonly<Record<string, number | null>>;
}

export type Decision = "wait" | "advance" | "rollback";

export interface LookResult {
  readonly decision: Decision;
  readonly reason: string;
  readonly verdicts: readonly Verdict[];
  readonly state: JudgeState;
  /** This look's number in its step, 1-based. */
  readonly look: number;
}

export const startRollout = (s: Pick<JudgmentSettings, "budget">): JudgeState => ({
  budget: { total: s.budget, spent: 0 },
});

/**
 * How the budget is shared, fixed before any data is seen (so the shares add up to the budget):
 * a step at 100% runs only the two guards, which a canary within its limits almost never trips, so it
 * weighs a quarter of a step with comparisons; within a look the guards get a tenth, the four
 * comparisons the rest.
 */
const GUARDS_ONLY_STEP_WEIGHT = 0.25;
const GUARD_SHARE = 0.1;
/** Comparisons per region in a look: 5xx, 4xx, slow and latency; model calls add tokens and provider errors. */
const COMPARISONS = 4;
const LLM_COMPARISONS = 2;

/** The comparisons one region runs in a look, with model calls judged or not. */
export const comparisons = (llm: boolean): number => COMPARISONS + (llm ? LLM_COMPARISONS : 0);
const stepWeight = (percent: number) => (percent < 100 ? 1 : GUARDS_ONLY_STEP_WEIGHT);

/**
 * A new step's share of what is left of the budget, by weight among the steps left (`later` are the
 * percents of the steps after this one). What a step that passed early did not spend goes to the
 * later ones: each step's data are its own, so the steps' chances of a false rollback add up to at
 * most the budget.
 */
export function startStep(state: JudgeState, percent: number, later: readonly number[]): JudgeState {
  const left = Math.max(0, state.budget.total - state.budget.spent);
  const weights = later.reduce((a, p) => a + stepWeight(p), stepWeight(percent));
  return {
    budget: state.budget,
    step: { percent, looks: 0, allowance: (left * stepWeight(percent)) / weights, regions: {} },
  };
}

/**
 * The levels of one look. A step spends (look / maxIntervals)^2 of its allowance by each look, so later
 * looks, which see the most data, test at the loosest levels; its last look spends whatever it has
 * left. Within the look, Bonferroni over the tests (`tests` comparisons per region) and regions.
 */
export function levels(
  step: Pick<StepState, "allowance" | "percent">,
  look: number,
  final: boolean,
  regions: number,
  s: Pick<JudgmentSettings, "maxIntervals" | "passRisk">,
  tests: number = COMPARISONS,
): Levels {
  const before = ((look - 1) / s.maxIntervals) ** 2;
  const lookAlpha = step.allowance * ((final ? 1 : (look / s.maxIntervals) ** 2) - before);
  const r = Math.max(1, regions);
  const lastAlpha = step.allowance * (1 - ((s.maxIntervals - 1) / s.maxIntervals) ** 2);
  return {
    look: lookAlpha,
    fail: (lookAlpha * (1 - GUARD_SHARE)) / (tests * r),
    lastFail: (lastAlpha * (1 - GUARD_SHARE)) / (tests * r),
    reach: final ? 1 : s.maxIntervals / look,
    guard: (lookAlpha * (step.percent < 100 ? GUARD_SHARE : 1)) / (2 * r),
    pass: s.passRisk / s.maxIntervals,
  };
}

const EMPTY: SideSum = { requests: 0, errors: 0, clientErrors: 0 };

/** Time to first token is logged in seconds; the latency tests and guards speak ms. */
const MS_PER_S = 1000;

const bucketsOf = (d: Distribution | undefined, factor = 1): Buckets | undefined =>
  d && d.count > 0 ? scaleBuckets(toBuckets(d), factor) : undefined;

/** The histogram one side's latency tests read in one interval: time to first token when streaming. */
function lookLatency(side: Side | undefined, streams: boolean): Buckets | undefined {
  return streams ? bucketsOf(side?.llm?.timeToFirstToken, MS_PER_S) : bucketsOf(side?.latencies);
}

function addLlm(sum: LlmSum | undefined, l: LlmSide | undefined): LlmSum | undefined {
  if (!l) return sum;
  const prev: LlmSum = sum ?? { calls: 0, providerErrors: 0, streams: false };
  const tokens = bucketsOf(l.outputTokens);
  const ttft = bucketsOf(l.timeToFirstToken, MS_PER_S);
  const sumTokens = tokens ? addBuckets(prev.tokens, tokens) : prev.tokens;
  const sumTtft = ttft ? addBuckets(prev.ttft, ttft) : prev.ttft;
  return {
    calls: prev.calls + l.calls,
    providerErrors: prev.providerErrors + l.providerErrors,
    streams: prev.streams || l.timeToFirstToken !== undefined,
    ...(sumTokens ? { tokens: sumTokens } : {}),
    ...(sumTtft ? { ttft: sumTtft } : {}),
  };
}

function addSide(sum: SideSum, side: Side | undefined): SideSum {
  if (!side) return sum;
  const r = side.requests;
  const latency = side.latencies.count > 0 ? toBuckets(side.latencies) : undefined;
  const llm = addLlm(sum.llm, side.llm);
  return {
    requests: sum.requests + r["2xx"] + r["3xx"] + r["4xx"] + r["5xx"],
    errors: sum.errors + r["5xx"],
    clientErrors: sum.clientErrors + r["4xx"],
    latency: latency ? addBuckets(sum.latency, latency) : sum.latency,
    ...(llm ? { llm } : {}),
  };
}

const requestsOf = (side: Side | undefined) =>
  side ? side.requests["2xx"] + side.requests["3xx"] + side.requests["4xx"] + side.requests["5xx"] : 0;

const p = (x: number) => (x < 1e-4 ? x.toExponential(1) : x.toPrecision(2));
const pct = (x: number, n: number) => (n > 0 ? `${((100 * x) / n).toPrecision(3)}%` : "n/a");
const msOf = (x: number | undefined) => (x === undefined ? "n/a" : `${Math.round(x)} ms`);
const ratioText = (x: number) => (Number.isFinite(x) ? `x${x.toFixed(2)}` : "none at this traffic");

/** What one look's tests may spend: the step's allowance over its looks, then over tests and regions. */
export interface Levels {
  /** The look's share of the step's allowance. */
  readonly look: number;
  /** Each comparison's significance level for a rollback. */
  readonly fail: number;
  /** The same at the step's last look, which sees the most data. */
  readonly lastFail: number;
  /** How much more data the step's last look will have seen than this one (the steps' traffic is steady). */
  readonly reach: number;
  /** Each guard's. */
  readonly guard: number;
  /** Each pass test's level: the step's pass risk over its looks. */
  readonly pass: number;
}

/** A count compared between canary and reference: 5xx, 4xx, or requests above a latency edge. */
function countVerdict(
  test: "errors" | "clientErrors" | "slow" | "providerErrors",
  what: string,
  region: string,
  c: { x: number; n: number },
  r: { x: number; n: number; name: string },
  perInterval: readonly number[] | undefined,
  margin: number,
  wanted: number,
  lv: Levels,
): Verdict {
  // Only rates of rare events are widened: above-p95 is 5% of the reference by construction, and its
  // wanted ratio was chosen knowing that.
  const detect = test === "slow" ? wanted : passTarget(c, r, margin, wanted, lv);
  const failP = perInterval
    ? meanAbove(perInterval, Math.log(margin))
    : rateAbove(c.x, c.n, r.x, r.n, margin);
  const passP = perInterval
    ? meanAbove(
        perInterval.map((d) => -d),
        -Math.log(detect),
      )
    : rateBelow(c.x, c.n, r.x, r.n, detect);
  const outcome: Outcome = failP < lv.fail ? "fail" : passP < lv.pass ? "pass" : "open";
  const ratio = r.n > 0 && r.x > 0 && c.n > 0 ? c.x / c.n / (r.x / r.n) : null;
  const head = `${what}: canary ${pct(c.x, c.n)} (${c.x}/${c.n}) vs ${r.name} ${pct(r.x, r.n)} (${r.x}/${r.n})`;
  const tail =
    outcome === "fail"
      ? `more than x${margin} the ${r.name}'s (p = ${p(failP)} < ${p(lv.fail)}).`
      : outcome === "pass"
        ? `a rise to x${round(detect)}${detect > wanted ? ", the least this step's traffic can detect," : ""} is ruled out (p = ${p(passP)} < ${p(lv.pass)}).`
        : `neither above x${margin} (p = ${p(failP)}) nor ruled out at x${round(detect)} (p = ${p(passP)}) yet.`;
  return {
    region,
    test,
    outcome,
    explanation: `${head}; ${tail}`,
    values: {
      canary: c.x,
      canaryRequests: c.n,
      reference: r.x,
      referenceRequests: r.n,
      ratio,
      detect,
      failP,
      passP,
    },
  };
}

/**
 * A distribution compared between canary and reference (latency, time to first token, output tokens
 * per call): Mann-Whitney gated on the ratio of medians, so a shift smaller than the margin is never a
 * rollback; a pass is evidence that the share above the reference's median edge did not rise to
 * `detect` times. `looks` (per-interval variance) replaces both with t-tests over the intervals.
 */
function locationVerdict(
  test: "latency" | "tokens",
  title: string,
  worse: string,
  region: string,
  name: string,
  cl: Buckets,
  rl: Buckets,
  looks: readonly (readonly [Buckets, Buckets] | undefined)[] | undefined,
  margin: number,
  detect: number,
  lv: Levels,
  show: (x: number | undefined) => string,
  keys: readonly [string, string],
): Verdict {
  const nc = total(cl);
  const nr = total(rl);
  const mw = mannWhitney(cl, rl);
  const cMed = quantile(cl, 0.5);
  const rMed = quantile(rl, 0.5);
  const medRatio = cMed !== undefined && rMed ? cMed / rMed : 1;
  const edge50 = quantileEdge(rl, 0.5);
  const defined = <T>(xs: readonly (T | undefined)[]) => xs.filter((x): x is T => x !== undefined);
  const finite = (xs: readonly (number | undefined)[]) => defined(xs).filter((x) => Number.isFinite(x));
  const medDiffs =
    looks &&
    finite(
      looks.map((b) => {
        const mc = b && quantile(b[0], 0.5);
        const mr = b && quantile(b[1], 0.5);
        return mc && mr ? Math.log(mc / mr) : undefined;
      }),
    );
  const failP = medDiffs ? meanAbove(medDiffs, Math.log(margin)) : mw.pValue;
  const fails = failP < lv.fail && (medDiffs !== undefined || medRatio > margin);
  const above =
    looks &&
    finite(
      looks.map((b) =>
        b ? logRatio(countFrom(b[0], edge50), total(b[0]), countFrom(b[1], edge50), total(b[1])) : undefined,
      ),
    );
  const passP = above
    ? meanAbove(
        above.map((d) => -d),
        -Math.log(detect),
      )
    : rateBelow(countFrom(cl, edge50), nc, countFrom(rl, edge50), nr, detect);
  const out: Outcome = fails ? "fail" : passP < lv.pass ? "pass" : "open";
  return {
    region,
    test,
    outcome: out,
    explanation:
      `${title}: canary p50 ${show(cMed)}, p95 ${show(quantile(cl, 0.95))} vs ${name} p50 ${show(rMed)}, p95 ${show(quantile(rl, 0.95))}; ` +
      `Mann-Whitney z = ${mw.z.toFixed(2)}, p = ${p(mw.pValue)}, medians x${medRatio.toFixed(3)}; ` +
      (out === "fail"
        ? `${worse} beyond x${margin} (p = ${p(failP)} < ${p(lv.fail)}).`
        : out === "pass"
          ? `a x${detect} rise in the share above ${name}'s median edge is ruled out (p = ${p(passP)}).`
          : failP < lv.fail
            ? `${worse}, but within the x${margin} margin on the median.`
            : `no regression shown, none ruled out yet (p = ${p(passP)}).`),
    values: {
      z: mw.z,
      pValue: mw.pValue,
      medianRatio: medRatio,
      [keys[0]]: cMed ?? null,
      [keys[1]]: rMed ?? null,
      failP,
      passP,
    },
  };
}

/** The side a region's canary is compared with: the fresh baseline when there is one and it is wanted. */
function reference(sum: RegionSum, s: JudgmentSettings) {
  const useBaseline = s.baseline && sum.baseline.requests > 0;
  return {
    ref: useBaseline ? sum.baseline : sum.stable,
    name: useBaseline ? "baseline" : "stable",
    refOf: (l: RegionSides) => (useBaseline ? l.baseline : l.stable),
  };
}

const sidesOf = (sum: RegionSum) => [sum.canary, sum.stable, sum.baseline];
/** Some side carried time to first token: the service streams. */
const streaming = (sum: RegionSum) => sidesOf(sum).some((x) => x.llm?.streams);
/** Model calls are judged in this region: wanted, and the data has them. */
const judgesLlm = (sum: RegionSum, s: JudgmentSettings) => s.llm && sidesOf(sum).some((x) => x.llm);

const tokensText = (x: number | undefined) => (x === undefined ? "n/a" : `${Math.round(x)} tokens`);

/**
 * A region's model call comparisons, for a service that logs them: output tokens per call (the
 * location test latency has) and the provider error ratio (the exact count test 5xx has).
 */
function llmVerdicts(
  region: string,
  sum: RegionSum,
  percent: number,
  s: JudgmentSettings,
  lv: Levels,
): Verdict[] {
  if (percent >= 100 || !judgesLlm(sum, s)) return [];
  const { ref, name, refOf } = reference(sum, s);
  const c = sum.canary.llm ?? { calls: 0, providerErrors: 0 };
  const r = ref.llm ?? { calls: 0, providerErrors: 0 };
  const looks = s.variance === "interval" ? sum.looks : undefined;
  const verdicts: Verdict[] = [
    countVerdict(
      "providerErrors",
      "Provider errors (5xx and 429) of model calls",
      region,
      { x: c.providerErrors, n: c.calls },
      { x: r.providerErrors, n: r.calls, name },
      looks?.flatMap((l) => {
        const lc = l.canary.llm;
        const lr = refOf(l)?.llm;
        return lc && lr && lc.calls > 0 && lr.calls > 0
          ? [logRatio(lc.providerErrors, lc.calls, lr.providerErrors, lr.calls)]
          : [];
      }),
      s.margins.providerErrors,
      s.detect.providerErrors,
      lv,
    ),
  ];
  const ct = sum.canary.llm?.tokens;
  const rt = ref.llm?.tokens;
  if (!ct || !rt) {
    verdicts.push({
      region,
      test: "tokens",
      outcome: "open",
      explanation: `Output tokens per model call: none logged yet on ${ct ? name : "the canary"}.`,
      values: {},
    });
    return verdicts;
  }
  const [cb, rb] = commonBuckets(ct, rt);
  const lookTokens = (l: RegionSides) => {
    const a = bucketsOf(l.canary.llm?.outputTokens);
    const b = bucketsOf(refOf(l)?.llm?.outputTokens);
    return a && b ? commonBuckets(a, b) : undefined;
  };
  verdicts.push(
    locationVerdict(
      "tokens",
      "Output tokens per model call",
      "more tokens per call",
      region,
      name,
      cb,
      rb,
      looks?.map(lookTokens),
      s.margins.tokens,
      s.detect.tokens,
      lv,
      tokensText,
      ["canaryMedianTokens", "referenceMedianTokens"],
    ),
  );
  return verdicts;
}

const round = (x: number) => Number(x.toPrecision(3));

/**
 * The rise a pass must rule out: the wanted one, or, when the step's traffic could not detect that
 * even at its last look (a rare 5xx at a low percent), the smallest rise it could. Waiting for evidence against a regression the step
 * cannot catch buys nothing: the step would end on its last look all the same, and the later steps,
 * with more traffic, judge it. The counts so far are projected to the last look at the same rates.
 */
function passTarget(
  c: { x: number; n: number },
  r: { x: number; n: number },
  margin: number,
  wanted: number,
  lv: Levels,
): number {
  const at = (k: number) => Math.round(k * lv.reach);
  const reachable = detectableRatio(at(c.n), at(r.x), at(r.n), margin, lv.lastFail);
  return Number.isFinite(reachable) ? Math.max(wanted, reachable) : wanted;
}

const logRatio = (xc: number, nc: number, xr: number, nr: number) =>
  Math.log((xc + 0.5) / (nc + 1)) - Math.log((xr + 0.5) / (nr + 1));

/** Every verdict of one region on the step's data so far. */
function regionVerdicts(
  region: string,
  sum: RegionSum,
  percent: number,
  s: JudgmentSettings,
  lv: Levels,
): Verdict[] {
  const verdicts: Verdict[] = [];
  const c = sum.canary;
  // A streaming service's latency is its time to first token (model/llm.ts latencySource).
  const streams = streaming(sum);
  const latencyOf = (x: SideSum) => (streams ? x.llm?.ttft : x.latency);
  const cLat = latencyOf(c);
  const cLatN = cLat ? total(cLat) : 0;

  verdicts.push({
    region,
    test: "traffic",
    outcome: c.requests >= s.minRequests ? "pass" : "open",
    explanation: `Traffic: the canary served ${c.requests} requests in this step (${s.minRequests} needed to advance on what was seen).`,
    values: { canaryRequests: c.requests, minRequests: s.minRequests },
  });

  // Guards: the canary alone, exact binomial tests from its first request.
  const g = s.guards;
  const gFail = exceedsLimit(c.errors, c.requests, g.maxErrorRatio);
  const gPass = underLimit(c.errors, c.requests, g.maxErrorRatio);
  const gOut: Outcome = gFail < lv.guard ? "fail" : gPass < lv.pass ? "pass" : "open";
  verdicts.push({
    region,
    test: "errorGuard",
    outcome: gOut,
    explanation:
      `5xx guard: canary ${pct(c.errors, c.requests)} (${c.errors}/${c.requests}) against the limit ${100 * g.maxErrorRatio}%; ` +
      (gOut === "fail"
        ? `above it (p = ${p(gFail)}).`
        : gOut === "pass"
          ? `under it (p = ${p(gPass)}).`
          : `not yet shown either way (p = ${p(gFail)} above, ${p(gPass)} under).`),
    values: {
      canary: c.errors,
      canaryRequests: c.requests,
      limit: g.maxErrorRatio,
      failP: gFail,
      passP: gPass,
    },
  });
  const surelyOver = cLat ? countFrom(cLat, g.maxP95Ms) : 0;
  const maybeOver = cLat ? countPossiblyAbove(cLat, g.maxP95Ms) : 0;
  const lFail = exceedsLimit(surelyOver, cLatN, 0.05);
  const lPass = underLimit(maybeOver, cLatN, 0.05);
  const lOut: Outcome = lFail < lv.guard ? "fail" : lPass < lv.pass ? "pass" : "open";
  verdicts.push({
    region,
    test: "p95Guard",
    outcome: lOut,
    explanation:
      `p95 guard${streams ? " (time to first token)" : ""}: ${surelyOver} of ${cLatN} canary ${streams ? "model calls" : "requests"} surely above ${g.maxP95Ms} ms (${maybeOver} possibly); ` +
      (lOut === "fail"
        ? `p95 is above the limit (p = ${p(lFail)}).`
        : lOut === "pass"
          ? `p95 is under the limit (p = ${p(lPass)}).`
          : `not yet shown either way (p = ${p(lFail)} above, ${p(lPass)} under).`),
    values: {
      over: surelyOver,
      possiblyOver: maybeOver,
      requests: cLatN,
      limitMs: g.maxP95Ms,
      failP: lFail,
      passP: lPass,
    },
  });
  if (percent >= 100) return verdicts;

  // Like with like: the fresh baseline when there is one and it is wanted, else the warm stable fleet.
  const { ref, name, refOf } = reference(sum, s);

  const all = c.requests + sum.stable.requests + sum.baseline.requests;
  const want = percent / 100;
  const lo = want * (1 - s.sampleRatio.tolerance);
  const hi = Math.min(1, want * (1 + s.sampleRatio.tolerance));
  const tooMany = exceedsLimit(c.requests, all, hi);
  const tooFew = underLimit(c.requests, all, lo);
  const mismatch = Math.min(tooMany, tooFew) < s.sampleRatio.alpha;
  verdicts.push({
    region,
    test: "sampleRatio",
    outcome: mismatch ? "fail" : all > 0 ? "pass" : "open",
    explanation: mismatch
      ? `Traffic split: the canary got ${pct(c.requests, all)} of ${all} requests, not the configured ${percent}% ` +
        `(p = ${p(Math.min(tooMany, tooFew))}): the data cannot be trusted, so nothing passes on it.`
      : `Traffic split: the canary got ${pct(c.requests, all)} of ${all} requests, as configured (${percent}%).`,
    values: { canaryRequests: c.requests, requests: all, percent, p: Math.min(tooMany, tooFew) },
  });

  const interval = s.variance === "interval";
  const perLook = (f: (l: RegionSides) => number | undefined) =>
    interval ? sum.looks.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x)) : undefined;
  const countDiffs = (pick: (side: Side) => number) =>
    perLook((l) => {
      const r = refOf(l);
      const nc = requestsOf(l.canary);
      const nr = requestsOf(r);
      return nc > 0 && nr > 0 && r ? logRatio(pick(l.canary), nc, pick(r), nr) : undefined;
    });

  verdicts.push(
    countVerdict(
      "errors",
      "5xx ratio",
      region,
      { x: c.errors, n: c.requests },
      { x: ref.errors, n: ref.requests, name },
      countDiffs((side) => side.requests["5xx"]),
      s.margins.errors,
      s.detect.errors,
      lv,
    ),
    countVerdict(
      "clientErrors",
      "4xx ratio",
      region,
      { x: c.clientErrors, n: c.requests },
      { x: ref.clientErrors, n: ref.requests, name },
      countDiffs((side) => side.requests["4xx"]),
      s.margins.clientErrors,
      s.detect.clientErrors,
      lv,
    ),
  );

  const rLat = latencyOf(ref);
  if (!cLat || !rLat) {
    for (const test of ["slow", "latency"] as const)
      verdicts.push({
        region,
        test,
        outcome: "open",
        explanation: `${test === "slow" ? "Tail" : streams ? "Time to first token" : "Latency"}: no ${streams ? "times to first token" : "latencies"} yet on ${cLat ? name : "the canary"}.`,
        values: {},
      });
    return verdicts;
  }
  const [cl, rl] = commonBuckets(cLat, rLat);
  const nc = total(cl);
  const nr = total(rl);
  const edge95 = quantileEdge(rl, 0.95);
  const lookBuckets = (l: RegionSides) => {
    const cb = lookLatency(l.canary, streams);
    const rb = lookLatency(refOf(l), streams);
    return cb && rb ? commonBuckets(cb, rb) : undefined;
  };
  verdicts.push(
    countVerdict(
      "slow",
      `Requests above ${name}'s p95 bucket edge (${msOf(edge95)})`,
      region,
      { x: countFrom(cl, edge95), n: nc },
      { x: countFrom(rl, edge95), n: nr, name },
      perLook((l) => {
        const b = lookBuckets(l);
        return b
          ? logRatio(countFrom(b[0], edge95), total(b[0]), countFrom(b[1], edge95), total(b[1]))
          : undefined;
      }),
      s.margins.slow,
      s.detect.slow,
      lv,
    ),
  );

  verdicts.push(
    locationVerdict(
      "latency",
      streams ? "Time to first token" : "Latency",
      "slower",
      region,
      name,
      cl,
      rl,
      interval ? sum.looks.map(lookBuckets) : undefined,
      s.margins.latency,
      s.detect.latency,
      lv,
      msOf,
      ["canaryP50Ms", "referenceP50Ms"],
    ),
  );
  return verdicts;
}

const where = (v: Verdict) => (v.region ? `[${v.region}] ` : "");

/**
 * Judges one look: `interval` is the data since the previous look. The step's tests run on its data so
 * far, per region, each region on its own. Rolls back on a regression beyond its margin (or a broken
 * guard); advances early only on evidence that every detectable regression is absent, in every region,
 * with a trusted traffic split; on the step's last look (`last`, or the look reaching maxIntervals) it
 * decides on what was seen: advance, unless the canary served too little or the split cannot be
 * trusted. Every look spends its share of the budget, whatever it decides.
 */
export function judgeLook(
  state: JudgeState,
  interval: Interval,
  s: JudgmentSettings,
  last = false,
): LookResult {
  const step = state.step;
  if (!step) throw new Error("judgeLook: no step started (call startStep first)");
  const look = step.looks + 1;
  const final = last || look >= s.maxIntervals;
  const regions: Record<string, RegionSum> = { ...step.regions };
  for (const [name, sides] of Object.entries(intervalRegions(interval))) {
    const prev = regions[name] ?? { canary: EMPTY, stable: EMPTY, baseline: EMPTY, looks: [] };
    regions[name] = {
      canary: addSide(prev.canary, sides.canary),
      stable: addSide(prev.stable, sides.stable),
      baseline: addSide(prev.baseline, sides.baseline),
      looks: s.variance === "interval" ? [...prev.looks, sides] : prev.looks,
    };
  }
  const names = Object.keys(regions).sort();
  const llm = names.some((n) => judgesLlm(regions[n], s));
  const lv = levels(step, look, final, names.length, s, comparisons(llm));
  const next: JudgeState = {
    budget: { total: state.budget.total, spent: state.budget.spent + lv.look },
    step: { ...step, looks: look, regions },
  };
  const verdicts = names.flatMap((n) => [
    ...regionVerdicts(n, regions[n], step.percent, s, lv),
    ...llmVerdicts(n, regions[n], step.percent, s, lv),
  ]);
  const done = (decision: Decision, reason: string): LookResult => ({
    decision,
    reason,
    verdicts,
    state: next,
    look,
  });

  const failed = verdicts.filter((v) => v.outcome === "fail" && v.test !== "sampleRatio");
  if (failed.length > 0) return done("rollback", failed.map((v) => where(v) + v.explanation).join(" "));
  if (names.length === 0)
    return final
      ? done(
          "rollback",
          "No data for this step: the canary cannot be verified, and missing data never passes.",
        )
      : done("wait", "No data yet.");
  const mismatch = verdicts.filter((v) => v.test === "sampleRatio" && v.outcome === "fail");
  const thin = verdicts.filter((v) => v.test === "traffic" && v.outcome !== "pass");
  if (mismatch.length === 0 && thin.length === 0 && verdicts.every((v) => v.outcome === "pass"))
    return done(
      "advance",
      `Look ${look}: every regression the judgment must catch is ruled out${names.length > 1 ? " in every region" : ""}.`,
    );
  if (!final) {
    const open = verdicts.filter((v) => v.outcome !== "pass");
    return done(
      "wait",
      `Look ${look} of at most ${s.maxIntervals}: no regression, not yet ruled out: ` +
        open.map((v) => where(v) + v.test).join(", ") +
        ".",
    );
  }
  if (mismatch.length > 0)
    return done(
      "rollback",
      `The traffic split does not match the configured ${step.percent}% at the step's last look, so its metrics cannot be trusted: ` +
        mismatch.map((v) => where(v) + v.explanation).join(" "),
    );
  if (thin.length > 0)
    return done(
      "rollback",
      `Too little traffic to verify the canary after ${look} look${look === 1 ? "" : "s"}: ` +
        thin.map((v) => where(v) + v.explanation).join(" "),
    );
  const detectable =
    step.percent < 100
      ? names.map((n) => {
          const r = regions[n];
          const ref = s.baseline && r.baseline.requests > 0 ? r.baseline : r.stable;
          return `${n ? `${n}: ` : ""}5xx ${ratioText(detectableRatio(r.canary.requests, ref.errors, ref.requests, s.margins.errors, lv.fail))}`;
        })
      : [];
  return done(
    "advance",
    `Decided at look ${look} on what was seen: no regression beyond the margins` +
      (detectable.length > 0
        ? `; the smallest regression this traffic could detect: ${detectable.join(", ")}.`
        : "; the guards hold."),
  );
}

export interface ScenarioResult {
  readonly name: string;
  readonly decision: "promote" | "rollback";
  /** The percent of the step where it decided. */
  readonly step: number;
  /** The look (1-based) within that step. */
  readonly interval: number;
  readonly reason: string;
  /** Looks judged over the whole scenario, for the time to the decision. */
  readonly looks: number;
}

/**
 * A recorded rollout replayed: each step's intervals are read in order, one per look, exactly as the
 * rollout judges them; a step whose intervals run out is decided as at its last look. After the last
 * step passes, the decision is promote.
 */
export function judgeScenario(scenario: ScenarioInput, s: JudgmentSettings): ScenarioResult {
  const name = scenario.name;
  let state = startRollout(s);
  let last: ScenarioResult | undefined;
  let looks = 0;
  for (const [i, step] of scenario.steps.entries()) {
    const percent = step.percent;
    state = startStep(
      state,
      percent,
      scenario.steps.slice(i + 1).map((x) => x.percent),
    );
    const n = Math.min(step.intervals.length, s.maxIntervals);
    if (n === 0)
      return {
        name,
        decision: "rollback",
        step: percent,
        interval: 0,
        looks,
        reason: "No interval data for this step.",
      };
    for (let k = 0; k < n; k++) {
      const r = judgeLook(state, step.intervals[k], s, k === n - 1);
      state = r.state;
      looks++;
      if (r.decision === "rollback")
        return { name, decision: "rollback", step: percent, interval: r.look, looks, reason: r.reason };
      if (r.decision === "advance") {
        last = { name, decision: "promote", step: percent, interval: r.look, looks, reason: r.reason };
        break;
      }
    }
  }
  if (!last) throw new Error(`Scenario "${name}" has no steps.`);
  return { ...last, reason: `Every step passed; the last: ${last.reason}` };
}

/**
 * The smallest 5xx regression (canary / reference ratio) each comparing step would roll back at its last
 * look, had the counts come out as expected: `canaryPerInterval` canary requests per interval at the
 * first step (more at later steps, in proportion to the percent), a reference 5xx ratio of `baseRatio`,
 * one region, and every earlier step having spent its whole allowance (the least budget a step can get).
 * `llm`: the service logs its model calls, whose comparisons share the budget.
 */
export function detectable5xx(
  steps: readonly number[],
  canaryPerInterval: number,
  baseRatio: number,
  s: JudgmentSettings,
  llm = false,
): { percent: number; ratio: number }[] {
  const total = (canaryPerInterval * 100) / steps[0];
  let state = startRollout(s);
  const out: { percent: number; ratio: number }[] = [];
  for (const [i, percent] of steps.entries()) {
    state = startStep(state, percent, steps.slice(i + 1));
    const step = state.step!;
    state = { budget: { ...state.budget, spent: state.budget.spent + step.allowance } };
    if (percent >= 100) continue;
    const nc = Math.round((total * percent * s.maxIntervals) / 100);
    const nr = Math.round(total * s.maxIntervals) - nc;
    const alpha = levels(step, s.maxIntervals, true, 1, s, comparisons(llm && s.llm)).fail;
    out.push({
      percent,
      ratio: detectableRatio(nc, Math.round(baseRatio * nr), nr, s.margins.errors, alpha),
    });
  }
  return out;
}
