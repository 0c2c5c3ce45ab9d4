import type * as gcp from "@pulumi/gcp";
import * as monitoring from "@pulumi/gcp/monitoring";
import * as pulumi from "@pulumi/pulumi";
import type { AlertDefaults, AlertRoute } from "../../model/monitoring";
import { burnRatePolicies, type PolicyContext, type PolicySpec } from "./policies";
import type { SloSpec } from "./slos";

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

/**
 * Declares a component's alert policies as `${name}-${key}` under `parent`, and records each policy's
 * resource name by key in `into`.
 */
export function policyDeclarer(
  parent: pulumi.Resource,
  name: string,
  target: { project: string; channels?: RouteChannels; labels: Readonly<Record<string, string>> },
  into: Record<string, pulumi.Output<string>>,
): (spec: PolicySpec | pulumi.Output<PolicySpec>, key: string) => void {
  return (spec, key) => {
    const policy = new monitoring.AlertPolicy(
      `${name}-${key}`,
      alertPolicyArgs(spec, target.project, target.channels, target.labels),
      { parent },
    );
    into[key] = policy.name;
  };
}

/**
 * An SLO on a monitored service and its multiwindow burn-rate policies (fast, medium, slow), declared
 * as `${name}-slo-${kind}` and `${kind}-burn-${tier}`; returns the SLO's resource name.
 */
export function declareSlo(
  parent: pulumi.Resource,
  name: string,
  a: {
    readonly project: string;
    readonly serviceId: pulumi.Input<string>;
    readonly spec: SloSpec;
    readonly labels: Readonly<Record<string, string>>;
    readonly ctx: PolicyContext;
    readonly alerts: AlertDefaults;
  },
  declare: (spec: pulumi.Output<PolicySpec>, key: string) => void,
): pulumi.Output<string> {
  const s = a.spec;
  const objective = new monitoring.Slo(
    `${name}-slo-${s.kind}`,
    {
      project: a.project,
      service: a.serviceId,
      sloId: s.sloId,
      displayName: s.displayName,
      goal: s.goal,
      rollingPeriodDays: s.rollingPeriodDays,
      requestBasedSli: s.requestBasedSli,
      userLabels: { ...a.labels },
    },
    { parent },
  );
  for (const tier of ["fast", "medium", "slow"] as const)
    declare(
      objective.name.apply(
        (sloName) =>
          burnRatePolicies(
            a.ctx,
            { kind: s.kind, name: sloName, goal: s.goal, periodDays: s.rollingPeriodDays },
            a.alerts,
          ).find((p) => p.key.endsWith(`-${tier}`)) as PolicySpec,
      ),
      `${s.kind}-burn-${tier}`,
    );
  return objective.name;
}
