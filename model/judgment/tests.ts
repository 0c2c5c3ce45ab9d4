import { commonBuckets, total, type Buckets } from "./distribution";
import { binomialLower, binomialUpper, normalUpper, studentUpper } from "./exact";

/**
 * The tests one look runs. Counts get exact conditional tests: given x = xc + xr events, the canary's
 * share is Binomial(x, r·nc / (r·nc + nr)) when its rate is r times the reference's (the Poisson
 * approximation to each side, which is exact for rare events and conservative otherwise).
 */

/** The canary's share of `x` events when its rate is `ratio` times the reference's. */
const share = (nc: number, nr: number, ratio: number) => (ratio * nc) / (ratio * nc + nr);

/**
 * One-sided p for "the canary's rate is at most `ratio` times the reference's": small means the canary
 * is worse than the margin allows. 1 when either side served nothing.
 */
export function rateAbove(xc: number, nc: number, xr: number, nr: number, ratio: number): number {
  if (nc <= 0 || nr <= 0) return 1;
  return binomialUpper(xc, xc + xr, share(nc, nr, ratio));
}

/**
 * One-sided p for "the canary's rate is at least `ratio` times the reference's": small is evidence
 * that a regression of that size is absent. 1 when either side served nothing.
 */
export function rateBelow(xc: number, nc: number, xr: number, nr: number, ratio: number): number {
  if (nc <= 0 || nr <= 0) return 1;
  return binomialLower(xc, xc + xr, share(nc, nr, ratio));
}

/**
 * The smallest rate ratio the upper test would reject at `alpha` had the canary's count come out as
 * expected (its n times the reference's rate times the ratio): what this much traffic can detect.
 * Infinity when not even a canary failing every request would be rejected.
 */
export function detectableRatio(nc: number, xr: number, nr: number, margin: number, alpha: number): number {
  if (nc <= 0 || nr <= 0) return Infinity;
  const rate = Math.max(xr, 0.5) / nr; // with no reference events, half an event: a rate to scale
  const rejects = (r: number) => {
    const xc = Math.min(nc, Math.ceil(r * rate * nc));
    return rateAbove(xc, nc, xr, nr, margin) < alpha;
  };
  let hi = margin;
  while (!rejects(hi)) {
    hi *= 2;
    if (hi * rate > 1) return rejects(1 / rate) ? 1 / rate : Infinity;
  }
  let lo = margin;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (rejects(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Exact one-sided test that a rate exceeds `limit`: P(X >= x) for X ~ Binomial(n, limit). */
export function exceedsLimit(x: number, n: number, limit: number): number {
  return n <= 0 ? 1 : binomialUpper(x, n, limit);
}

/** Exact one-sided test that a rate is below `limit`: P(X <= x) for X ~ Binomial(n, limit). */
export function underLimit(x: number, n: number, limit: number): number {
  return n <= 0 ? 1 : binomialLower(x, n, limit);
}

export interface RankTest {
  readonly u: number;
  readonly z: number;
  /** One-sided p for "the canary's latencies are stochastically larger". */
  readonly pValue: number;
}

/**
 * Mann-Whitney U on two histograms, one-sided, with the tie correction: every request in one bucket is
 * a tie at the bucket's midrank. Exact for the bucketed data and conservative for the latencies
 * themselves (differences inside a bucket are not seen). Normal approximation, with the judgment's
 * minimum traffic far above where it matters. Differing layouts are first put on common edges.
 */
export function mannWhitney(canary: Buckets, reference: Buckets): RankTest {
  const [c, r] = commonBuckets(canary, reference);
  const n1 = total(c);
  const n2 = total(r);
  const n = n1 + n2;
  if (n1 === 0 || n2 === 0) return { u: 0, z: 0, pValue: 1 };
  let below = 0;
  let rankSum = 0;
  let ties = 0;
  for (let i = 0; i < c.counts.length; i++) {
    const t = c.counts[i] + r.counts[i];
    if (t === 0) continue;
    rankSum += c.counts[i] * (below + (t + 1) / 2);
    ties += t * t * t - t;
    below += t;
  }
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  if (!(variance > 0)) return { u, z: 0, pValue: 1 };
  const z = (u - (n1 * n2) / 2) / Math.sqrt(variance);
  return { u, z, pValue: normalUpper(z) };
}

/**
 * One-sided one-sample t-test that the mean of `values` is above `mu` (per-interval variance: each
 * interval is one observation). 1 with fewer than two values or none of them varying.
 */
export function meanAbove(values: readonly number[], mu: number): number {
  const n = values.length;
  if (n < 2) return 1;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  // No spread between intervals says nothing about their variance: no evidence either way.
  if (!(sd > 0)) return 1;
  return studentUpper((mean - mu) / (sd / Math.sqrt(n)), n - 1);
}
