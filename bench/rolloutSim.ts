/**
 * A seeded simulation of whole rollouts for `npm run bench:analysis`: traffic, errors and latencies of a
 * model service, turned into the judgment's input (model/judgment/input.ts) one interval at a time and
 * judged by the very code the rollout runs (judgeLook). Nothing here knows how the judgment decides.
 *
 * The model service, per interval of `total` requests:
 * - the split is multinomial (canary and baseline each at the step's percent, stable the rest);
 * - 5xx and 4xx per request with base rates, multiplied by an overdispersion factor drawn per interval
 *   (log-normal, sigma OVERDISPERSION) that both sides share: a bad minute is bad for everyone;
 * - latency is a log-normal mixture (a fast mode and a slow tail) scaled by a per-interval factor both
 *   sides share, binned into exponential buckets like Cloud Run's request_latencies;
 * - with revision-level heterogeneity, each fresh revision (canary, baseline) draws its own 5xx and
 *   latency factors once per rollout, and fresh revisions as a group differ from the warm stable fleet.
 */
import { judgeLook, startRollout, startStep } from "../model/judgment/judge";
import type { BucketOptions, Distribution, Interval, Side } from "../model/judgment/input";
import type { JudgmentSettings } from "../model/judgment/settings";
import { bucketBounds } from "../model/judgment/distribution";

/**
 * The layout assumed for Cloud Run's request_latencies (ms): exponential, 1 ms scale. Coarse buckets
 * make latency harder to judge, so the bench does not assume finer ones than this.
 */
export const LATENCY_BUCKETS: BucketOptions = {
  exponentialBuckets: { numFiniteBuckets: 100, growthFactor: 1.4, scale: 1 },
};
const BOUNDS = bucketBounds(LATENCY_BUCKETS);

export const MODEL = {
  clientErrorRatio: 0.03,
  /**
   * The model service's alert thresholds, which a rollout takes as its guards: an alert at 10% 5xx
   * over a 2% base (a 5% alert would fire on the model's own bad minutes) and a p95 of 2 s.
   */
  alerts: { maxErrorRatio: 0.1, maxP95Ms: 2000 },
  /** Fast mode: 90% of requests, median 80 ms; slow tail: 10%, median 400 ms. */
  fast: { weight: 0.9, medianMs: 80, sigma: 0.4 },
  slow: { weight: 0.1, medianMs: 400, sigma: 0.6 },
  /** Per-interval factor on error rates, shared by every revision. */
  overdispersion: 0.3,
  /** Per-interval factor on latency, shared by every revision. */
  latencyJitter: 0.05,
  /** Revision-level heterogeneity: each fresh revision's own factors (log-normal sigmas). */
  revision: { errorSigma: 0.1, latencySigma: 0.02 },
  /** Fresh revisions against the warm stable fleet: slower and more 5xx while they warm. */
  fresh: { errorFactor: 1.15, latencyFactor: 1.05 },
} as const;

export const STEPS = [5, 25, 50, 100] as const;
export const INTERVAL_MINUTES = 10;

/** How the canary differs from stable, and what serves beside it. */
export interface Scenario {
  readonly name: string;
  readonly baseErrorRatio: number;
  readonly errorFactor?: number;
  /** Every latency multiplied by this. */
  readonly latencyFactor?: number;
  /** Only the slow tail's latencies multiplied by this (p95 moves, p50 does not). */
  readonly tailFactor?: number;
  /** Every canary request answered 4xx. */
  readonly all4xx?: boolean;
  readonly heterogeneity?: boolean;
  /** A baseline revision serves at the canary's percent. */
  readonly baseline?: boolean;
}

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

