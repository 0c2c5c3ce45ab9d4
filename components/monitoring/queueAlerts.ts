import * as monitoring from "@pulumi/gcp/monitoring";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceMonitoring } from "../../model/monitoring";
import { declareSlo, policyDeclarer, type RouteChannels } from "./alertPolicyArgs";
import type { PolicyContext } from "./policies";
import { jobsSlo, queuePolicies } from "./queuePolicies";

export interface QueueAlertsArgs {
  /** The consuming Cloud Run service; plain, because it names the policies. */
  readonly service: string;
  readonly topic: string;
  /** The push subscription's name. */
  readonly subscription: string;
  /** The dead-letter topic's inspection subscription, when the subscription dead-letters. */
  readonly deadLetterSubscription?: string;
  readonly project: string;
  readonly stack: string;
  /** The consuming service's resolved monitoring settings (queue alerts and the jobs SLO). */
  readonly monitoring: ServiceMonitoring;
  readonly channels?: RouteChannels;
  readonly autoCloseSeconds: number;
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * A push subscription's alerting: the oldest job's age, the backlog, unacknowledged pushes and dead
 * letters, and a jobs SLO (the share of pushes acknowledged) with multiwindow burn-rate alerts.
 */
export class QueueAlerts extends pulumi.ComponentResource {
  /** The jobs SLO's resource name, `projects/P/services/S/serviceLevelObjectives/O`. */
  public readonly slo: { goal: number; name: pulumi.Output<string> };
  public readonly policies: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: QueueAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:monitoring:QueueAlerts", name, {}, opts);
    const { alerts, slo } = args.monitoring;
    const labels = { ...args.labels };
    const ctx: PolicyContext = {
      service: args.service,
      stack: args.stack,
      autoCloseSeconds: args.autoCloseSeconds,
      ...(args.monitoring.runbookUrl ? { runbookUrl: args.monitoring.runbookUrl } : {}),
    };
    this.policies = {};
    const declare = policyDeclarer(
      this,
      name,
      { project: args.project, ...(args.channels ? { channels: args.channels } : {}), labels },
      this.policies,
    );
    const queue = {
      topic: args.topic,
      subscription: args.subscription,
      ...(args.deadLetterSubscription ? { deadLetterSubscription: args.deadLetterSubscription } : {}),
    };
    for (const p of queuePolicies(ctx, queue, alerts)) declare(p, p.key.slice(args.topic.length + 1));

    // Cloud Monitoring has no built-in service for a subscription: a custom one holds its SLO.
    const monitored = new monitoring.CustomService(
      `${name}-service`,
      {
        project: args.project,
        serviceId: `${args.subscription}-queue`,
        displayName: `${args.topic} jobs of ${args.service} (Pub/Sub push)`,
        userLabels: labels,
      },
      { parent: this },
    );
    const s = jobsSlo(args.service, args.topic, args.subscription, slo.jobs);
    const sloName = declareSlo(
      this,
      name,
      { project: args.project, serviceId: monitored.serviceId, spec: s, labels, ctx, alerts },
      declare,
    );
    this.slo = { goal: s.goal, name: sloName };
    this.registerOutputs({ slo: this.slo, policies: this.policies });
  }
}
