import { MetricServiceClient, protos } from "@google-cloud/monitoring";
import type {
  BucketOptions,
  Distribution,
  LlmSide,
  RegionSides,
  ResponseCounts,
  Side,
} from "../../model/judgment/input";
import {
  isProviderError,
  llmMetricNames,
  TOKEN_BUCKETS,
  TTFT_BUCKETS,
  type ServiceLlm,
} from "../../model/llm";
import { logMetricType } from "../../components/monitoring/filters";
import { canonicalJson } from "../../model/release/revisionName";
import { monitoringClientOptions } from "../live/endpoint";
import { DEFAULT_METRICS_RETRY, retryTransient, type MetricsRetry } from "./metricsRead";
import { systemClock, type Clock, type IntervalQuery, type IntervalRead, type IntervalSource } from "./ports";

const num = (v: number | string | Long | null | undefined): number => (v == null ? 0 : Number(v));
interface Long {
  toString(): string;
}

type TimeSeries = protos.google.monitoring.v3.ITimeSeries;
type ListRequest = protos.google.monitoring.v3.IListTimeSeriesRequest;
type Role = keyof RegionSides;

const MINUTE_MS = 60_000;

/** Cloud Monitoring's points may arrive this late: its docs' example, which they say varies by metric. */
export const LATE_POINTS_MS = 240_000;

/**
 * The whole minutes inside [start, end): the start rounded up and the end rounded down. Cloud Run writes
 * one point a minute, so a partial minute at either edge would mix in traffic from before the look began
 * (the previous step's split) or a minute still being written. Rejects a window with no whole minute.
 */
export function alignWindow(start: Date, end: Date): { start: Date; end: Date } {
  const from = Math.ceil(start.getTime() / MINUTE_MS) * MINUTE_MS;
  const to = Math.floor(end.getTime() / MINUTE_MS) * MINUTE_MS;
  if (!(to - from >= MINUTE_MS))
    throw new RangeError(
      `The window ${start.toISOString()} to ${end.toISOString()} holds no whole minute, and Cloud Run's ` +
        "metrics are one point a minute: read a window spanning at least one minute boundary to the next.",
    );
  return { start: new Date(from), end: new Date(to) };
}

/** `label = "a"`, or `(label = "a" OR label = "b" ...)`: Monitoring's filter strings take JSON escapes. */
const anyOf = (label: string, values: readonly string[]) => {
  const terms = values.map((v) => `${label} = ${JSON.stringify(v)}`);
  return terms.length === 1 ? terms[0] : `(${terms.join(" OR ")})`;
};

/** The filter for one Cloud Run metric of `service`'s named revisions in its regions: one list call. */
export function seriesFilter(
  metric: "request_count" | "request_latencies",
  service: string,
  revisions: readonly string[],
  regions: readonly string[],
): string {
  return revisionsFilter(`run.googleapis.com/${metric}`, service, revisions, regions);
}

/**
 * The filter for one of a service's model call metrics (a log-based metric, model/llm.ts): its series
 * are written against the log entries' `cloud_run_revision` resource, so they carry the same revision
 * and location labels as Cloud Run's own metrics.
 */
export function llmSeriesFilter(
  metric: string,
  service: string,
  revisions: readonly string[],
  regions: readonly string[],
): string {
  return revisionsFilter(logMetricType(metric), service, revisions, regions);
}

function revisionsFilter(
  metricType: string,
  service: string,
  revisions: readonly string[],
  regions: readonly string[],
): string {
  return [
    `metric.type = ${JSON.stringify(metricType)}`,
    `resource.type = "cloud_run_revision"`,
    `resource.labels.service_name = ${JSON.stringify(service)}`,
    anyOf("resource.labels.revision_name", revisions),
    anyOf("resource.labels.location", regions),
  ].join(" AND ");
}

/**
 * The class a `response_code_class` label counts as. 1xx (a protocol switch, such as a WebSocket
 * upgrade) is a success; any other class (none, or a request that got no response) counts as 5xx, so it
 * weighs against the revision that served it instead of vanishing from the comparison.
 */
export function responseClass(label: string | null | undefined): keyof ResponseCounts {
  switch (label) {
    case "2xx":
    case "3xx":
    case "4xx":
    case "5xx":
      return label;
    case "1xx":
      return "2xx";
    default:
      return "5xx";
  }
}

