import { mannWhitneyBuckets, quantile, total, twoProportionTest, type Histogram } from "./stats";

/** What one revision served over the analysis window. */
export interface RevisionMetrics {
  readonly requests: number;
  /** Responses with response_code_class 5xx. */
  readonly errors: number;
  readonly latency: Histogram;
}

/** Thresholds of the analysis; every default lives in ANALYSIS_DEFAULTS. */
export interface AnalysisSettings {
  /** Below this many canary (or stable) requests in the window nothing is judged: inconclusive. */
  readonly minRequests: number;
  /** One-sided p-value below which the canary is judged worse: a regression, roll back. */
  readonly failPValue: number;
  /** One-sided p-value above which the canary is judged no worse; in between, wait for more data. */
  readonly passPValue: number;
  /** Absolute guard: the canary's 5xx ratio may never exceed this. */
  readonly maxErrorRatio: number;
  /** Absolute guard: the canary's p95 latency (ms) may never exceed this. */
  readonly maxP95Ms: number;
}

export const ANALYSIS_DEFAULTS = {
  minRequests: 100,
  failPValue: 0.0003,
  passPValue: 0.2,
} as const;

export type Outcome = "pass" | "fail" | "inconclusive";

export interface MetricVerdict {
  readonly metric: "traffic" | "errorRatio" | "latency" | "errorGuard" | "p95Guard";
  readonly outcome: Outcome;
  /** Plain words with the numbers behind the verdict. */
  readonly explanation: string;
  readonly values: Readonly<Record<string, number | null>>;
}

