import * as monitoring from "@pulumi/gcp/monitoring";
import * as pulumi from "@pulumi/pulumi";
import type { LogMetricConfig } from "../../model/monitoring";
import { overviewDashboard, type QueueChartSpec } from "./dashboard";

export interface OverviewDashboardArgs {
  /** GCP project. */
  readonly project: string;
  /** Stack name, in the dashboard's title. */
  readonly stack: string;
  /** Environment, in the summary tile. */
  readonly environment: string;
  /** Every service of the stack with its URL. */
  readonly services: readonly {
    name: string;
    url: pulumi.Input<string>;
    /** The service's regions; charts split by region when any service has several. Default: one. */
    regions?: readonly string[];
  }[];
  /** Log-based metrics charted on the overview. Default: none. */
  readonly logMetrics?: readonly LogMetricConfig[];
  /** Every push subscription of the stack. Default: none. */
  readonly queues?: readonly QueueChartSpec[];
}

/** The stack's overview dashboard: all services side by side, and every log-based metric. */
export class OverviewDashboard extends pulumi.ComponentResource {
  public readonly dashboardId: pulumi.Output<string>;

  constructor(name: string, args: OverviewDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:monitoring:OverviewDashboard", name, {}, opts);
    const services = pulumi.all(
      args.services.map((s) =>
        pulumi
          .output(s.url)
          .apply((url) => ({ name: s.name, url, ...(s.regions ? { regions: s.regions } : {}) })),
      ),
    );
    const dashboard = new monitoring.Dashboard(
      `${name}-dashboard`,
      {
        project: args.project,
        dashboardJson: services.apply((list) =>
          JSON.stringify(
            overviewDashboard({
              stack: args.stack,
              environment: args.environment,
              services: list,
              logMetrics: args.logMetrics ?? [],
              queues: args.queues ?? [],
            }),
          ),
        ),
      },
      { parent: this },
    );
    this.dashboardId = dashboard.id;
    this.registerOutputs({ dashboardId: this.dashboardId });
  }
}
