import type * as gcp from "@pulumi/gcp";
import type { LogMetricConfig } from "../../model/monitoring";

const DEFAULT_BUCKETS = { numFiniteBuckets: 64, growthFactor: 2, scale: 0.01 };

/** A log-based metric's inputs: a DELTA INT64 counter, or a DELTA distribution of the extracted value. */
export function logMetricArgs(m: LogMetricConfig, project: string): gcp.logging.MetricArgs {
  const labels = Object.keys(m.labels).map((key) => ({ key, valueType: "STRING" }));
  return {
    project,
    name: m.name,
    description: m.description,
    filter: m.filter,
    labelExtractors: { ...m.labels },
    metricDescriptor: {
      metricKind: "DELTA",
      valueType: m.valueExtractor ? "DISTRIBUTION" : "INT64",
      unit: m.unit,
      labels,
      displayName: m.name,
    },
    ...(m.valueExtractor
      ? {
          valueExtractor: m.valueExtractor,
          bucketOptions: { exponentialBuckets: { ...(m.buckets ?? DEFAULT_BUCKETS) } },
        }
      : {}),
  };
}
