import type { Distribution } from "../../model/judgment/input";
import { bucketBounds } from "../../model/judgment/distribution";
import { bucketProbabilities, multinomial, phi, prng } from "../../bench/rolloutSim";

/** Model call data for judgment tests: seeded, so every run sees the same numbers. */

/**
 * `n` log-normal values (median `median`, log-sd `sigma`) as a Distribution on an exponential layout:
 * one multinomial draw over the layout's buckets, as `n` values drawn one by one would fall.
 */
export function lognormal(
  n: number,
  median: number,
  sigma: number,
  layout: { numFiniteBuckets: number; growthFactor: number; scale: number },
  seed: number,
): Distribution {
  const bucketOptions = { exponentialBuckets: { ...layout } };
  const probs = bucketProbabilities(bucketBounds(bucketOptions), (x) => phi(Math.log(x / median) / sigma));
  const drawn = multinomial(n, probs, prng(seed));
  return { count: n, bucketOptions, bucketCounts: probs.map((_, i) => drawn[i] ?? 0) };
}
