import { analyse, decideStep, type AnalysisSettings, type RevisionMetrics } from "./analysis";
import { exponentialBounds, normalCdf, type Histogram } from "./stats";

/**
 * A seeded simulation of one rollout step's analysis, for `npm run bench:analysis`. Traffic per interval
 * is drawn from a model service: 5xx with probability BASE_ERROR_RATIO, latency log-normal around
 * BASE_MEDIAN_MS, binned into Cloud Monitoring's exponential buckets like the real metric.
 */

export const BASE_ERROR_RATIO = 0.02;
export const BASE_MEDIAN_MS = 120;
export const LOG_SIGMA = 0.5;
export const BOUNDS = exponentialBounds(64, 1.2, 1);

export type Scenario = "aa" | "error2x" | "p95plus30";
export const SCENARIOS: readonly Scenario[] = ["aa", "error2x", "p95plus30"];

/** Mulberry32: small, fast and seeded, so every run prints the same numbers. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Binomial draw: exact by inversion for small means, normal approximation for large ones. */
export function binomial(n: number, p: number, rand: () => number): number {
  if (n <= 0 || !(p > 1e-12)) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(n, 1 - p, rand);
  const mean = n * p;
  if (mean < 30 || n * (1 - p) < 30) {
    if (n < 200) {
      let k = 0;
      for (let i = 0; i < n; i++) if (rand() < p) k++;
      return k;
    }
    // Poisson-like inversion for a rare event in a large population.
    const q = Math.log1p(-p);
    if (q === 0) return 0;
    let k = 0;
    let i = 0;
    for (;;) {
      i += Math.floor(Math.log(Math.max(rand(), 1e-300)) / q) + 1;
      if (i > n) return k;
      k++;
    }
  }
  return Math.min(n, Math.max(0, Math.round(mean + Math.sqrt(mean * (1 - p)) * gaussian(rand))));
}

function bucketProbabilities(medianMs: number): number[] {
  const cdf = (x: number) =>
    Number.isFinite(x) ? normalCdf((Math.log(x) - Math.log(medianMs)) / LOG_SIGMA) : 1;
  return BOUNDS.map((b, i) => cdf(b) - (i === 0 ? 0 : cdf(BOUNDS[i - 1])));
}

function drawHistogram(n: number, probs: readonly number[], rand: () => number): number[] {
  const counts: number[] = [];
  let left = n;
  let mass = 1;
  for (const q of probs) {
    const k = mass > 0 ? binomial(left, Math.min(1, q / mass), rand) : 0;
    counts.push(k);
    left -= k;
    mass -= q;
  }
  counts[counts.length - 1] += left;
  return counts;
}

interface Model {
  errorRatio: number;
  latency: number[];
}

const stableModel: Model = { errorRatio: BASE_ERROR_RATIO, latency: bucketProbabilities(BASE_MEDIAN_MS) };
const canaryModels: Record<Scenario, Model> = {
  aa: stableModel,
  error2x: { errorRatio: 2 * BASE_ERROR_RATIO, latency: stableModel.latency },
  // Every quantile 30% slower, so p95 is 30% higher.
  p95plus30: { errorRatio: BASE_ERROR_RATIO, latency: bucketProbabilities(BASE_MEDIAN_MS * 1.3) },
};

class Window {
  requests = 0;
  errors = 0;
  counts = BOUNDS.map(() => 0);
  add(n: number, model: Model, rand: () => number): void {
    this.requests += n;
    this.errors += binomial(n, model.errorRatio, rand);
    drawHistogram(n, model.latency, rand).forEach((c, i) => (this.counts[i] += c));
  }
  metrics(): RevisionMetrics {
    const latency: Histogram = { bounds: BOUNDS, counts: [...this.counts] };
    return { requests: this.requests, errors: this.errors, latency };
  }
}

export interface BenchRow {
  readonly scenario: Scenario;
  readonly canaryPercent: number;
  readonly requestsPerInterval: number;
  readonly falseRollbackRate: number | null;
  readonly detectionRate: number | null;
  readonly meanIntervalsToDecision: number;
}

/**
 * Runs `trials` steps of one scenario: `requestsPerInterval` is the canary's traffic per interval, and
 * stable gets the rest of a split at `canaryPercent`. Each step analyses the cumulative window after
 * each interval and decides exactly as a rollout does (decideStep).
 */
export function simulate(
  scenario: Scenario,
  canaryPercent: number,
  requestsPerInterval: number,
  settings: AnalysisSettings,
  maxIntervals: number,
  trials: number,
  seed: number,
): BenchRow {
  const rand = prng(seed);
  const stableRequests = Math.round((requestsPerInterval * (100 - canaryPercent)) / canaryPercent);
  let rollbacks = 0;
  let intervalsSum = 0;
  for (let t = 0; t < trials; t++) {
    const canary = new Window();
    const stable = new Window();
    for (let i = 1; i <= maxIntervals; i++) {
      canary.add(requestsPerInterval, canaryModels[scenario], rand);
      stable.add(stableRequests, stableModel, rand);
      const d = decideStep(analyse(canary.metrics(), stable.metrics(), settings), i, maxIntervals);
      if (d.action === "wait") continue;
      if (d.action === "rollback") rollbacks++;
      intervalsSum += i;
      break;
    }
  }
  const rate = rollbacks / trials;
  return {
    scenario,
    canaryPercent,
    requestsPerInterval,
    falseRollbackRate: scenario === "aa" ? rate : null,
    detectionRate: scenario === "aa" ? null : rate,
    meanIntervalsToDecision: intervalsSum / trials,
  };
}