export interface AnalysisResult {
  readonly outcome: Outcome;
  readonly verdicts: readonly MetricVerdict[];
  /** Why an inconclusive analysis waits: too little traffic, or a trend not yet significant either way. */
  readonly waitingFor?: "traffic" | "evidence";
  /** One sentence: why the analysis came out as it did. */
  readonly summary: string;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const ms = (x: number | undefined) => (x === undefined ? "n/a" : `${Math.round(x)} ms`);
const p = (x: number) => (x < 0.0001 ? "<0.0001" : x.toFixed(4));

function threeZone(pValue: number, s: AnalysisSettings): Outcome {
  if (pValue < s.failPValue) return "fail";
  if (pValue > s.passPValue) return "pass";
  return "inconclusive";
}

/**
 * Compares the canary with stable over the same window. Fails on a significant regression or a broken
 * guard; passes only when every test is clearly no worse; otherwise (too little traffic, or a trend not
 * yet significant either way) it is inconclusive and the caller waits for more data.
 */
export function analyse(
  canary: RevisionMetrics,
  stable: RevisionMetrics,
  s: AnalysisSettings,
): AnalysisResult {
  const canaryLatency = total(canary.latency);
  const stableLatency = total(stable.latency);
  const enough =
    canary.requests >= s.minRequests &&
    stable.requests >= s.minRequests &&
    canaryLatency >= s.minRequests &&
    stableLatency >= s.minRequests;
  const traffic: MetricVerdict = {
    metric: "traffic",
    outcome: enough ? "pass" : "inconclusive",
    explanation: enough
      ? `Enough traffic to judge: canary ${canary.requests} requests, stable ${stable.requests} (at least ${s.minRequests} each).`
      : `Too little traffic to judge: canary ${canary.requests} requests, stable ${stable.requests}; at least ${s.minRequests} each are needed. Waiting, never passing on missing data.`,
    values: { canaryRequests: canary.requests, stableRequests: stable.requests, minRequests: s.minRequests },
  };
  if (!enough)
    return {
      outcome: "inconclusive",
      waitingFor: "traffic",
      verdicts: [traffic],
      summary: traffic.explanation,
    };

  const cRatio = canary.errors / canary.requests;
  const sRatio = stable.errors / stable.requests;
  const err = twoProportionTest(canary.errors, canary.requests, stable.errors, stable.requests);
  const errOutcome = threeZone(err.pValue, s);
  const errorRatio: MetricVerdict = {
    metric: "errorRatio",
    outcome: errOutcome,
    explanation:
      `5xx ratio: canary ${pct(cRatio)} (${canary.errors}/${canary.requests}) vs stable ${pct(sRatio)} (${stable.errors}/${stable.requests}); ` +
      `two-proportion z = ${err.z.toFixed(2)}, one-sided p = ${p(err.pValue)}. ` +
      (errOutcome === "fail"
        ? `The canary fails significantly more often (p < ${s.failPValue}).`
        : errOutcome === "pass"
          ? "No sign the canary fails more often."
          : `Not significant yet either way (p between ${s.failPValue} and ${s.passPValue}); waiting for more data.`),
    values: { canaryRatio: cRatio, stableRatio: sRatio, z: err.z, pValue: err.pValue },
  };

  const cP95 = quantile(canary.latency, 0.95);
  const sP95 = quantile(stable.latency, 0.95);
  const cP50 = quantile(canary.latency, 0.5);
  const sP50 = quantile(stable.latency, 0.5);
  const mw = mannWhitneyBuckets(canary.latency, stable.latency);
  const latOutcome = threeZone(mw.pValue, s);
  const latency: MetricVerdict = {
    metric: "latency",
    outcome: latOutcome,
    explanation:
      `Latency: canary p50 ${ms(cP50)}, p95 ${ms(cP95)} vs stable p50 ${ms(sP50)}, p95 ${ms(sP95)}; ` +
      `Mann-Whitney U z = ${mw.z.toFixed(2)}, one-sided p = ${p(mw.pValue)}. ` +
      (latOutcome === "fail"
        ? `The canary is significantly slower (p < ${s.failPValue}).`
        : latOutcome === "pass"
          ? "No sign the canary is slower."
          : `Not significant yet either way (p between ${s.failPValue} and ${s.passPValue}); waiting for more data.`),
    values: {
      canaryP50Ms: cP50 ?? null,
      canaryP95Ms: cP95 ?? null,
      stableP50Ms: sP50 ?? null,
      stableP95Ms: sP95 ?? null,
      z: mw.z,
      pValue: mw.pValue,
    },
  };

  const errorGuard: MetricVerdict = {
    metric: "errorGuard",
    outcome: cRatio > s.maxErrorRatio ? "fail" : "pass",
    explanation:
      cRatio > s.maxErrorRatio
        ? `The canary's 5xx ratio ${pct(cRatio)} is above the limit of ${pct(s.maxErrorRatio)}.`
        : `The canary's 5xx ratio ${pct(cRatio)} is within the limit of ${pct(s.maxErrorRatio)}.`,
    values: { canaryRatio: cRatio, limit: s.maxErrorRatio },
  };
  const overP95 = cP95 !== undefined && cP95 > s.maxP95Ms;
  const p95Guard: MetricVerdict = {
    metric: "p95Guard",
    outcome: overP95 ? "fail" : "pass",
    explanation: overP95
      ? `The canary's p95 latency ${ms(cP95)} is above the limit of ${ms(s.maxP95Ms)}.`
      : `The canary's p95 latency ${ms(cP95)} is within the limit of ${ms(s.maxP95Ms)}.`,
    values: { canaryP95Ms: cP95 ?? null, limit: s.maxP95Ms },
  };

  const verdicts = [traffic, errorRatio, latency, errorGuard, p95Guard];
  const failed = verdicts.filter((v) => v.outcome === "fail");
  if (failed.length > 0) {
    return { outcome: "fail", verdicts, summary: failed.map((v) => v.explanation).join(" ") };
  }
  const waiting = verdicts.filter((v) => v.outcome === "inconclusive");
  if (waiting.length > 0) {
    return {
      outcome: "inconclusive",
      waitingFor: "evidence",
      verdicts,
      summary: waiting.map((v) => v.explanation).join(" "),
    };
  }
  return {
    outcome: "pass",
    verdicts,
    summary: `The canary is no worse than stable: ${errorRatio.explanation} ${latency.explanation}`,
  };
}

export type StepDecision =
  | { readonly action: "advance"; readonly reason: string }
  | { readonly action: "rollback"; readonly reason: string }
  | { readonly action: "wait"; readonly reason: string };

/**
 * What a step does after its `interval`-th analysis (1-based), with at most `maxIntervals` analyses per
 * step. A regression rolls back at once. Too little traffic waits and, at the limit, fails: missing data
 * never passes. Enough traffic with no significant difference either way waits for more data and, at
 * the limit, advances: no regression was found in `maxIntervals` intervals of real traffic.
 */
export function decideStep(result: AnalysisResult, interval: number, maxIntervals: number): StepDecision {
  if (result.outcome === "fail") return { action: "rollback", reason: result.summary };
  if (result.outcome === "pass") return { action: "advance", reason: result.summary };
  if (interval < maxIntervals) {
    return { action: "wait", reason: `${result.summary} (analysis ${interval} of at most ${maxIntervals})` };
  }
  if (result.waitingFor === "traffic") {
    return {
      action: "rollback",
      reason: `Still too little traffic after ${maxIntervals} analysis intervals: the canary cannot be verified. ${result.summary}`,
    };
  }
  return {
    action: "advance",
    reason: `No significant regression after ${maxIntervals} analysis intervals with enough traffic. ${result.summary}`,
  };
}

/**
 * At 100% stable serves nothing, so there is nothing to compare with: only the traffic minimum and the
 * absolute guards are judged.
 */
export function analyseAlone(canary: RevisionMetrics, s: AnalysisSettings): AnalysisResult {
  const filler: RevisionMetrics = { requests: s.minRequests, errors: 0, latency: canary.latency };
  const full = analyse(canary, { ...filler, latency: { ...canary.latency } }, s);
  if (full.waitingFor === "traffic") return full;
  const verdicts = full.verdicts.filter((v) => v.metric === "traffic" || v.metric.endsWith("Guard"));
  const failed = verdicts.filter((v) => v.outcome === "fail");
  return failed.length > 0
    ? { outcome: "fail", verdicts, summary: failed.map((v) => v.explanation).join(" ") }
    : {
        outcome: "pass",
        verdicts,
        summary: `At 100% there is no stable traffic to compare with; the absolute guards hold. ${verdicts
          .slice(1)
          .map((v) => v.explanation)
          .join(" ")}`,
      };
}
