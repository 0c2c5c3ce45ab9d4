import type { LogMetricConfig } from "../../model/monitoring";
import {
  BY_MODEL,
  BY_PROVIDER_STATUS,
  BY_RESPONSE_CLASS,
  BY_REVISION,
  BY_SERVICE,
  BY_STATE,
  logMetricFilter,
  perRegion,
  PROVIDER_ERRORS,
  PUBSUB_METRICS,
  RUN_METRICS,
  runFilter,
  SERVER_ERRORS,
  subscriptionFilter,
} from "./filters";
import { logMetricAggregation } from "./policies";
import { llmMetricNames } from "../../model/llm";

/**
 * Dashboards as `google.monitoring.dashboard.v1.Dashboard` JSON: a 48-column mosaic of tiles. Every
 * chart of a service is split by revision, so during a canary its revision sits beside stable's.
 */

type Json = Record<string, unknown>;

export const COLUMNS = 48;
const HALF = COLUMNS / 2;
const CHART_HEIGHT = 16;

interface Aggregation {
  alignmentPeriod: string;
  perSeriesAligner: string;
  crossSeriesReducer: string;
  groupByFields: string[];
}

const agg = (aligner: string, reducer: string, groupBy: string[]): Aggregation => ({
  alignmentPeriod: "60s",
  perSeriesAligner: aligner,
  crossSeriesReducer: reducer,
  groupByFields: groupBy,
});

function dataSet(filter: string, aggregation: Aggregation, legend?: string): Json {
  return {
    timeSeriesQuery: { timeSeriesFilter: { filter, aggregation } },
    plotType: "LINE",
    minAlignmentPeriod: "60s",
    ...(legend ? { legendTemplate: legend } : {}),
  };
}

function ratioDataSet(numerator: string, denominator: string, groupBy: string[]): Json {
  return {
    timeSeriesQuery: {
      timeSeriesFilterRatio: {
        numerator: { filter: numerator, aggregation: agg("ALIGN_RATE", "REDUCE_SUM", groupBy) },
        denominator: { filter: denominator, aggregation: agg("ALIGN_RATE", "REDUCE_SUM", groupBy) },
      },
      unitOverride: "10^2.%",
    },
    plotType: "LINE",
    minAlignmentPeriod: "60s",
  };
}

function xyChart(title: string, dataSets: Json[], yLabel: string, threshold?: number): Json {
  return {
    title,
    xyChart: {
      dataSets,
      yAxis: { label: yLabel, scale: "LINEAR" },
      chartOptions: { mode: "COLOR" },
      ...(threshold !== undefined
        ? { thresholds: [{ value: threshold, color: "RED", direction: "ABOVE" }] }
        : {}),
    },
  };
}

function scorecard(title: string, filter: string, redBelow?: number): Json {
  return {
    title,
    scorecard: {
      timeSeriesQuery: { timeSeriesFilter: { filter } },
      sparkChartView: { sparkChartType: "SPARK_LINE" },
      ...(redBelow !== undefined
        ? { thresholds: [{ value: redBelow, color: "RED", direction: "BELOW" }] }
        : {}),
    },
  };
}

const text = (title: string, content: string): Json => ({ title, text: { content, format: "MARKDOWN" } });

/** Lays widgets out left to right, `width` columns each, wrapping at 48. */
function mosaic(rows: { widgets: Json[]; width: number; height: number }[]): Json {
  const tiles: Json[] = [];
  let y = 0;
  for (const row of rows) {
    let x = 0;
    let rowHeight = 0;
    for (const widget of row.widgets) {
      if (x + row.width > COLUMNS) {
        x = 0;
        y += rowHeight;
      }
      tiles.push({ xPos: x, yPos: y, width: row.width, height: row.height, widget });
      x += row.width;
      rowHeight = row.height;
    }
    y += rowHeight;
  }
  return { columns: COLUMNS, tiles };
}

const PERCENTILES = [50, 95, 99] as const;
const REVISION = "${resource.labels.revision_name}";
const LOCATION = "${resource.labels.location}";

