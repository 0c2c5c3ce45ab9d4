import * as billing from "@pulumi/gcp/billing";
import * as monitoring from "@pulumi/gcp/monitoring";
import * as organizations from "@pulumi/gcp/organizations";
import * as pulumi from "@pulumi/pulumi";
import type { LlmSpend } from "../../model/llm";
import type { AlertRoute } from "../../model/monitoring";
import { alertPolicyArgs, type RouteChannels } from "./alertPolicyArgs";
import { spendPolicy } from "./llmSpend";

export interface ModelSpendArgs {
  readonly project: string;
  readonly stack: string;
  /** The services that log their model calls. */
  readonly services: readonly string[];
  readonly spend: LlmSpend;
  /** Route of the spend alert: what the stack's fast-burn alerts use. */
  readonly route: AlertRoute;
  readonly channels?: RouteChannels;
  readonly autoCloseSeconds: number;
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * What the stack spends: an alert when the last hour's model spend would exceed the daily budget, and
 * a Cloud Billing budget for the project that notifies the stack's channels at each threshold.
 */
export class ModelSpend extends pulumi.ComponentResource {
  constructor(name: string, args: ModelSpendArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:monitoring:ModelSpend", name, {}, opts);
    const parent = { parent: this };
    const { spend } = args;
    if (spend.dailyBudgetUsd !== undefined && args.services.length > 0)
      new monitoring.AlertPolicy(
        `${name}-daily`,
        alertPolicyArgs(
          spendPolicy(
            args.stack,
            args.services,
            { ...spend, dailyBudgetUsd: spend.dailyBudgetUsd },
            args.route,
            args.autoCloseSeconds,
          ),
          args.project,
          args.channels,
          { ...args.labels },
        ),
        parent,
      );
    if (spend.billing) {
      const b = spend.billing;
      const number = organizations.getProjectOutput({ projectId: args.project }, parent).number;
      // A budget notifies at most five Monitoring channels; the page route's come first.
      const channels = pulumi
        .all([...(args.channels?.page ?? []), ...(args.channels?.ticket ?? [])])
        .apply((all) => [...new Set(all)].slice(0, 5));
      new billing.Budget(
        `${name}-budget`,
        {
          billingAccount: b.account,
          displayName: `AI Orchestra ${args.stack} (${args.project})`,
          budgetFilter: { projects: [pulumi.interpolate`projects/${number}`], calendarPeriod: "MONTH" },
          amount: { specifiedAmount: { currencyCode: "USD", units: String(Math.round(b.monthlyBudgetUsd)) } },
          thresholdRules: b.thresholds.map((t) => ({ thresholdPercent: t, spendBasis: "CURRENT_SPEND" })),
          allUpdatesRule: { monitoringNotificationChannels: channels },
        },
        parent,
      );
    }
    this.registerOutputs({});
  }
}
