import * as monitoring from "@pulumi/gcp/monitoring";
import * as pulumi from "@pulumi/pulumi";
import type { LogMetricConfig, ServiceMonitoring } from "../../model/monitoring";
import type { TrafficTarget } from "../../model/release/traffic";
import { serviceDashboard, type QueueChartSpec } from "./dashboard";

export interface ServiceDashboardArgs {
  /** Cloud Run service name. */
  readonly service: string;
  /** GCP project. */
  readonly project: string;
  /** Stack name, in the dashboard's title. */
  readonly stack: string;
  /** The service's resolved monitoring settings: thresholds drawn on charts, runbook link. */
  readonly monitoring: ServiceMonitoring;
  /** scaling.maxInstances, drawn on the instances chart. */
  readonly maxInstances: number;
  /** The service's URL. */
  readonly url: pulumi.Input<string>;
  /** The service's regions; with more than one, charts are split by region. Default: one. */
  readonly regions?: readonly string[];
  /** The canary tag URL; none without a canary. Default: none. */
  readonly canaryUrl?: pulumi.Input<string | undefined>;
  /** The traffic split, shown in the text tile. */
  readonly split: pulumi.Input<readonly TrafficTarget[]>;
  /** The service's SLOs, for the compliance, budget and burn-rate tiles. Default: none. */
  readonly slos?: readonly { kind: string; goal: number; name: pulumi.Input<string> }[];
  /** Alert policies charted as incidents over time, by title. Default: none. */
  readonly alertPolicies?: readonly { title: string; name: pulumi.Input<string> }[];
  /** Log-based metrics charted on this dashboard. Default: none. */
  readonly logMetrics?: readonly LogMetricConfig[];
  /** Push subscriptions feeding the service, charted at the bottom. Default: none. */
  readonly queues?: readonly QueueChartSpec[];
}

/** One service's Cloud Monitoring dashboard; its JSON comes from the pure `serviceDashboard`. */
export class ServiceDashboard extends pulumi.ComponentResource {
  /** The dashboard's resource id. */
  public readonly dashboardId: pulumi.Output<string>;
  public readonly dashboard: monitoring.Dashboard;

  constructor(name: string, args: ServiceDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:monitoring:ServiceDashboard", name, {}, opts);
    const slos = pulumi.all(
      (args.slos ?? []).map((s) =>
        pulumi.output(s.name).apply((n) => ({ kind: s.kind, goal: s.goal, name: n })),
      ),
    );
    const alertCharts = pulumi.all(
      (args.alertPolicies ?? []).map((a) =>
        pulumi.output(a.name).apply((n) => ({ title: a.title, name: n })),
      ),
    );
    const json = pulumi
      .all([args.url, args.canaryUrl, args.split, slos, alertCharts])
      .apply(([url, canaryUrl, split, sloList, alerts]) =>
        JSON.stringify(
          serviceDashboard({
            service: args.service,
            stack: args.stack,
            url,
            ...(canaryUrl ? { canaryUrl } : {}),
            ...(args.monitoring.runbookUrl ? { runbookUrl: args.monitoring.runbookUrl } : {}),
            split,
            ...(args.regions ? { regions: args.regions } : {}),
            maxInstances: args.maxInstances,
            errorRatioThreshold: args.monitoring.alerts.errorRatio.threshold,
            latency: args.monitoring.alerts.latency,
            slos: sloList,
            logMetrics: args.logMetrics ?? [],
            alertCharts: alerts,
            queues: args.queues ?? [],
          }),
        ),
      );
    this.dashboard = new monitoring.Dashboard(
      `${name}-dashboard`,
      { project: args.project, dashboardJson: json },
      { parent: this },
    );
    this.dashboardId = this.dashboard.id;
    this.registerOutputs({ dashboardId: this.dashboardId });
  }
}