/** A proto Distribution in Cloud Monitoring's JSON shape, layout untouched; undefined without buckets. */
export function distributionJson(d: protos.google.api.IDistribution): Distribution | undefined {
  const o = d.bucketOptions;
  let bucketOptions: BucketOptions;
  if (o?.exponentialBuckets) {
    const b = o.exponentialBuckets;
    bucketOptions = {
      exponentialBuckets: {
        numFiniteBuckets: num(b.numFiniteBuckets),
        growthFactor: num(b.growthFactor),
        scale: num(b.scale),
      },
    };
  } else if (o?.linearBuckets) {
    const b = o.linearBuckets;
    bucketOptions = {
      linearBuckets: {
        numFiniteBuckets: num(b.numFiniteBuckets),
        width: num(b.width),
        offset: num(b.offset),
      },
    };
  } else if (o?.explicitBuckets) {
    bucketOptions = { explicitBuckets: { bounds: (o.explicitBuckets.bounds ?? []).map(num) } };
  } else {
    return undefined;
  }
  return { count: num(d.count), bucketOptions, bucketCounts: (d.bucketCounts ?? []).map(num) };
}

/** Two distributions of one layout added bucket by bucket (a series split over two points). */
function addDistributions(a: Distribution, b: Distribution): Distribution {
  const length = Math.max(a.bucketCounts.length, b.bucketCounts.length);
  return {
    count: a.count + b.count,
    bucketOptions: a.bucketOptions,
    bucketCounts: Array.from({ length }, (_, i) => (a.bucketCounts[i] ?? 0) + (b.bucketCounts[i] ?? 0)),
  };
}

const ZERO_COUNTS: ResponseCounts = { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 };
/**
 * No requests: no layout to keep, so the smallest valid explicit one (one edge) stands in; a layout
 * without an edge is no layout, and a replay of the report would refuse it.
 */
const EMPTY_LATENCIES: Distribution = {
  count: 0,
  bucketOptions: { explicitBuckets: { bounds: [0] } },
  bucketCounts: [],
};

/** Where a series belongs: its region and the role of its revision; undefined for another revision. */
type Locate = (s: TimeSeries) => { region: string; role: Role } | undefined;
const key = (region: string, role: Role) => `${region}\n${role}`;

/** One distribution per region and role: a series' points added up, one bucket layout kept. */
function foldDistributions(
  series: readonly TimeSeries[],
  where: Locate,
  what: string,
  notes: string[],
): Map<string, Distribution> {
  const distributions = new Map<string, Distribution>();
  for (const s of series) {
    const at = where(s);
    if (!at) continue;
    const k = key(at.region, at.role);
    for (const p of s.points ?? []) {
      const raw = p.value?.distributionValue;
      const d = raw ? distributionJson(raw) : undefined;
      if (!d) {
        notes.push(`the ${at.role} revision's ${what} in ${at.region} came without buckets; left out`);
        continue;
      }
      const sum = distributions.get(k);
      if (!sum) distributions.set(k, d);
      else if (canonicalJson(sum.bucketOptions) === canonicalJson(d.bucketOptions))
        distributions.set(k, addDistributions(sum, d));
      else notes.push(`the ${at.role} revision's ${what} in ${at.region} changed bucket layout; one kept`);
    }
  }
  return distributions;
}

/** A service's model call series for one look: calls by provider status, output tokens, time to first token. */
export interface LlmSeries {
  readonly llm: ServiceLlm;
  readonly calls: readonly TimeSeries[];
  readonly outputTokens: readonly TimeSeries[];
  readonly timeToFirstToken: readonly TimeSeries[];
}

/** No calls: the metric's own layout with no counts, so a replay reads it as a valid, empty distribution. */
const noCalls = (layout: typeof TOKEN_BUCKETS): Distribution => ({
  count: 0,
  bucketOptions: { exponentialBuckets: { ...layout } },
  bucketCounts: [],
});

/**
 * Each region and role's model calls: calls and provider errors (model/llm.ts isProviderError on the
 * `status` label), output tokens per call and, for a streaming service, time to first token. A
 * revision without series made no calls in the window.
 */
