/**
 * Model calls as the services log them, and what is measured from those logs. Field names follow
 * OpenTelemetry's GenAI semantic conventions (`gen_ai.*`), nested as JSON objects in the log line, so
 * that a Cloud Logging filter reads them as `jsonPayload.gen_ai.usage.input_tokens`.
 */
import type { ExponentialBuckets, LogMetricConfig } from "./monitoring";

/** The `event` value of a model call's log line. */
export const GEN_AI_EVENT = "gen_ai.call";

/** Where each measured value sits in the log line's JSON payload. */
export const GEN_AI_FIELDS = {
  system: "jsonPayload.gen_ai.system",
  model: "jsonPayload.gen_ai.request.model",
  inputTokens: "jsonPayload.gen_ai.usage.input_tokens",
  outputTokens: "jsonPayload.gen_ai.usage.output_tokens",
  /** Seconds from the request to the first streamed token (OpenTelemetry's unit). */
  timeToFirstToken: "jsonPayload.gen_ai.server.time_to_first_token",
  /** The provider's HTTP status (`http.response.status_code` in OpenTelemetry's HTTP conventions). */
  providerStatus: "jsonPayload.http.response.status_code",
} as const;

/** One model call, as the docs show the line a service writes (one JSON object on stdout). */
export const EXAMPLE_LOG_LINE = {
  severity: "INFO",
  message: "model call",
  event: GEN_AI_EVENT,
  gen_ai: {
    system: "openai",
    request: { model: "gpt-4o" },
    response: { model: "gpt-4o-2024-08-06", finish_reasons: ["stop"] },
    usage: { input_tokens: 812, output_tokens: 164 },
    server: { time_to_first_token: 0.42 },
  },
  http: { response: { status_code: 200 } },
};

/** A service's LLM telemetry settings (`ai-orchestra:services.NAME.llm`). */
export interface ServiceLlm {
  /** The service streams responses: time to first token is what users wait for, not the whole request. */
  readonly streams: boolean;
}

/** The price of one model, in US dollars per million tokens, with when and where it was read. */
export interface ModelPrice {
  readonly model: string;
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
  /** `YYYY-MM-DD`: prices change; a dated price says how old the estimate is. */
  readonly asOf: string;
  readonly source: string;
}

/** The stack's model spend settings (`ai-orchestra:llm`). */
export interface LlmSpend {
  readonly prices: readonly ModelPrice[];
  /** Alert when the last hour's spend rate would exceed this per day. */
  readonly dailyBudgetUsd?: number;
  /** Who hears about that alert. */
  readonly notify: "page" | "ticket";
  /** A Cloud Billing budget for the stack's project. */
  readonly billing?: {
    readonly account: string;
    readonly monthlyBudgetUsd: number;
    /** Fractions of the budget that notify, e.g. 0.5, 0.9, 1. */
    readonly thresholds: readonly number[];
  };
}

/** Tokens: 1 to about 1M in 20 doubling buckets. */
export const TOKEN_BUCKETS: ExponentialBuckets = { numFiniteBuckets: 20, growthFactor: 2, scale: 1 };
/** Time to first token: 10 ms to about 5 minutes in 26 buckets growing by 1.5. */
export const TTFT_BUCKETS: ExponentialBuckets = { numFiniteBuckets: 26, growthFactor: 1.5, scale: 0.01 };

/** The names of a service's LLM metrics, `<service>_llm_<what>`. */
export function llmMetricNames(service: string) {
  const name = (what: string) => `${service.replace(/-/g, "_")}_llm_${what}`;
  return {
    calls: name("calls"),
    inputTokens: name("input_tokens"),
    outputTokens: name("output_tokens"),
    timeToFirstToken: name("time_to_first_token"),
  };
}

/**
 * The log-based metrics of a service's model calls: calls by model, provider and provider status;
 * input and output tokens per call by model; and, for a streaming service, time to first token.
 */
export function llmLogMetrics(service: string, llm: ServiceLlm): LogMetricConfig[] {
  const names = llmMetricNames(service);
  const filter = `resource.type="cloud_run_revision" AND resource.labels.service_name="${service}" AND jsonPayload.event="${GEN_AI_EVENT}"`;
  const extract = (field: string) => `EXTRACT(${field})`;
  const model = { model: extract(GEN_AI_FIELDS.model) };
  const base = { filter, resourceType: "cloud_run_revision", service } as const;
  const metrics: LogMetricConfig[] = [
    {
      ...base,
      name: names.calls,
      description: `Model calls of ${service}, by model, provider and the provider's HTTP status.`,
      labels: {
        ...model,
        system: extract(GEN_AI_FIELDS.system),
        status: extract(GEN_AI_FIELDS.providerStatus),
      },
      unit: "1",
    },
    {
      ...base,
      name: names.inputTokens,
      description: `Input (prompt) tokens per model call of ${service}, by model.`,
      labels: model,
      valueExtractor: extract(GEN_AI_FIELDS.inputTokens),
      buckets: TOKEN_BUCKETS,
      unit: "{token}",
    },
    {
      ...base,
      name: names.outputTokens,
      description: `Output (completion) tokens per model call of ${service}, by model.`,
      labels: model,
      valueExtractor: extract(GEN_AI_FIELDS.outputTokens),
      buckets: TOKEN_BUCKETS,
      unit: "{token}",
    },
  ];
  if (llm.streams)
    metrics.push({
      ...base,
      name: names.timeToFirstToken,
      description: `Seconds from a model request of ${service} to its first streamed token, by model.`,
      labels: model,
      valueExtractor: extract(GEN_AI_FIELDS.timeToFirstToken),
      buckets: TTFT_BUCKETS,
      unit: "s",
    });
  return metrics;
}

/** US dollars per day at a steady rate of tokens per second, for one model's price. */
export function dailySpendUsd(
  price: ModelPrice,
  inputTokensPerSecond: number,
  outputTokensPerSecond: number,
): number {
  return (
    ((inputTokensPerSecond * price.inputPerMillion + outputTokensPerSecond * price.outputPerMillion) *
      86_400) /
    1e6
  );
}

/**
 * The provider statuses that count as a provider error: a 5xx, or a 429 (rate limited). Users feel
 * both as failures; the dashboards, the rollout's reader and its judgment share this one pattern.
 */
export const PROVIDER_ERROR_STATUS = "5[0-9][0-9]|429";
const providerError = new RegExp(`^(?:${PROVIDER_ERROR_STATUS})$`);

/** Whether a provider status (the `status` label of `<service>_llm_calls`) is a provider error. */
export function isProviderError(status: string): boolean {
  return providerError.test(status);
}

/**
 * What a service's latency SLO, latency alert and the rollout's latency judgment measure. A service
 * that streams model output answers its users with the first token, while Cloud Run's request latency
 * measures the whole stream: its latency is the time to first token, from its log-based metric (in
 * seconds). Any other service: Cloud Run's request latency (in milliseconds).
 */
export type LatencySource =
  | { readonly kind: "request" }
  | {
      readonly kind: "timeToFirstToken";
      /** The log-based metric's name, `<service>_llm_time_to_first_token`. */
      readonly metric: string;
      /** The metric's values are seconds: a threshold in ms times this is in the metric's unit. */
      readonly perMs: number;
    };

export function latencySource(service: { readonly name: string; readonly llm?: ServiceLlm }): LatencySource {
  return service.llm?.streams
    ? { kind: "timeToFirstToken", metric: llmMetricNames(service.name).timeToFirstToken, perMs: 1 / 1000 }
    : { kind: "request" };
}
