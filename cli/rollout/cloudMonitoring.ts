import { MetricServiceClient, protos } from "@google-cloud/monitoring";

/** What one revision served over a window, pooled over regions (this reader's own shape). */
export interface RevisionMetrics {
  readonly requests: number;
  readonly errors: number;
  readonly latency: { readonly bounds: readonly number[]; readonly counts: readonly number[] };
}

/** Upper edges of Cloud Monitoring's exponential buckets, the overflow bucket's as Infinity. */
function exponentialBounds(finite: number, growth: number, scale: number): number[] {
  const bounds: number[] = [];
  for (let i = 0; i <= finite; i++) bounds.push(scale * Math.pow(growth, i));
  bounds.push(Infinity);
  return bounds;
}

type Series = protos.google.monitoring.v3.ITimeSeries[];

const num = (v: number | string | Long | null | undefined): number => (v == null ? 0 : Number(v));
interface Long {
  toString(): string;
}

/**
 * The production metrics source: Cloud Run's request_count (by response_code_class) and
 * request_latencies (a distribution in ms) for one revision, summed over the window.
 */
export class CloudMonitoringSource {
  private readonly client = new MetricServiceClient();
  constructor(private readonly project: string) {}

  private async series(
    metric: string,
    service: string,
    revision: string,
    start: Date,
    end: Date,
    groupBy: string[],
  ) {
    const seconds = Math.max(60, Math.ceil((end.getTime() - start.getTime()) / 60_000) * 60);
    const [series] = await this.client.listTimeSeries({
      name: `projects/${this.project}`,
      filter:
        `metric.type="run.googleapis.com/${metric}" AND resource.type="cloud_run_revision" AND ` +
        `resource.labels.service_name="${service}" AND resource.labels.revision_name="${revision}"`,
      interval: {
        startTime: { seconds: Math.floor(start.getTime() / 1000) },
        endTime: { seconds: Math.floor(end.getTime() / 1000) },
      },
      aggregation: {
        alignmentPeriod: { seconds },
        perSeriesAligner: "ALIGN_DELTA",
        crossSeriesReducer: "REDUCE_SUM",
        groupByFields: groupBy,
      },
      view: "FULL",
    });
    return series as Series;
  }

  async revisionMetrics(q: {
    service: string;
    revision: string;
    start: Date;
    end: Date;
  }): Promise<RevisionMetrics> {
    const counts = await this.series("request_count", q.service, q.revision, q.start, q.end, [
      "metric.labels.response_code_class",
    ]);
    let requests = 0;
    let errors = 0;
    for (const s of counts) {
      const n = (s.points ?? []).reduce((a, p) => a + num(p.value?.int64Value), 0);
      requests += n;
      if (s.metric?.labels?.response_code_class === "5xx") errors += n;
    }
    const latencies = await this.series("request_latencies", q.service, q.revision, q.start, q.end, []);
    let bounds: number[] = [];
    let bucketCounts: number[] = [];
    for (const s of latencies) {
      for (const p of s.points ?? []) {
        const d = p.value?.distributionValue;
        const exp = d?.bucketOptions?.exponentialBuckets;
        if (!d || !exp) continue;
        if (bounds.length === 0) {
          bounds = exponentialBounds(num(exp.numFiniteBuckets), num(exp.growthFactor), num(exp.scale));
          bucketCounts = bounds.map(() => 0);
        }
        // Trailing empty buckets may be omitted from bucketCounts.
        (d.bucketCounts ?? []).forEach((c, i) => (bucketCounts[Math.min(i, bounds.length - 1)] += num(c)));
      }
    }
    return { requests, errors, latency: { bounds, counts: bucketCounts } };
  }
}