function logMetricChart(metric: LogMetricConfig, groupBy: string[]): Json {
  const kind = metric.valueExtractor ? "p95" : "per second";
  return xyChart(
    `${metric.name} (${kind})`,
    [dataSet(logMetricFilter(metric.name, metric.resourceType), logMetricAggregation(metric, groupBy))],
    metric.valueExtractor ? metric.unit : "entries/s",
    metric.alert?.threshold,
  );
}

/** A push subscription a dashboard charts: its topic and subscription name. */
export interface QueueChartSpec {
  readonly topic: string;
  readonly subscription: string;
}

/** A queue's health: how old its oldest job is, how many wait, how pushes are answered, what is dead-lettered. */
function queueCharts(q: QueueChartSpec): Json[] {
  const f = (metric: string) => subscriptionFilter(metric, q.subscription);
  return [
    xyChart(
      `${q.topic}: oldest unacknowledged job`,
      [dataSet(f(PUBSUB_METRICS.oldestUnackedAge), agg("ALIGN_MAX", "REDUCE_MAX", []))],
      "s",
    ),
    xyChart(
      `${q.topic}: jobs waiting`,
      [dataSet(f(PUBSUB_METRICS.undelivered), agg("ALIGN_MAX", "REDUCE_SUM", []))],
      "messages",
    ),
    xyChart(
      `${q.topic}: pushes by response class`,
      [
        dataSet(
          f(PUBSUB_METRICS.pushRequests),
          agg("ALIGN_RATE", "REDUCE_SUM", [BY_RESPONSE_CLASS]),
          "${metric.labels.response_class}",
        ),
      ],
      "pushes/s",
    ),
    xyChart(
      `${q.topic}: dead-lettered jobs`,
      [dataSet(f(PUBSUB_METRICS.deadLettered), agg("ALIGN_DELTA", "REDUCE_SUM", []))],
      "messages",
    ),
  ];
}

/** A service's model calls, split by revision: a canary's tokens per call and provider errors show beside stable's. */
function llmServiceCharts(
  service: string,
  streams: boolean,
  byRevision: string[],
  legend: string,
  by: string,
  /** The latency alert's threshold: a streaming service's alert reads time to first token. */
  thresholdMs: number,
): Json[] {
  const names = llmMetricNames(service);
  const f = (metric: string, ...extra: string[]) =>
    [logMetricFilter(metric, "cloud_run_revision"), ...extra].join(" AND ");
  const tokensPerCall = (title: string, metric: string) =>
    xyChart(title, [dataSet(f(metric), agg("ALIGN_MEAN", "REDUCE_MEAN", byRevision), legend)], "tokens/call");
  return [
    xyChart(
      `Model calls per second per provider status ${by}`,
      [
        dataSet(
          f(names.calls),
          agg("ALIGN_RATE", "REDUCE_SUM", [...byRevision, BY_PROVIDER_STATUS]),
          `${legend} \${metric.labels.status}`,
        ),
      ],
      "calls/s",
    ),
    xyChart(
      `Provider errors and 429s, share of model calls ${by}`,
      [ratioDataSet(f(names.calls, PROVIDER_ERRORS), f(names.calls), byRevision)],
      "share",
    ),
    tokensPerCall(`Input tokens per model call ${by}`, names.inputTokens),
    tokensPerCall(`Output tokens per model call ${by}`, names.outputTokens),
    ...(streams
      ? [
          xyChart(
            `Time to first token p95 ${by}`,
            [
              dataSet(
                f(names.timeToFirstToken),
                agg("ALIGN_DELTA", "REDUCE_PERCENTILE_95", byRevision),
                legend,
              ),
            ],
            "s",
            thresholdMs / 1000,
          ),
        ]
      : []),
  ];
}

