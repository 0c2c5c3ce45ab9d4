import type * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { AlertRoute } from "../../model/monitoring";
import type { PolicySpec } from "./policies";

/** Notification channel names per route: who hears about a `page` and who about a `ticket`. */
export type RouteChannels = Partial<Record<AlertRoute, pulumi.Input<string>[]>>;

/** An alert policy's resource arguments from its plain spec, notifying the channels of its route. */
export function alertPolicyArgs(
  spec: PolicySpec | pulumi.Output<PolicySpec>,
  project: string,
  channels: RouteChannels | undefined,
  labels: Readonly<Record<string, string>>,
): gcp.monitoring.AlertPolicyArgs {
  const p = pulumi.output(spec);
  return {
    project,
    displayName: p.displayName,
    combiner: p.combiner,
    conditions: p.conditions,
    severity: p.severity,
    documentation: p.documentation,
    alertStrategy: p.alertStrategy,
    notificationChannels: p.route.apply((r) => pulumi.all(channels?.[r] ?? [])),
    userLabels: { ...labels },
  };
}
