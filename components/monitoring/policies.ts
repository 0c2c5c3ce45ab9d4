import type * as gcp from "@pulumi/gcp";
import { ROUTE_SEVERITY, type AlertDefaults, type AlertRoute } from "../../model/monitoring";
import type { LogMetricConfig } from "../../model/monitoring";
import type { LatencySource } from "../../model/llm";
import { BURN_RATE_TIERS, burnRateFilter, burnRateThreshold, formatWindow } from "./burnRate";
import {
  BY_SERVICE,
  latencyFilter,
  logMetricFilter,
  perRegion,
  RUN_METRICS,
  runFilter,
  SERVER_ERRORS,
  uptimeFilter,
} from "./filters";
import { canaryWorseThanStableQuery } from "./promql";

type Condition = gcp.types.input.monitoring.AlertPolicyCondition;

/** An alert policy as plain data: everything but the project and the notification channels. */
export interface PolicySpec {
  /** Role in resource names: `${component}-${key}`. */
  readonly key: string;
  readonly displayName: string;
  readonly combiner: "OR" | "AND";
  readonly conditions: Condition[];
  readonly route: AlertRoute;
  readonly severity: "CRITICAL" | "WARNING";
  readonly documentation: { content: string; mimeType: "text/markdown"; subject: string };
  readonly alertStrategy: { autoClose: string; notificationRateLimit?: { period: string } };
}

export interface PolicyContext {
  readonly service: string;
  readonly stack: string;
  readonly autoCloseSeconds: number;
  readonly runbookUrl?: string;
  /** The service's regions; with more than one, conditions are evaluated per region. Default: one. */
  readonly regions?: readonly string[];
}

const byService = (ctx: PolicyContext) => perRegion([BY_SERVICE], ctx.regions ?? []);
const multiRegion = (ctx: PolicyContext) => (ctx.regions ?? []).length > 1;
/** Added to what an alert means when it is evaluated per region. */
const regionNote = (ctx: PolicyContext) =>
  multiRegion(ctx)
    ? ` It is evaluated per region (${(ctx.regions ?? []).join(", ")}): the incident's \`location\` label names the region.`
    : "";

const seconds = (n: number) => `${n}s`;
const pct = (r: number) => `${Math.round(r * 10000) / 100}%`;

export function spec(
  ctx: PolicyContext,
  key: string,
  title: string,
  route: AlertRoute,
  conditions: Condition[],
  doc: { means: string; steps: string[] },
  combiner: "OR" | "AND" = "OR",
): PolicySpec {
  const runbook = ctx.runbookUrl ? `\n\nRunbook: ${ctx.runbookUrl}` : "";
  return {
    key,
    displayName: `${ctx.service} (${ctx.stack}): ${title}`,
    combiner,
    conditions,
    route,
    severity: ROUTE_SEVERITY[route],
    documentation: {
      mimeType: "text/markdown",
      subject: `[${ctx.stack}] ${ctx.service}: ${title}`,
      content:
        `## What it means\n\n${doc.means}\n\n## First steps\n\n` +
        doc.steps.map((s, i) => `${i + 1}. ${s}`).join("\n") +
        `\n\nSeverity: ${ROUTE_SEVERITY[route]} (${route === "page" ? "pages the on-call" : "opens a ticket"}).${runbook}`,
    },
    alertStrategy: { autoClose: seconds(ctx.autoCloseSeconds) },
  };
}

const sumBy = (aligner: string, groupBy: string[]) => ({
  alignmentPeriod: "60s",
  perSeriesAligner: aligner,
  crossSeriesReducer: "REDUCE_SUM",
  groupByFields: groupBy,
});

