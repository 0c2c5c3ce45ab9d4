import type { Distribution } from "../../model/judgment/input";
import { prng } from "../../bench/rolloutSim";

/** Model call data for judgment tests: seeded, so every run sees the same numbers. */

/** `n` log-normal values (median `median`, log-sd `sigma`) as a Distribution on an exponential layout. */
export function lognormal(
  n: number,
  median: number,
  sigma: number,
  layout: { numFiniteBuckets: number; growthFactor: number; scale: number },
  seed: number,
): Distribution {
  const next = prng(seed);
  const counts = Array<number>(layout.numFiniteBuckets + 2).fill(0);
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    const x = median * Math.exp(sigma * z);
    const k =
      x < layout.scale
        ? 0
        : Math.min(
            layout.numFiniteBuckets + 1,
            1 + Math.floor(Math.log(x / layout.scale) / Math.log(layout.growthFactor)),
          );
    counts[k]++;
  }
  return { count: n, bucketOptions: { exponentialBuckets: { ...layout } }, bucketCounts: counts };
}
