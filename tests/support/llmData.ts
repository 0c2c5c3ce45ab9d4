import type { Distribution } from "../../model/judgment/input";

/** Model call data for judgment tests: seeded, so every run sees the same numbers. */

/** A seeded generator (mulberry32): the same data on every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` log-normal values (median `median`, log-sd `sigma`) as a Distribution on an exponential layout. */
export function lognormal(
  n: number,
  median: number,
  sigma: number,
  layout: { numFiniteBuckets: number; growthFactor: number; scale: number },
  seed: number,
): Distribution {
  const next = random(seed);
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