/** The service's 5xx share of all requests, over every revision, above the threshold. */
export function errorRatioPolicy(ctx: PolicyContext, a: AlertDefaults["errorRatio"]): PolicySpec {
  return spec(
    ctx,
    "error-ratio",
    "5xx ratio",
    a.notify,
    [
      {
        displayName: `5xx ratio above ${pct(a.threshold)}`,
        conditionThreshold: {
          filter: runFilter(RUN_METRICS.requestCount, ctx.service, SERVER_ERRORS),
          aggregations: [sumBy("ALIGN_RATE", byService(ctx))],
          denominatorFilter: runFilter(RUN_METRICS.requestCount, ctx.service),
          denominatorAggregations: [sumBy("ALIGN_RATE", byService(ctx))],
          comparison: "COMPARISON_GT",
          thresholdValue: a.threshold,
          duration: seconds(a.durationSeconds),
          trigger: { count: 1 },
        },
      },
    ],
    {
      means: `More than ${pct(a.threshold)} of \`${ctx.service}\`'s requests returned 5xx for ${a.durationSeconds / 60} minutes.${regionNote(ctx)}`,
      steps: [
        "Open the service dashboard: is the 5xx ratio split by revision higher on one revision (a canary)?",
        `If a canary is worse: \`orchestra canary rollback ${ctx.service} --stack ${ctx.stack}\`, review and deploy.`,
        'Otherwise read the service\'s error logs in Logs Explorer (`resource.type="cloud_run_revision" severity>=ERROR`).',
        "Check dependencies (model providers, secrets) and recent config changes in `Pulumi." +
          ctx.stack +
          ".yaml`.",
      ],
    },
  );
}

/**
 * A latency percentile of the whole service above the threshold; for a streaming service, its time to
 * first token (the whole request lasts as long as the stream).
 */
export function latencyPolicy(
  ctx: PolicyContext,
  a: AlertDefaults["latency"],
  source: LatencySource = { kind: "request" },
): PolicySpec {
  const ttft = source.kind === "timeToFirstToken";
  const what = ttft ? "time to first token" : "latency";
  return spec(
    ctx,
    "latency",
    `p${a.percentile} ${what}`,
    a.notify,
    [
      {
        displayName: `p${a.percentile} ${what} above ${a.thresholdMs} ms`,
        conditionThreshold: {
          filter: latencyFilter(ctx.service, source),
          aggregations: [
            {
              alignmentPeriod: "60s",
              perSeriesAligner: "ALIGN_DELTA",
              crossSeriesReducer: `REDUCE_PERCENTILE_${String(a.percentile).padStart(2, "0")}`,
              groupByFields: byService(ctx),
            },
          ],
          comparison: "COMPARISON_GT",
          // In the metric's unit: ms for request latency, seconds for time to first token.
          thresholdValue: ttft ? a.thresholdMs * source.perMs : a.thresholdMs,
          duration: seconds(a.durationSeconds),
          trigger: { count: 1 },
        },
      },
    ],
    {
      means: ttft
        ? `\`${ctx.service}\`'s p${a.percentile} time to first token (from its model call logs) stayed above ${a.thresholdMs} ms for ${a.durationSeconds / 60} minutes.${regionNote(ctx)}`
        : `\`${ctx.service}\`'s p${a.percentile} request latency stayed above ${a.thresholdMs} ms for ${a.durationSeconds / 60} minutes.${regionNote(ctx)}`,
      steps: [
        "Open the service dashboard: is one revision slower, are instances at the maximum, is CPU saturated?",
        "Slow dependencies show in traces (Cloud Trace) and in the service's logs.",
        "If instances are at scaling.maxInstances, raise it in the stack file; if a canary is slower, roll it back.",
      ],
    },
  );
}