/** Every LLM-logging service's model calls by model, on the overview. */
function llmOverviewCharts(services: readonly { name: string; streams: boolean }[]): Json[] {
  if (services.length === 0) return [];
  const byModel = [BY_MODEL];
  const per = (what: keyof ReturnType<typeof llmMetricNames>, ...extra: string[]) =>
    services
      .filter((s) => what !== "timeToFirstToken" || s.streams)
      .map((s) =>
        [logMetricFilter(llmMetricNames(s.name)[what], "cloud_run_revision"), ...extra].join(" AND "),
      );
  const modelLegend = `\${metric.labels.model}`;
  return [
    xyChart(
      "Model calls per hour by model",
      per("calls").map((filter) => ({
        ...dataSet(
          filter,
          { ...agg("ALIGN_DELTA", "REDUCE_SUM", byModel), alignmentPeriod: "3600s" },
          modelLegend,
        ),
      })),
      "calls/h",
    ),
    xyChart(
      "Output tokens per model call by model",
      per("outputTokens").map((filter) =>
        dataSet(filter, agg("ALIGN_MEAN", "REDUCE_MEAN", byModel), modelLegend),
      ),
      "tokens/call",
    ),
    xyChart(
      "Provider errors and 429s, share of model calls",
      services.map((s) => {
        const calls = logMetricFilter(llmMetricNames(s.name).calls, "cloud_run_revision");
        return ratioDataSet(`${calls} AND ${PROVIDER_ERRORS}`, calls, byModel);
      }),
      "share",
    ),
    ...(services.some((s) => s.streams)
      ? [
          xyChart(
            "Time to first token p95 by model",
            per("timeToFirstToken").map((filter) =>
              dataSet(filter, agg("ALIGN_DELTA", "REDUCE_PERCENTILE_95", byModel), modelLegend),
            ),
            "s",
          ),
        ]
      : []),
  ];
}

export interface ServiceDashboardSpec {
  readonly service: string;
  readonly stack: string;
  readonly url: string;
  readonly canaryUrl?: string;
  readonly runbookUrl?: string;
  /** The traffic split as the program asks for it, the same in every region. */
  readonly split: readonly { revision: string; percent: number; tag: string }[];
  /** The service's regions; with more than one, every chart is split by region too. Default: one. */
  readonly regions?: readonly string[];
  readonly maxInstances: number;
  readonly errorRatioThreshold: number;
  readonly latency: { percentile: number; thresholdMs: number };
  /** Full resource names of the service's SLOs, `projects/P/services/S/serviceLevelObjectives/O`. */
  readonly slos: readonly { kind: string; name: string; goal: number }[];
  readonly logMetrics: readonly LogMetricConfig[];
  /** Alert policies shown as alert charts (incidents over time): title and `projects/P/alertPolicies/N`. Default: none. */
  readonly alertCharts?: readonly { title: string; name: string }[];
  /** Push subscriptions feeding the service. Default: none. */
  readonly queues?: readonly QueueChartSpec[];
  /** The service logs its model calls (model/llm.ts). Default: it does not. */
  readonly llm?: { readonly streams: boolean };
}

