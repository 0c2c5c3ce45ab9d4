import type { LatencySource } from "../../model/llm";
import type { SloDefaults } from "../../model/monitoring";
import { latencyFilter, RUN_METRICS, runFilter, SERVER_ERRORS } from "./filters";

/** An SLO as plain data, in the shape of gcp.monitoring.Slo's inputs (without service and project). */
export interface SloSpec {
  readonly kind: "availability" | "latency" | "jobs";
  readonly sloId: string;
  readonly displayName: string;
  readonly goal: number;
  readonly rollingPeriodDays: number;
  readonly requestBasedSli:
    | { goodTotalRatio: { totalServiceFilter: string; badServiceFilter: string } }
    | { distributionCut: { distributionFilter: string; range: { max: number } } };
}

const pct = (r: number) => `${Math.round(r * 10000) / 100}%`;

/**
 * Availability: the share of requests that did not end in 5xx. Latency: the share served within the
 * threshold, or for a streaming service the share of model calls whose first token came within it.
 */
export function serviceSlos(
  service: string,
  slo: SloDefaults,
  latency: LatencySource = { kind: "request" },
): SloSpec[] {
  const ttft = latency.kind === "timeToFirstToken";
  const total = runFilter(RUN_METRICS.requestCount, service);
  return [
    {
      kind: "availability",
      sloId: `${service}-availability`,
      displayName: `${service}: ${pct(slo.availability.goal)} of requests without 5xx over ${slo.availability.rollingPeriodDays} days`,
      goal: slo.availability.goal,
      rollingPeriodDays: slo.availability.rollingPeriodDays,
      requestBasedSli: {
        goodTotalRatio: {
          totalServiceFilter: total,
          badServiceFilter: runFilter(RUN_METRICS.requestCount, service, SERVER_ERRORS),
        },
      },
    },
    {
      kind: "latency",
      sloId: `${service}-latency`,
      displayName: ttft
        ? `${service}: ${pct(slo.latency.goal)} of model calls with a first token within ${slo.latency.thresholdMs} ms over ${slo.latency.rollingPeriodDays} days`
        : `${service}: ${pct(slo.latency.goal)} of requests within ${slo.latency.thresholdMs} ms over ${slo.latency.rollingPeriodDays} days`,
      goal: slo.latency.goal,
      rollingPeriodDays: slo.latency.rollingPeriodDays,
      requestBasedSli: {
        distributionCut: {
          distributionFilter: latencyFilter(service, latency),
          // In the metric's unit: ms for request latency, seconds for time to first token.
          range: { max: ttft ? slo.latency.thresholdMs * latency.perMs : slo.latency.thresholdMs },
        },
      },
    },
  ];
}