/** Instance count near scaling.maxInstances: requests will soon queue and fail with 429/500. */
export function saturationPolicy(
  ctx: PolicyContext,
  maxInstances: number,
  a: AlertDefaults["saturation"],
): PolicySpec {
  const threshold = Math.ceil(a.ratio * maxInstances);
  return spec(
    ctx,
    "saturation",
    "instances near maximum",
    a.notify,
    [
      {
        displayName: `instances at or above ${threshold} of ${maxInstances}`,
        conditionThreshold: {
          filter: runFilter(RUN_METRICS.instanceCount, ctx.service),
          aggregations: [
            {
              alignmentPeriod: "60s",
              perSeriesAligner: "ALIGN_MAX",
              crossSeriesReducer: "REDUCE_SUM",
              // Per region when there are several: maxInstances caps each region's service on its own.
              groupByFields: byService(ctx),
            },
          ],
          comparison: "COMPARISON_GT",
          // Cloud Monitoring compares strictly: "> threshold - 0.5" means "at least threshold" for counts.
          thresholdValue: threshold - 0.5,
          duration: seconds(a.durationSeconds),
          trigger: { count: 1 },
        },
      },
    ],
    {
      means: `\`${ctx.service}\` ran at least ${threshold} instances (scaling.maxInstances is ${maxInstances}) for ${a.durationSeconds / 60} minutes. At the maximum, new requests queue and then fail.${regionNote(ctx)}`,
      steps: [
        "Open the service dashboard: is traffic up, or did latency rise so each request holds an instance longer?",
        `If the load is real, raise \`scaling.maxInstances\` (or \`concurrency\`) for ${ctx.service} in \`Pulumi.${ctx.stack}.yaml\`.`,
        "If the load is abusive, block it at the load balancer or with Cloud Armor.",
      ],
    },
  );
}

/** The uptime check of the health path fails from more than one checker location. */
export function uptimePolicy(
  ctx: PolicyContext,
  checkId: string,
  healthPath: string,
  a: AlertDefaults["uptime"],
): PolicySpec {
  return spec(
    ctx,
    "uptime",
    "uptime check failing",
    a.notify,
    [
      {
        displayName: `${healthPath} failing from more than one location`,
        conditionThreshold: {
          filter: uptimeFilter(checkId),
          aggregations: [
            {
              // Checker locations report once per period: look back far enough to see each of them.
              alignmentPeriod: seconds(Math.max(1200, 2 * a.periodSeconds)),
              perSeriesAligner: "ALIGN_NEXT_OLDER",
              crossSeriesReducer: "REDUCE_COUNT_FALSE",
              groupByFields: ['resource.label."host"'],
            },
          ],
          comparison: "COMPARISON_GT",
          thresholdValue: 1,
          duration: "60s",
          trigger: { count: 1 },
        },
      },
    ],
    {
      means: `The health check \`${healthPath}\` of \`${ctx.service}\` fails from more than one checker location: users likely cannot reach it.`,
      steps: [
        `Request the service's URL + \`${healthPath}\` yourself and note the status code.`,
        "Check the service's revisions in the Cloud Run console: is the serving revision ready?",
        "Read the startup and request logs of the serving revision.",
      ],
    },
  );
}

/** The canary revision's 5xx ratio is worse than stable's by more than the margin (PromQL). */
export function canaryPolicy(
  ctx: PolicyContext,
  revisions: { canary: string; stable: string },
  a: AlertDefaults["canary"],
): PolicySpec {
  return spec(
    ctx,
    "canary",
    "canary worse than stable",
    a.notify,
    [
      {
        displayName: `canary 5xx ratio above stable's + ${pct(a.margin)}`,
        conditionPrometheusQueryLanguage: {
          query: canaryWorseThanStableQuery({
            service: ctx.service,
            canaryRevision: revisions.canary,
            stableRevision: revisions.stable,
            margin: a.margin,
            minRequestsPerSecond: a.minRequestsPerSecond,
            windowSeconds: 300,
            byLocation: multiRegion(ctx),
          }),
          duration: seconds(a.durationSeconds),
          evaluationInterval: seconds(a.evaluationSeconds),
        },
      },
    ],
    {
      means:
        `The canary revision \`${revisions.canary}\` of \`${ctx.service}\` returns 5xx more often than the stable revision ` +
        `\`${revisions.stable}\` (by more than ${pct(a.margin)} of requests) for ${a.durationSeconds / 60} minutes.${regionNote(ctx)}`,
      steps: [
        `Roll the canary back: \`orchestra canary rollback ${ctx.service} --stack ${ctx.stack}\`, open the pull request and deploy.`,
        "The canary stays reachable at its `canary` tag URL (0% of traffic) for inspection.",
        `Compare the two revisions' logs: \`resource.labels.revision_name="${revisions.canary}"\`.`,
      ],
    },
  );
}

export type SloKind = "availability" | "latency" | "jobs";

