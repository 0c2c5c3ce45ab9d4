import type { Interval, Side } from "../../model/judgment/input";
import type { CloudMonitoringSource, RevisionMetrics } from "./cloudMonitoring";
import type { IntervalQuery, IntervalRead, IntervalSource } from "./ports";

/**
 * The interval port over the pooled Cloud Monitoring reader, until the per-region reader replaces it.
 * What it cannot see it leaves empty rather than guessing: every region is pooled into one (named
 * "all regions"), and 4xx are not split from 2xx, so the 4xx test finds no evidence either way and a
 * step is then decided at its last look.
 */
export class PooledIntervalSource implements IntervalSource {
  constructor(private readonly source: Pick<CloudMonitoringSource, "revisionMetrics">) {}

  async read(q: IntervalQuery): Promise<IntervalRead> {
    const side = async (revision: string | undefined): Promise<Side> =>
      toSide(
        revision
          ? await this.source.revisionMetrics({ service: q.service, revision, start: q.start, end: q.end })
          : { requests: 0, errors: 0, latency: { bounds: [], counts: [] } },
      );
    const [canary, stable, baseline] = await Promise.all([
      side(q.revisions.canary),
      side(q.revisions.stable),
      q.revisions.baseline ? side(q.revisions.baseline) : undefined,
    ]);
    const interval: Interval = {
      regions: { "all regions": { canary, stable, ...(baseline ? { baseline } : {}) } },
    };
    return { interval, window: { start: q.start, end: q.end }, incomplete: [] };
  }
}

function toSide(m: RevisionMetrics): Side {
  // The reader's edges end with the overflow's Infinity; a Distribution lists the finite edges only.
  const bounds = m.latency.bounds.filter((b) => Number.isFinite(b));
  const count = m.latency.counts.reduce((a, b) => a + b, 0);
  return {
    requests: { "2xx": m.requests - m.errors, "3xx": 0, "4xx": 0, "5xx": m.errors },
    latencies: {
      count: bounds.length > 0 ? count : 0,
      bucketOptions: { explicitBuckets: { bounds: bounds.length > 0 ? bounds : [1] } },
      bucketCounts: bounds.length > 0 ? [...m.latency.counts] : [],
    },
  };
}
