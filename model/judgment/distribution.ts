import type { BucketOptions, Distribution } from "./input";

/**
 * A latency histogram with its bucket edges spelled out. `bounds` are the finite edges, increasing;
 * bucket 0 is the underflow (below bounds[0]), bucket i is [bounds[i-1], bounds[i]), and the last
 * bucket is the overflow (from the last bound up). So `counts.length === bounds.length + 1`.
 */
export interface Buckets {
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
}

/** The finite edges of each Cloud Monitoring layout (N finite buckets have N + 1 edges). */
export function bucketBounds(o: BucketOptions): number[] {
  if ("explicitBuckets" in o) return [...o.explicitBuckets.bounds];
  // Loops, not Array.from: the judge builds these for every side of every look.
  const bounds: number[] = [];
  if ("exponentialBuckets" in o) {
    const { numFiniteBuckets: n, growthFactor: g, scale } = o.exponentialBuckets;
    for (let i = 0; i <= n; i++) bounds.push(scale * Math.pow(g, i));
  } else {
    const { numFiniteBuckets: n, width, offset } = o.linearBuckets;
    for (let i = 0; i <= n; i++) bounds.push(offset + width * i);
  }
  return bounds;
}

/**
 * A Distribution as Buckets: trailing buckets Cloud Monitoring left out are zeros. Throws an Error
 * naming what is wrong when the counts cannot belong to the layout.
 */
export function toBuckets(d: Distribution): Buckets {
  const bounds = bucketBounds(d.bucketOptions);
  let increasing = bounds.length > 0;
  for (let i = 0; increasing && i < bounds.length; i++)
    increasing = Number.isFinite(bounds[i]) && (i === 0 || bounds[i] > bounds[i - 1]);
  if (!increasing)
    throw new Error("bucketOptions must give at least one finite, strictly increasing bucket edge");
  if (d.bucketCounts.length > bounds.length + 1)
    throw new Error(
      `bucketCounts has ${d.bucketCounts.length} entries but the layout has ${bounds.length + 1} buckets (underflow and overflow included)`,
    );
  const counts: number[] = [];
  let sum = 0;
  for (let i = 0; i <= bounds.length; i++) {
    counts.push(d.bucketCounts[i] ?? 0);
    sum += counts[i];
  }
  if (sum !== d.count) throw new Error(`count is ${d.count} but bucketCounts add up to ${sum}`);
  return { bounds, counts };
}

export const total = (b: Buckets): number => b.counts.reduce((a, c) => a + c, 0);

const same = (a: number, b: number) =>
  a === b ||
  (Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)));

/** Adds counts of `b` into the edges `target`; every edge of target must be an edge of b. */
function coarsen(b: Buckets, target: readonly number[]): number[] {
  const counts = Array<number>(target.length + 1).fill(0);
  let t = 0;
  for (let i = 0; i < b.counts.length; i++) {
    // Bucket i of b ends at b.bounds[i] (the overflow never ends); it lies below target edge t.
    const end = i < b.bounds.length ? b.bounds[i] : Infinity;
    while (t < target.length && end > target[t] && !same(end, target[t])) t++;
    counts[t] += b.counts[i];
  }
  return counts;
}

/**
 * Two histograms on common edges. With one layout nothing changes. With differing layouts both are
 * coarsened onto the edges they share, so no bucket is ever split: resolution is lost where the
 * layouts disagree, but no count is moved by a guess. A layout that nests in the other (growth 2 in
 * growth 4, say) keeps the coarser one's resolution; unrelated layouts can share few edges, and then
 * latency comparisons see little: a coarse comparison rolls back less readily, never more.
 */
export function commonBuckets(a: Buckets, b: Buckets): [Buckets, Buckets] {
  if (a.bounds.length === b.bounds.length && a.bounds.every((x, i) => same(x, b.bounds[i]))) return [a, b];
  const shared = a.bounds.filter((x) => b.bounds.some((y) => same(x, y)));
  return [
    { bounds: shared, counts: coarsen(a, shared) },
    { bounds: shared, counts: coarsen(b, shared) },
  ];
}

/** The sum of two histograms (on their common edges when their layouts differ). */
export function addBuckets(a: Buckets | undefined, b: Buckets): Buckets {
  if (!a) return b;
  const [x, y] = commonBuckets(a, b);
  return { bounds: x.bounds, counts: x.counts.map((c, i) => c + y.counts[i]) };
}

const lowerEdge = (b: Buckets, i: number) => (i === 0 ? Math.min(0, b.bounds[0]) : b.bounds[i - 1]);
const upperEdge = (b: Buckets, i: number) => (i < b.bounds.length ? b.bounds[i] : Infinity);

/**
 * The q-quantile, interpolated linearly inside its bucket (latencies are never negative, so the
 * underflow bucket starts at 0). One in the overflow bucket is its lower edge: a lower bound.
 */
export function quantile(b: Buckets, q: number): number | undefined {
  const n = total(b);
  if (n === 0) return undefined;
  const target = q * n;
  let seen = 0;
  for (let i = 0; i < b.counts.length; i++) {
    const c = b.counts[i];
    if (c > 0 && seen + c >= target) {
      const lo = lowerEdge(b, i);
      const hi = upperEdge(b, i);
      return Number.isFinite(hi) ? lo + ((target - seen) / c) * (hi - lo) : lo;
    }
    seen += c;
  }
  return lowerEdge(b, b.counts.length - 1);
}

/** The upper edge of the bucket holding the q-quantile: at least that much of the requests lie below it. */
export function quantileEdge(b: Buckets, q: number): number {
  const n = total(b);
  let seen = 0;
  for (let i = 0; i < b.counts.length; i++) {
    seen += b.counts[i];
    if (n > 0 && seen >= q * n) return upperEdge(b, i);
  }
  return Infinity;
}

/** Requests in buckets that start at or above `x`: surely at least x. */
export function countFrom(b: Buckets, x: number): number {
  let n = 0;
  for (let i = 0; i < b.counts.length; i++) if (lowerEdge(b, i) >= x) n += b.counts[i];
  return n;
}

/** Requests in buckets that end above `x`: possibly above x. */
export function countPossiblyAbove(b: Buckets, x: number): number {
  let n = 0;
  for (let i = 0; i < b.counts.length; i++) if (upperEdge(b, i) > x) n += b.counts[i];
  return n;
}

/** The same histogram in another unit: every edge times `factor` (seconds to ms: 1000). */
export function scaleBuckets(b: Buckets, factor: number): Buckets {
  return { bounds: b.bounds.map((x) => x * factor), counts: b.counts };
}