/** The three multiwindow burn-rate policies of one SLO (fast, medium, slow). */
export function burnRatePolicies(
  ctx: PolicyContext,
  slo: { kind: SloKind; name: string; goal: number; periodDays: number },
  alerts: AlertDefaults,
): PolicySpec[] {
  return BURN_RATE_TIERS.map((tier) => {
    const threshold = burnRateThreshold(tier, slo.periodDays);
    const long = formatWindow(tier.longWindowSeconds);
    const short = formatWindow(tier.shortWindowSeconds);
    const condition = (lookback: number, label: string): Condition => ({
      displayName: `${slo.kind} SLO burn rate above ${threshold}x over ${label}`,
      conditionThreshold: {
        filter: burnRateFilter(slo.name, lookback),
        comparison: "COMPARISON_GT",
        thresholdValue: threshold,
        duration: "0s",
        trigger: { count: 1 },
      },
    });
    return spec(
      ctx,
      `${slo.kind}-burn-${tier.name}`,
      `${slo.kind} SLO ${tier.name} burn`,
      alerts[tier.routeKey].notify,
      [condition(tier.longWindowSeconds, long), condition(tier.shortWindowSeconds, short)],
      {
        means:
          `\`${ctx.service}\` is spending its ${slo.kind} error budget (goal ${pct(slo.goal)} over ${slo.periodDays} days) ` +
          `${threshold} times faster than sustainable, over both the last ${long} and the last ${short}: ` +
          `at this rate ${pct(tier.budgetSpent)} of the period's budget goes in ${long}.`,
        steps: [
          "Open the service dashboard: the SLO tiles show the remaining budget; the 5xx and latency charts show which revision burns it.",
          `If a canary is running and worse, roll it back: \`orchestra canary rollback ${ctx.service} --stack ${ctx.stack}\`.`,
          tier.name === "slow"
            ? "A slow burn is a trend: plan the fix in working hours before the budget runs out."
            : "A fast burn is an incident: mitigate first (rollback, scale up), investigate after.",
        ],
      },
      "AND",
    );
  });
}

/** An optional alert on a log-based metric's rate (counter) or p95 (distribution). */
export function logMetricPolicy(
  metric: LogMetricConfig,
  alert: NonNullable<LogMetricConfig["alert"]>,
  stack: string,
  autoCloseSeconds: number,
): PolicySpec {
  // Named after the metric: it may span several services, or none.
  const ctx: PolicyContext = { service: metric.name, stack, autoCloseSeconds };
  const above = alert.comparison === "COMPARISON_GT";
  return spec(
    ctx,
    `log-${metric.name}`,
    `${metric.name} ${above ? "above" : "below"} ${alert.threshold}`,
    alert.notify,
    [
      {
        displayName: `${metric.name} ${above ? "above" : "below"} ${alert.threshold}`,
        conditionThreshold: {
          filter: logMetricFilter(metric.name, metric.resourceType),
          aggregations: [logMetricAggregation(metric, [])],
          comparison: alert.comparison,
          thresholdValue: alert.threshold,
          duration: seconds(alert.durationSeconds),
          trigger: { count: 1 },
        },
      },
    ],
    {
      means: `The log-based metric \`${metric.name}\` (${metric.description}) ${metric.valueExtractor ? "p95" : "rate per second"} stayed ${above ? "above" : "below"} ${alert.threshold} for ${alert.durationSeconds / 60} minutes.`,
      steps: [
        `Read the matching entries in Logs Explorer with the filter: \`${metric.filter}\`.`,
        "Compare with the overview dashboard's chart of the metric to see when it changed.",
      ],
    },
  );
}

/** Counters are charted and alerted as a rate per second, distributions as their p95. */
export function logMetricAggregation(metric: LogMetricConfig, groupBy: string[]) {
  return metric.valueExtractor
    ? {
        alignmentPeriod: "60s",
        perSeriesAligner: "ALIGN_DELTA",
        crossSeriesReducer: "REDUCE_PERCENTILE_95",
        groupByFields: groupBy,
      }
    : {
        alignmentPeriod: "60s",
        perSeriesAligner: "ALIGN_RATE",
        crossSeriesReducer: "REDUCE_SUM",
        groupByFields: groupBy,
      };
}
