/**
 * The data one canary judgment looks at, in the shape `orchestra rollout judge --input` reads and the
 * rollout's report records: per look (one analysis interval), per region, what the canary, stable and
 * (optionally) the baseline revision served. Field names follow Cloud Monitoring's JSON so a recorded
 * read replays as it was read.
 */

/** Cloud Monitoring's `Distribution.bucketOptions`: exactly one of the three layouts. */
export type BucketOptions =
  | { readonly exponentialBuckets: { numFiniteBuckets: number; growthFactor: number; scale: number } }
  | { readonly linearBuckets: { numFiniteBuckets: number; width: number; offset: number } }
  | { readonly explicitBuckets: { bounds: readonly number[] } };

/**
 * Cloud Monitoring's `Distribution` (latencies in ms): `bucketCounts` has the underflow bucket first
 * and the overflow bucket last, and may leave out trailing zeros.
 */
export interface Distribution {
  readonly count: number;
  readonly bucketOptions: BucketOptions;
  readonly bucketCounts: readonly number[];
}

/** Requests by response class in one interval. */
export interface ResponseCounts {
  readonly "2xx": number;
  readonly "3xx": number;
  readonly "4xx": number;
  readonly "5xx": number;
}

/**
 * A revision's model calls in one interval, from its service's call logs (docs/llm.md): only a service
 * that declares `llm` has them.
 */
export interface LlmSide {
  readonly calls: number;
  /** Calls the provider answered with a 5xx or a 429 (model/llm.ts isProviderError). */
  readonly providerErrors: number;
  /** Output tokens per call. */
  readonly outputTokens?: Distribution;
  /**
   * Seconds from a model request to its first streamed token, as the log-based metric records it. A
   * service that streams has it, and its latency tests read it instead of `latencies`.
   */
  readonly timeToFirstToken?: Distribution;
}

/** What one revision served in one interval (that interval's own data, not a running total). */
export interface Side {
  readonly requests: ResponseCounts;
  readonly latencies: Distribution;
  /** Its model calls, for a service that logs them; optional, and without it nothing LLM is judged. */
  readonly llm?: LlmSide;
}

/** One region's sides in one interval. `baseline` only when a baseline revision is deployed. */
export interface RegionSides {
  readonly canary: Side;
  readonly stable: Side;
  readonly baseline?: Side;
}

/** One interval: either one set of sides, or the same per region. */
export type Interval = RegionSides | { readonly regions: Readonly<Record<string, RegionSides>> };

export interface StepInput {
  /** The canary's configured share of traffic in this step. */
  readonly percent: number;
  /** Read in order, one per look, until the step is decided. */
  readonly intervals: readonly Interval[];
}

export interface ScenarioInput {
  readonly name: string;
  readonly steps: readonly StepInput[];
}

export interface JudgeInput {
  readonly scenarios: readonly ScenarioInput[];
}

/** The per-region form of any interval. A region-less interval is one region named "". */
export function intervalRegions(interval: Interval): Readonly<Record<string, RegionSides>> {
  return "regions" in interval ? interval.regions : { "": interval };
}
