import * as logging from "@pulumi/gcp/logging";
import * as monitoring from "@pulumi/gcp/monitoring";
import * as pulumi from "@pulumi/pulumi";
import type { LogMetricConfig } from "../../model/monitoring";
import { alertPolicyArgs, type RouteChannels } from "./alertPolicyArgs";
import { logMetricArgs } from "./logMetric";
import { logMetricPolicy } from "./policies";

export interface LogMetricsArgs {
  /** The stack's log-based metrics from config; plain, because they name resources. */
  readonly metrics: readonly LogMetricConfig[];
  /** GCP project. */
  readonly project: string;
  /** Stack name, in alert names. */
  readonly stack: string;
  /** Notification channel names per route. Default: none. */
  readonly channels?: RouteChannels;
  /** Open incidents close after this long without data, in seconds. */
  readonly autoCloseSeconds: number;
  /** User labels on alert policies. Default: none. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Business metrics counted from logs, each with its optional alert. */
export class LogMetrics extends pulumi.ComponentResource {
  /** Metric types, `logging.googleapis.com/user/NAME`, by metric name. */
  public readonly metricTypes: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: LogMetricsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:monitoring:LogMetrics", name, {}, opts);
    this.metricTypes = {};
    for (const m of args.metrics) {
      const metric = new logging.Metric(`${name}-${m.name}`, logMetricArgs(m, args.project), {
        parent: this,
      });
      this.metricTypes[m.name] = pulumi.interpolate`logging.googleapis.com/user/${metric.name}`;
      if (m.alert) {
        const p = logMetricPolicy(m, m.alert, args.stack, args.autoCloseSeconds);
        new monitoring.AlertPolicy(
          `${name}-${m.name}-alert`,
          alertPolicyArgs(p, args.project, args.channels, args.labels ?? {}),
          // The policy's filter names the metric, which must exist first.
          { parent: this, dependsOn: [metric] },
        );
      }
    }
    this.registerOutputs({ metricTypes: this.metricTypes });
  }
}
