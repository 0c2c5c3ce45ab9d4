import type { Interval, RegionSides, Side } from "../../model/judgment/input";

// Inputs for `orchestra rollout judge`: 200 requests a look per percent of traffic, 1% 5xx when healthy.

const LAYOUT = { exponentialBuckets: { numFiniteBuckets: 40, growthFactor: 1.4, scale: 1 } };
/** `n` requests with `e5` 5xx and 2% 4xx, latencies around 80 ms (bucket 13 of growth 1.4). */
export function side(n: number, e5: number, slow = false): Side {
  const counts = Array<number>(slow ? 16 : 15).fill(0);
  counts[12] = Math.floor(n / 4);
  counts[13] = Math.floor(n / 2);
  counts[slow ? 15 : 14] = n - counts[12] - counts[13];
  const e4 = Math.round(n * 0.02);
  return {
    requests: { "2xx": n - e5 - e4, "3xx": 0, "4xx": e4, "5xx": e5 },
    latencies: { count: n, bucketOptions: LAYOUT, bucketCounts: counts },
  };
}
export const healthy = (percent: number): RegionSides => ({
  canary: side(200 * percent, 2 * percent),
  stable: side(200 * (100 - percent), 2 * (100 - percent)),
});
export const errors = (percent: number, ratio: number): RegionSides => ({
  canary: side(200 * percent, 2 * percent * ratio),
  stable: side(200 * (100 - percent), 2 * (100 - percent)),
});
export const steps = (at: (percent: number) => Interval, looks = 6) =>
  [5, 25, 50, 100].map((percent) => ({ percent, intervals: Array(looks).fill(at(percent)) }));
