/**
 * The statistics behind rollout analysis: pure functions, no I/O.
 *
 * Latency arrives from Cloud Monitoring as a distribution (counts per bucket), not as samples. The rank
 * test therefore ranks buckets: every request in one bucket is a tie at that bucket's midrank, and the
 * tie-corrected variance of Mann-Whitney U accounts for it. This is exact for the bucketed data and
 * conservative for the underlying latencies (differences inside a bucket are not seen).
 */

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 via erf; absolute error below 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export interface TestResult {
  /** Standardised statistic; positive means the canary looks worse. */
  readonly z: number;
  /** One-sided p-value for "the canary is worse than stable". */
  readonly pValue: number;
}

/**
 * Two-proportion z-test with a pooled variance, one-sided: is the canary's failure ratio higher than
 * stable's? With no failures at all on either side there is no evidence either way: z = 0, p = 0.5.
 */
export function twoProportionTest(
  canaryFailures: number,
  canaryTotal: number,
  stableFailures: number,
  stableTotal: number,
): TestResult {
  if (canaryTotal <= 0 || stableTotal <= 0) return { z: 0, pValue: 0.5 };
  const pooled = (canaryFailures + stableFailures) / (canaryTotal + stableTotal);
  const variance = pooled * (1 - pooled) * (1 / canaryTotal + 1 / stableTotal);
  if (variance <= 0) return { z: 0, pValue: 0.5 };
  const z = (canaryFailures / canaryTotal - stableFailures / stableTotal) / Math.sqrt(variance);
  return { z, pValue: 1 - normalCdf(z) };
}

/** A latency distribution: `counts[i]` requests fell in bucket i, whose upper bound is `bounds[i]` (ms). */
export interface Histogram {
  /** Upper bound of each bucket in milliseconds, increasing; the last may be Infinity (overflow). */
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
}

export const total = (h: Histogram): number => h.counts.reduce((a, b) => a + b, 0);

/**
 * Mann-Whitney U on two histograms over the same buckets, with the tie correction, one-sided for
 * "canary latencies are stochastically larger". Uses the normal approximation, fine from a few dozen
 * requests per side (the analysis asks for far more before it judges).
 */
export function mannWhitneyBuckets(canary: Histogram, stable: Histogram): TestResult & { u: number } {
  sameBuckets(canary, stable);
  const n1 = total(canary);
  const n2 = total(stable);
  const n = n1 + n2;
  if (n1 === 0 || n2 === 0) return { u: 0, z: 0, pValue: 0.5 };
  let below = 0;
  let rankSumCanary = 0;
  let tieTerm = 0;
  for (let i = 0; i < canary.counts.length; i++) {
    const t = canary.counts[i] + stable.counts[i];
    if (t === 0) continue;
    const midrank = below + (t + 1) / 2;
    rankSumCanary += canary.counts[i] * midrank;
    tieTerm += t * t * t - t;
    below += t;
  }
  const u = rankSumCanary - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, z: 0, pValue: 0.5 };
  const z = (u - mean) / Math.sqrt(variance);
  return { u, z, pValue: 1 - normalCdf(z) };
}

/**
 * A quantile of a histogram, interpolating linearly inside the bucket it falls in (the lower bound of
 * the first bucket is 0). A quantile in the overflow bucket is reported as that bucket's lower bound.
 */
export function quantile(h: Histogram, q: number): number | undefined {
  const n = total(h);
  if (n === 0) return undefined;
  const target = q * n;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i];
    const lower = i === 0 ? 0 : h.bounds[i - 1];
    if (c > 0 && seen + c >= target) {
      const upper = h.bounds[i];
      if (!Number.isFinite(upper)) return lower;
      return lower + ((target - seen) / c) * (upper - lower);
    }
    seen += c;
  }
  return h.bounds[h.bounds.length - 2] ?? h.bounds[0];
}

function sameBuckets(a: Histogram, b: Histogram): void {
  if (
    a.bounds.length !== b.bounds.length ||
    a.counts.length !== a.bounds.length ||
    b.counts.length !== b.bounds.length ||
    a.bounds.some((x, i) => x !== b.bounds[i])
  ) {
    throw new Error(
      "Latency distributions of canary and stable use different buckets: they cannot be ranked together.",
    );
  }
}

/**
 * Upper bounds of Cloud Monitoring's exponential buckets: an underflow bucket below `scale`, then
 * `finite` buckets growing by `growth`, then an overflow bucket (Infinity).
 */
export function exponentialBounds(finite: number, growth: number, scale: number): number[] {
  const bounds: number[] = [];
  for (let i = 0; i <= finite; i++) bounds.push(scale * Math.pow(growth, i));
  bounds.push(Infinity);
  return bounds;
}