function foldLlm(llm: LlmSeries, where: Locate, notes: string[]): (region: string, role: Role) => LlmSide {
  const calls = new Map<string, { calls: number; providerErrors: number }>();
  for (const s of llm.calls) {
    const at = where(s);
    if (!at) continue;
    const k = key(at.region, at.role);
    const n = (s.points ?? []).reduce((total, p) => total + num(p.value?.int64Value), 0);
    const sum = calls.get(k) ?? { calls: 0, providerErrors: 0 };
    calls.set(k, {
      calls: sum.calls + n,
      providerErrors: sum.providerErrors + (isProviderError(s.metric?.labels?.status ?? "") ? n : 0),
    });
  }
  const tokens = foldDistributions(llm.outputTokens, where, "output tokens", notes);
  const ttft = foldDistributions(llm.timeToFirstToken, where, "times to first token", notes);
  return (region, role) => {
    const k = key(region, role);
    return {
      ...(calls.get(k) ?? { calls: 0, providerErrors: 0 }),
      outputTokens: tokens.get(k) ?? noCalls(TOKEN_BUCKETS),
      ...(llm.llm.streams ? { timeToFirstToken: ttft.get(k) ?? noCalls(TTFT_BUCKETS) } : {}),
    };
  };
}

/**
 * Folds the two metrics' series (grouped by location and revision, one point each) into each region's
 * sides. A side with no series served no requests in the window: Monitoring writes no point for a
 * revision without traffic, so absence is zero, not an error. Returns notes on what could not be used.
 */
export function foldSeries(
  query: IntervalQuery,
  counts: readonly TimeSeries[],
  latencies: readonly TimeSeries[],
  llm?: LlmSeries,
): { regions: Record<string, RegionSides>; notes: string[] } {
  const roles = new Map<string, Role>();
  for (const role of ["canary", "stable", "baseline"] as const) {
    const revision = query.revisions[role];
    if (revision !== undefined) roles.set(revision, role);
  }
  const notes: string[] = [];
  const where: Locate = (s) => {
    const region = s.resource?.labels?.location ?? "";
    const role = roles.get(s.resource?.labels?.revision_name ?? "");
    return role && query.regions.includes(region) ? { region, role } : undefined;
  };

  const requests = new Map<string, Record<keyof ResponseCounts, number>>();
  for (const s of counts) {
    const at = where(s);
    if (!at) continue;
    const k = key(at.region, at.role);
    const sums = requests.get(k) ?? { ...ZERO_COUNTS };
    sums[responseClass(s.metric?.labels?.response_code_class)] += (s.points ?? []).reduce(
      (total, p) => total + num(p.value?.int64Value),
      0,
    );
    requests.set(k, sums);
  }

  const distributions = foldDistributions(latencies, where, "latencies", notes);

  const llmOf = llm ? foldLlm(llm, where, notes) : undefined;
  const regions: Record<string, RegionSides> = {};
  for (const region of query.regions) {
    const side = (role: Role): Side => ({
      requests: requests.get(key(region, role)) ?? ZERO_COUNTS,
      latencies: distributions.get(key(region, role)) ?? EMPTY_LATENCIES,
      ...(llmOf ? { llm: llmOf(region, role) } : {}),
    });
    regions[region] = {
      canary: side("canary"),
      stable: side("stable"),
      ...(query.revisions.baseline !== undefined ? { baseline: side("baseline") } : {}),
    };
  }
  return { regions, notes };
}

/** What to do about a read Cloud Monitoring refused for good, by status. */
function readFix(project: string, status: string | undefined): string | undefined {
  switch (status) {
    case "PERMISSION_DENIED":
      return (
        `Fix: grant the identity the rollout runs as roles/monitoring.viewer on project ${project} ` +
        "(it reads Cloud Run's request metrics), or run it as one that has it."
      );
    case "UNAUTHENTICATED":
      return "Fix: sign in with `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS.";
    case "INVALID_ARGUMENT":
    case "NOT_FOUND":
      return `Fix: check that \`gcp:project\` (${project}) is the project the services run in.`;
    default:
      return undefined;
  }
}

export interface IntervalSourceOptions {
  /** Default: Google's endpoint, or the emulator `ORCHESTRA_MONITORING_ENDPOINT` names. */
  readonly client?: MetricServiceClient;
  /** Backoff between retries of transient errors is slept on this clock. */
  readonly clock?: Clock;
  readonly retry?: MetricsRetry;
  readonly signal?: AbortSignal;
}

