import * as monitoring from "@pulumi/gcp/monitoring";
import * as pulumi from "@pulumi/pulumi";
import { latencySource, type ServiceLlm } from "../../model/llm";
import type { ServiceMonitoring } from "../../model/monitoring";
import type { TrafficTarget } from "../../model/release/traffic";
import {
  canaryPolicy,
  errorRatioPolicy,
  latencyPolicy,
  saturationPolicy,
  uptimePolicy,
  type PolicyContext,
} from "./policies";
import { declareSlo, policyDeclarer, type RouteChannels } from "./alertPolicyArgs";
import { serviceSlos, type SloSpec } from "./slos";
import { uptimeCheckTarget } from "./uptime";

export interface ServiceAlertsArgs {
  /** Cloud Run service name; plain, because it names the SLOs and policies. */
  readonly service: string;
  /** GCP project. */
  readonly project: string;
  /** The service's primary Cloud Run region, which identifies it to Cloud Monitoring's service model. */
  readonly region: string;
  /** Every region the service runs in; with more than one, alerts are evaluated per region. Default: `[region]`. */
  readonly regions?: readonly string[];
  /** Stack name, shown in policy names and documentation. */
  readonly stack: string;
  /** The service's resolved monitoring settings (thresholds, routes, SLO goals; defaults per environment). */
  readonly monitoring: ServiceMonitoring;
  /** scaling.maxInstances, which the saturation alert compares with. */
  readonly maxInstances: number;
  /** Health path for the uptime check; no uptime check without one. Default: none. */
  readonly healthCheckPath?: string;
  /** Whether anyone may call the service from the internet; uptime checkers can reach only public services. */
  readonly publiclyReachable: boolean;
  /** The service's URL. */
  readonly url: pulumi.Input<string>;
  /** The traffic split; with a canary, the canary-worse-than-stable alert compares its two revisions. */
  readonly split: pulumi.Input<readonly TrafficTarget[]>;
  /** Whether the service has a canary; plain, because it decides whether the canary policy exists. */
  readonly hasCanary: boolean;
  /** Notification channel names per route. Default: none (policies open incidents only). */
  readonly channels?: RouteChannels;
  /** Open incidents close after this long without data, in seconds. */
  readonly autoCloseSeconds: number;
  /** User labels on every policy, SLO and check. Default: none. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * The service logs its model calls; when it streams, its latency alert and SLO measure time to first
   * token instead of request latency. Default: it does not.
   */
  readonly llm?: ServiceLlm;
}

/**
 * A service's alerting: 5xx ratio, latency, saturation, uptime of the health path, canary worse than
 * stable, and availability and latency SLOs with multiwindow, multi-burn-rate alerts. A streaming
 * service's latency alert and SLO read its time to first token (model/llm.ts latencySource).
 */
export class ServiceAlerts extends pulumi.ComponentResource {
  /** SLO resource names, `projects/P/services/S/serviceLevelObjectives/O`, by kind. */
  public readonly slos: { kind: SloSpec["kind"]; goal: number; name: pulumi.Output<string> }[];
  /** Alert policy resource names by key. */
  public readonly policies: Record<string, pulumi.Output<string>>;
  /** The uptime check's id, when there is one. */
  public readonly uptimeCheckId: pulumi.Output<string | undefined>;

  constructor(name: string, args: ServiceAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:monitoring:ServiceAlerts", name, {}, opts);
    const { alerts, slo } = args.monitoring;
    const labels = { ...args.labels };
    const latency = latencySource({ name: args.service, ...(args.llm ? { llm: args.llm } : {}) });
    const ctx: PolicyContext = {
      service: args.service,
      stack: args.stack,
      autoCloseSeconds: args.autoCloseSeconds,
      regions: args.regions ?? [args.region],
      ...(args.monitoring.runbookUrl ? { runbookUrl: args.monitoring.runbookUrl } : {}),
    };
    this.policies = {};
    const declare = policyDeclarer(
      this,
      name,
      { project: args.project, ...(args.channels ? { channels: args.channels } : {}), labels },
      this.policies,
    );

    declare(errorRatioPolicy(ctx, alerts.errorRatio), "error-ratio");
    declare(latencyPolicy(ctx, alerts.latency, latency), "latency");
    declare(saturationPolicy(ctx, args.maxInstances, alerts.saturation), "saturation");

    if (args.hasCanary) {
      const revisions = pulumi.output(args.split).apply((split) => ({
        canary: split.find((t) => t.tag === "canary")?.revision ?? "",
        stable: split.find((t) => t.tag === "stable")?.revision ?? "",
      }));
      declare(
        revisions.apply((r) => canaryPolicy(ctx, r, alerts.canary)),
        "canary",
      );
    }

    const target = uptimeCheckTarget(args.healthCheckPath, args.publiclyReachable);
    if (target) {
      const check = new monitoring.UptimeCheckConfig(
        `${name}-uptime-check`,
        {
          project: args.project,
          displayName: `${args.service} (${args.stack}) ${target.path}`,
          period: `${alerts.uptime.periodSeconds}s`,
          timeout: `${alerts.uptime.timeoutSeconds}s`,
          httpCheck: { path: target.path, port: 443, useSsl: true, validateSsl: true, requestMethod: "GET" },
          monitoredResource: {
            type: "uptime_url",
            labels: {
              project_id: args.project,
              host: pulumi.output(args.url).apply((u) => new URL(u).host),
            },
          },
          checkerType: "STATIC_IP_CHECKERS",
          userLabels: labels,
        },
        { parent: this },
      );
      declare(
        check.uptimeCheckId.apply((id) => uptimePolicy(ctx, id, target.path, alerts.uptime)),
        "uptime",
      );
      this.uptimeCheckId = check.uptimeCheckId;
    } else {
      this.uptimeCheckId = pulumi.output(undefined);
    }

    const monitored = new monitoring.GenericService(
      `${name}-service`,
      {
        project: args.project,
        serviceId: `${args.service}-run`,
        displayName: `${args.service} (Cloud Run)`,
        basicService: {
          serviceType: "CLOUD_RUN",
          serviceLabels: { service_name: args.service, location: args.region },
        },
        userLabels: labels,
      },
      { parent: this },
    );
    this.slos = serviceSlos(args.service, slo, latency).map((s) => ({
      kind: s.kind,
      goal: s.goal,
      name: declareSlo(
        this,
        name,
        { project: args.project, serviceId: monitored.serviceId, spec: s, labels, ctx, alerts },
        declare,
      ),
    }));

    this.registerOutputs({ slos: this.slos, policies: this.policies, uptimeCheckId: this.uptimeCheckId });
  }
}