function serviceText(s: ServiceDashboardSpec): string {
  const lines = [
    `**Service:** [${s.url}](${s.url})`,
    s.canaryUrl ? `**Canary tag URL:** [${s.canaryUrl}](${s.canaryUrl})` : "**Canary:** none running",
    `**Traffic:** ${s.split.map((t) => `${t.tag} \`${t.revision}\` ${t.percent}%`).join(", ")}`,
    ...((s.regions ?? []).length > 1
      ? [`**Regions:** ${(s.regions ?? []).join(", ")} (same split in each)`]
      : []),
    s.runbookUrl
      ? `**Runbook:** [${s.runbookUrl}](${s.runbookUrl})`
      : "**Runbook:** none configured (set `ai-orchestra:monitoring.runbookUrl`)",
    `**SLOs:** ${s.slos.map((o) => `${o.kind} ${Math.round(o.goal * 10000) / 100}%`).join(", ")}`,
  ];
  return lines.join("\n\n");
}

/** One service's dashboard: traffic, errors and latency by revision; capacity; SLOs; business metrics. */
export function serviceDashboard(s: ServiceDashboardSpec): Json {
  const f = (metric: string, ...extra: string[]) => runFilter(metric, s.service, ...extra);
  const regions = s.regions ?? [];
  const byRevision = perRegion([BY_REVISION], regions);
  const by = regions.length > 1 ? "by revision and region" : "by revision";
  const REVISION_LEGEND = regions.length > 1 ? `${REVISION} ${LOCATION}` : REVISION;
  /** One Cloud Run metric, one line per revision (and region). */
  const revisionChart = (title: string, metric: string, aligner: string, reducer: string, unit: string) =>
    xyChart(`${title} ${by}`, [dataSet(f(metric), agg(aligner, reducer, byRevision), REVISION_LEGEND)], unit);
  const charts: Json[] = [
    revisionChart("Requests per second", RUN_METRICS.requestCount, "ALIGN_RATE", "REDUCE_SUM", "requests/s"),
    xyChart(
      `5xx ratio ${by}`,
      [ratioDataSet(f(RUN_METRICS.requestCount, SERVER_ERRORS), f(RUN_METRICS.requestCount), byRevision)],
      "5xx share",
      s.errorRatioThreshold,
    ),
    xyChart(
      `Latency p50 / p95 / p99 ${by}`,
      PERCENTILES.map((p) =>
        dataSet(
          f(RUN_METRICS.requestLatencies),
          agg("ALIGN_DELTA", `REDUCE_PERCENTILE_${p}`, byRevision),
          `p${p} ${REVISION_LEGEND}`,
        ),
      ),
      "ms",
      // A streaming service's latency alert reads time to first token: its threshold is drawn there.
      s.llm?.streams ? undefined : s.latency.thresholdMs,
    ),
    xyChart(
      "Instances (active / idle)",
      [dataSet(f(RUN_METRICS.instanceCount), agg("ALIGN_MAX", "REDUCE_SUM", perRegion([BY_STATE], regions)))],
      "instances",
      s.maxInstances,
    ),
    revisionChart(
      "CPU utilization p95",
      RUN_METRICS.cpuUtilizations,
      "ALIGN_DELTA",
      "REDUCE_PERCENTILE_95",
      "utilization",
    ),
    revisionChart(
      "Memory utilization p95",
      RUN_METRICS.memoryUtilizations,
      "ALIGN_DELTA",
      "REDUCE_PERCENTILE_95",
      "utilization",
    ),
    revisionChart(
      "Startup latency p95",
      RUN_METRICS.startupLatencies,
      "ALIGN_DELTA",
      "REDUCE_PERCENTILE_95",
      "ms",
    ),
    revisionChart(
      "Billable instance time",
      RUN_METRICS.billableInstanceTime,
      "ALIGN_RATE",
      "REDUCE_SUM",
      "instance-seconds/s",
    ),
  ];
  const sloCards = s.slos.flatMap((o) => [
    scorecard(
      `${o.kind} SLO: compliance (goal ${o.goal})`,
      `select_slo_compliance(${JSON.stringify(o.name)})`,
      o.goal,
    ),
    scorecard(
      `${o.kind} SLO: error budget remaining`,
      `select_slo_budget_fraction(${JSON.stringify(o.name)})`,
      0,
    ),
  ]);
  const burn = xyChart(
    "SLO burn rate (1h)",
    s.slos.map((o) => ({
      ...dataSet(
        `select_slo_burn_rate(${JSON.stringify(o.name)}, "3600s")`,
        agg("ALIGN_MEAN", "REDUCE_NONE", []),
      ),
      legendTemplate: `${o.kind}`,
    })),
    "x budget",
    1,
  );
  const logCharts = s.logMetrics.map((m) => logMetricChart(m, []));
  const alertCharts = (s.alertCharts ?? []).map((a) => ({ title: a.title, alertChart: { name: a.name } }));
  return {
    displayName: `${s.service} (${s.stack})`,
    labels: { service: s.service, stack: s.stack },
    mosaicLayout: mosaic([
      { widgets: [text(`${s.service}: links and release`, serviceText(s))], width: COLUMNS, height: 10 },
      { widgets: charts, width: HALF, height: CHART_HEIGHT },
      { widgets: sloCards, width: COLUMNS / Math.max(1, sloCards.length), height: 8 },
      { widgets: [burn, ...logCharts], width: HALF, height: CHART_HEIGHT },
      { widgets: alertCharts, width: HALF, height: 8 },
      { widgets: (s.queues ?? []).flatMap(queueCharts), width: HALF, height: CHART_HEIGHT },
      {
        widgets: s.llm
          ? llmServiceCharts(s.service, s.llm.streams, byRevision, REVISION_LEGEND, by, s.latency.thresholdMs)
          : [],
        width: HALF,
        height: CHART_HEIGHT,
      },
    ]),
  };
}

export interface OverviewDashboardSpec {
  readonly stack: string;
  readonly environment: string;
  readonly services: readonly { name: string; url: string; regions?: readonly string[] }[];
  readonly logMetrics: readonly LogMetricConfig[];
  /** Every push subscription of the stack. Default: none. */
  readonly queues?: readonly QueueChartSpec[];
  /** The services that log their model calls. Default: none. */
  readonly llm?: readonly { readonly name: string; readonly streams: boolean }[];
}

/** One per stack: every service side by side, and every log-based metric. */
export function overviewDashboard(o: OverviewDashboardSpec): Json {
  const names = o.services.map((s) => s.name);
  const f = (metric: string, ...extra: string[]) => runFilter(metric, names, ...extra);
  // Split by region as soon as one service runs in several.
  const regions = [...new Set(o.services.flatMap((s) => s.regions ?? []))];
  const multiRegion = o.services.some((s) => (s.regions ?? []).length > 1);
  const byService = perRegion([BY_SERVICE], multiRegion ? regions : []);
  const legend = multiRegion
    ? "${resource.labels.service_name} ${resource.labels.location}"
    : "${resource.labels.service_name}";
  const summary = [
    `**Stack:** ${o.stack} (${o.environment})`,
    ...o.services.map((s) => `**${s.name}:** [${s.url}](${s.url})`),
  ].join("\n\n");
  return {
    displayName: `AI Orchestra overview (${o.stack})`,
    labels: { stack: o.stack },
    mosaicLayout: mosaic([
      { widgets: [text("Services", summary)], width: COLUMNS, height: 8 },
      {
        widgets: [
          xyChart(
            "Requests per second by service",
            [dataSet(f(RUN_METRICS.requestCount), agg("ALIGN_RATE", "REDUCE_SUM", byService), legend)],
            "requests/s",
          ),
          xyChart(
            "5xx ratio by service",
            [
              ratioDataSet(
                f(RUN_METRICS.requestCount, SERVER_ERRORS),
                f(RUN_METRICS.requestCount),
                byService,
              ),
            ],
            "5xx share",
          ),
          xyChart(
            "Latency p95 by service",
            [
              dataSet(
                f(RUN_METRICS.requestLatencies),
                agg("ALIGN_DELTA", "REDUCE_PERCENTILE_95", byService),
                legend,
              ),
            ],
            "ms",
          ),
          xyChart(
            "Instances by service",
            [dataSet(f(RUN_METRICS.instanceCount), agg("ALIGN_MAX", "REDUCE_SUM", byService), legend)],
            "instances",
          ),
          ...o.logMetrics.map((m) => logMetricChart(m, [])),
        ],
        width: HALF,
        height: CHART_HEIGHT,
      },
      { widgets: (o.queues ?? []).flatMap(queueCharts), width: HALF, height: CHART_HEIGHT },
      { widgets: llmOverviewCharts(o.llm ?? []), width: HALF, height: CHART_HEIGHT },
    ]),
  };
}