/** Binomial draw: exact for small n or rare events, normal approximation when both tails are large. */
export function binomial(n: number, p: number, rand: () => number): number {
  if (n <= 0 || !(p > 1e-12)) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(n, 1 - p, rand);
  const mean = n * p;
  if (mean < 30) {
    if (n < 60) {
      let k = 0;
      for (let i = 0; i < n; i++) if (rand() < p) k++;
      return k;
    }
    // Waiting times between successes (geometric), for a rare event in a large population.
    const q = Math.log1p(-p);
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

/** Standard normal CDF (for bucket probabilities; 1e-7 is plenty here). */
export function phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** The chance of each bucket (underflow, each finite bucket, overflow) of a distribution with this CDF. */
export function bucketProbabilities(bounds: readonly number[], cdf: (x: number) => number): number[] {
  const probs: number[] = [];
  let prev = 0;
  for (const b of bounds) {
    const c = cdf(b);
    probs.push(c - prev);
    prev = c;
  }
  probs.push(1 - prev);
  return probs;
}

/** Bucket probabilities of the latency mixture with every latency times `scale`, the tail times `tail`. */
const latencyProbabilities = (scale: number, tail: number): number[] =>
  bucketProbabilities(
    BOUNDS,
    (x) =>
      MODEL.fast.weight * phi(Math.log(x / (MODEL.fast.medianMs * scale)) / MODEL.fast.sigma) +
      MODEL.slow.weight * phi(Math.log(x / (MODEL.slow.medianMs * scale * tail)) / MODEL.slow.sigma),
  );

/**
 * A multinomial draw of `n` over `probs` by successive binomials; it stops at the last nonzero count,
 * so trailing zeros are left out, as Cloud Monitoring leaves them out.
 */
export function multinomial(n: number, probs: readonly number[], rand: () => number): number[] {
  const counts: number[] = [];
  let left = n;
  let mass = 1;
  for (const q of probs) {
    if (left === 0) break;
    const k = mass > 1e-12 ? binomial(left, Math.min(1, q / mass), rand) : left;
    counts.push(k);
    left -= k;
    mass -= q;
  }
  if (left > 0) counts[counts.length - 1] += left;
  return counts;
}

const latencies = (n: number, probs: readonly number[], rand: () => number): Distribution => ({
  count: n,
  bucketOptions: LATENCY_BUCKETS,
  bucketCounts: multinomial(n, probs, rand),
});

interface Revision {
  readonly errorFactor: number;
  readonly latencyFactor: number;
  readonly tailFactor: number;
  readonly all4xx: boolean;
}

function side(n: number, rev: Revision, sc: Scenario, od: number, lat: number, rand: () => number): Side {
  const e5 = rev.all4xx ? 0 : binomial(n, Math.min(1, sc.baseErrorRatio * rev.errorFactor * od), rand);
  const e4 = rev.all4xx ? n - e5 : binomial(n - e5, Math.min(1, MODEL.clientErrorRatio * od), rand);
  return {
    requests: { "2xx": n - e5 - e4, "3xx": 0, "4xx": e4, "5xx": e5 },
    latencies: latencies(n, latencyProbabilities(rev.latencyFactor * lat, rev.tailFactor), rand),
  };
}

export interface RolloutOutcome {
  readonly decision: "promote" | "rollback";
  /** The step's percent where it was decided. */
  readonly step: number;
  /** The look within that step, 1-based. */
  readonly look: number;
  readonly minutes: number;
  /** The tests that failed, for a rollback. */
  readonly failed: readonly string[];
}

/**
 * One whole rollout: `canaryPerInterval` is the canary's expected requests per interval at the first
 * step (5%); the service's total traffic stays the same at every step.
 */
export function simulateRollout(
  sc: Scenario,
  canaryPerInterval: number,
  settings: JudgmentSettings,
  rand: () => number,
): RolloutOutcome {
  const total = Math.round((canaryPerInterval * 100) / STEPS[0]);
  const lognormal = (sigma: number) => Math.exp(sigma * gaussian(rand));
  const fresh = (): Revision => ({
    errorFactor: sc.heterogeneity ? MODEL.fresh.errorFactor * lognormal(MODEL.revision.errorSigma) : 1,
    latencyFactor: sc.heterogeneity ? MODEL.fresh.latencyFactor * lognormal(MODEL.revision.latencySigma) : 1,
    tailFactor: 1,
    all4xx: false,
  });
  const base = fresh();
  const own = fresh();
  const canary: Revision = {
    errorFactor: (sc.errorFactor ?? 1) * own.errorFactor,
    latencyFactor: (sc.latencyFactor ?? 1) * own.latencyFactor,
    tailFactor: sc.tailFactor ?? 1,
    all4xx: sc.all4xx ?? false,
  };
  const stable: Revision = { errorFactor: 1, latencyFactor: 1, tailFactor: 1, all4xx: false };
  let state = startRollout(settings);
  let minutes = 0;
  for (const [i, percent] of STEPS.entries()) {
    state = startStep(state, percent, STEPS.slice(i + 1));
    for (let look = 1; look <= settings.maxIntervals; look++) {
      minutes += INTERVAL_MINUTES;
      const od = lognormal(MODEL.overdispersion);
      const lat = lognormal(MODEL.latencyJitter);
      const withBaseline = sc.baseline && percent <= 50;
      const nc = binomial(total, percent / 100, rand);
      const nb = withBaseline ? binomial(total - nc, percent / (100 - percent), rand) : 0;
      const interval: Interval = {
        canary: side(nc, canary, sc, od, lat, rand),
        stable: side(total - nc - nb, stable, sc, od, lat, rand),
        ...(withBaseline ? { baseline: side(nb, base, sc, od, lat, rand) } : {}),
      };
      const r = judgeLook(state, interval, settings);
      state = r.state;
      if (r.decision === "rollback") {
        const failed = r.verdicts.filter((v) => v.outcome === "fail").map((v) => v.test);
        return { decision: "rollback", step: percent, look, minutes, failed };
      }
      if (r.decision === "advance") break;
    }
  }
  return { decision: "promote", step: 100, look: 0, minutes, failed: [] };
}
