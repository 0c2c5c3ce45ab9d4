import { PROVIDER_ERROR_STATUS, type LatencySource } from "../../model/llm";

/**
 * Cloud Monitoring filters for Cloud Run. Every metric and resource type named here is a real one
 * (run.googleapis.com metrics on the `cloud_run_revision` resource); tests check the list.
 */

export const CLOUD_RUN_RESOURCE = "cloud_run_revision";

export const RUN_METRICS = {
  requestCount: "run.googleapis.com/request_count",
  requestLatencies: "run.googleapis.com/request_latencies",
  instanceCount: "run.googleapis.com/container/instance_count",
  cpuUtilizations: "run.googleapis.com/container/cpu/utilizations",
  memoryUtilizations: "run.googleapis.com/container/memory/utilizations",
  startupLatencies: "run.googleapis.com/container/startup_latencies",
  billableInstanceTime: "run.googleapis.com/container/billable_instance_time",
} as const;

export const UPTIME_CHECK_PASSED = "monitoring.googleapis.com/uptime_check/check_passed";
export const UPTIME_RESOURCE = "uptime_url";

/** Label references as filters and groupByFields spell them. */
export const BY_REVISION = 'resource.label."revision_name"';
export const BY_SERVICE = 'resource.label."service_name"';
export const BY_STATE = 'metric.label."state"';
export const BY_LOCATION = 'resource.label."location"';

/** A service in several regions is charted and alerted per region, so one bad region stands out. */
export function perRegion(groupBy: readonly string[], regions: readonly string[]): string[] {
  return regions.length > 1 ? [...groupBy, BY_LOCATION] : [...groupBy];
}

const quote = (s: string) => JSON.stringify(s);

/** Services a filter is restricted to: one service by name, or several with one_of. */
function serviceClause(services: string | readonly string[]): string {
  const list = typeof services === "string" ? [services] : services;
  return list.length === 1
    ? `${BY_SERVICE}=${quote(list[0])}`
    : `${BY_SERVICE}=one_of(${list.map(quote).join(", ")})`;
}

/** A filter on one Cloud Run metric of the given services, with optional extra clauses. */
export function runFilter(metric: string, services: string | readonly string[], ...extra: string[]): string {
  return [
    `metric.type=${quote(metric)}`,
    `resource.type=${quote(CLOUD_RUN_RESOURCE)}`,
    serviceClause(services),
    ...extra,
  ].join(" AND ");
}

/**
 * The distribution a service's latency SLO and alert read (model/llm.ts latencySource): Cloud Run's
 * request latencies, or a streaming service's time to first token, logged on the same revisions.
 */
export function latencyFilter(service: string, source: LatencySource): string {
  return runFilter(
    source.kind === "request" ? RUN_METRICS.requestLatencies : logMetricType(source.metric),
    service,
  );
}

/** Responses Cloud Run counts as server errors. */
export const SERVER_ERRORS = 'metric.label."response_code_class"="5xx"';

/** The metric type of a log-based metric. */
export function logMetricType(name: string): string {
  return `logging.googleapis.com/user/${name}`;
}

export function logMetricFilter(name: string, resourceType: string): string {
  return `metric.type=${quote(logMetricType(name))} AND resource.type=${quote(resourceType)}`;
}

export function uptimeFilter(checkId: string): string {
  return `metric.type=${quote(UPTIME_CHECK_PASSED)} AND resource.type=${quote(UPTIME_RESOURCE)} AND metric.label."check_id"=${quote(checkId)}`;
}

/**
 * Cloud Monitoring's Pub/Sub subscription metrics (resource `pubsub_subscription`), as alert filters,
 * SLOs and charts select them. Every metric named here is a real one; tests check the list.
 */
export const PUBSUB_RESOURCE = "pubsub_subscription";
export const PUBSUB_METRICS = {
  oldestUnackedAge: "pubsub.googleapis.com/subscription/oldest_unacked_message_age",
  undelivered: "pubsub.googleapis.com/subscription/num_undelivered_messages",
  deadLettered: "pubsub.googleapis.com/subscription/dead_letter_message_count",
  pushRequests: "pubsub.googleapis.com/subscription/push_request_count",
} as const;
export const BY_RESPONSE_CLASS = 'metric.label."response_class"';
/** The push response class of a delivery the endpoint acknowledged (a 102, 200, 201, 202 or 204). */
export const ACKNOWLEDGED = `${BY_RESPONSE_CLASS}="ack"`;

/** A filter on one subscription's metric, with optional extra clauses. */
export function subscriptionFilter(metric: string, subscription: string, ...extra: string[]): string {
  return [
    `metric.type=${quote(metric)}`,
    `resource.type=${quote(PUBSUB_RESOURCE)}`,
    `resource.label."subscription_id"=${quote(subscription)}`,
    ...extra,
  ].join(" AND ");
}

/** Labels of the LLM log metrics (model/llm.ts). */
export const BY_MODEL = 'metric.label."model"';
export const BY_PROVIDER_STATUS = 'metric.label."status"';
/** Model calls the provider answered with a 5xx or a 429 (rate limited): what users feel as errors. */
export const PROVIDER_ERRORS = `${BY_PROVIDER_STATUS}=monitoring.regex.full_match(${quote(PROVIDER_ERROR_STATUS)})`;