/**
 * The rollout's reads: for each of Cloud Run's two request metrics, one ListTimeSeries call (paged)
 * covering every region and named revision, grouped by location and revision, summed by Monitoring over
 * the aligned window (ALIGN_DELTA then REDUCE_SUM, one alignment period the window's length) so each
 * series is one point. Latency distributions pass through with whatever bucket layout they have. For a
 * service that logs its model calls, the same for its calls (by provider status), output tokens and,
 * when it streams, time to first token.
 */
export class CloudMonitoringIntervalSource implements IntervalSource {
  private readonly client: MetricServiceClient;
  private readonly clock: Clock;

  constructor(
    private readonly project: string,
    private readonly options: IntervalSourceOptions = {},
  ) {
    this.client = options.client ?? new MetricServiceClient(monitoringClientOptions());
    this.clock = options.clock ?? systemClock;
  }

  async read(query: IntervalQuery): Promise<IntervalRead> {
    const named = Object.values(query.revisions).filter((r): r is string => r !== undefined);
    if (new Set(named).size !== named.length)
      throw new Error(`Each side needs its own revision: ${JSON.stringify(query.revisions)}`);
    if (query.regions.length === 0) throw new Error(`No region to read for ${query.service}.`);
    const window = alignWindow(query.start, query.end);
    const list = (metric: string, filter: string, groupBy: string[]) =>
      this.list(metric, {
        name: `projects/${this.project}`,
        filter,
        interval: {
          startTime: { seconds: window.start.getTime() / 1000 },
          endTime: { seconds: window.end.getTime() / 1000 },
        },
        aggregation: {
          alignmentPeriod: { seconds: (window.end.getTime() - window.start.getTime()) / 1000 },
          perSeriesAligner: "ALIGN_DELTA",
          crossSeriesReducer: "REDUCE_SUM",
          groupByFields: ["resource.labels.location", "resource.labels.revision_name", ...groupBy],
        },
        view: "FULL",
      });
    const run = (metric: "request_count" | "request_latencies", groupBy: string[]) =>
      list(metric, seriesFilter(metric, query.service, named, query.regions), groupBy);
    const counts = await run("request_count", ["metric.labels.response_code_class"]);
    const latencies = await run("request_latencies", []);
    const reads = [counts, latencies];
    let llm: LlmSeries | undefined;
    if (query.llm) {
      // The service's model calls, from its log-based metrics, by the same region and revision.
      const names = llmMetricNames(query.service);
      const logged = (metric: string, groupBy: string[]) =>
        list(metric, llmSeriesFilter(metric, query.service, named, query.regions), groupBy);
      const calls = await logged(names.calls, ["metric.labels.status"]);
      const outputTokens = await logged(names.outputTokens, []);
      const ttft = query.llm.streams ? await logged(names.timeToFirstToken, []) : undefined;
      reads.push(calls, outputTokens, ...(ttft ? [ttft] : []));
      llm = {
        llm: query.llm,
        calls: calls.series,
        outputTokens: outputTokens.series,
        timeToFirstToken: ttft?.series ?? [],
      };
    }
    const folded = foldSeries(query, counts.series, latencies.series, llm);
    const incomplete = [...reads.flatMap((r) => r.notes), ...folded.notes];
    const age = this.clock.now() - window.end.getTime();
    if (age < LATE_POINTS_MS)
      incomplete.push(
        `the window ended ${Math.max(0, Math.round(age / 1000))} s before it was read, and Cloud Monitoring's ` +
          `points can arrive up to ${LATE_POINTS_MS / 1000} s late: its last minutes may be missing points`,
      );
    return { interval: { regions: folded.regions }, window, incomplete };
  }

  /** Every page of one query; each page's call retried on transient errors. */
  private async list(metric: string, first: ListRequest): Promise<{ series: TimeSeries[]; notes: string[] }> {
    const series: TimeSeries[] = [];
    const notes: string[] = [];
    let request: ListRequest | null = first;
    while (request) {
      const asked: ListRequest = request;
      const [page, next, response] = await retryTransient(
        () => this.client.listTimeSeries(asked, { autoPaginate: false }),
        this.clock,
        this.options.retry ?? DEFAULT_METRICS_RETRY,
        this.options.signal,
        (status) => readFix(this.project, status),
      );
      series.push(...page);
      for (const e of response?.executionErrors ?? [])
        notes.push(
          `Cloud Monitoring reported for ${metric}: ${e.message ?? "an error"} (code ${e.code ?? 0})`,
        );
      request = next?.pageToken ? next : null;
    }
    return { series, notes };
  }
}
