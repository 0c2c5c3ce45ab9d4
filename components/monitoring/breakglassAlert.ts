import * as monitoring from "@pulumi/gcp/monitoring";
import * as pulumi from "@pulumi/pulumi";
import { breakglassLogFilter } from "../../model/supplyChain";
import { alertPolicyArgs, type RouteChannels } from "./alertPolicyArgs";
import { spec, type PolicySpec } from "./policies";

/**
 * Pages on every deploy that used break-glass: Cloud Run writes an audit entry for each one, whether or
 * not the image would have passed. At most one notification per five minutes.
 */
export function breakglassPolicy(a: {
  readonly stack: string;
  readonly autoCloseSeconds: number;
  readonly runbookUrl?: string;
}): PolicySpec {
  const base = spec(
    {
      service: "binary-authorization",
      stack: a.stack,
      autoCloseSeconds: a.autoCloseSeconds,
      ...(a.runbookUrl ? { runbookUrl: a.runbookUrl } : {}),
    },
    "breakglass",
    "a deploy bypassed Binary Authorization (break-glass)",
    "page",
    [
      {
        displayName: "a Cloud Run revision was deployed with a break-glass justification",
        conditionMatchedLog: { filter: breakglassLogFilter() },
      },
    ],
    {
      means:
        "A Cloud Run revision was deployed with a break-glass justification: its image skipped Binary " +
        "Authorization's check, so nothing proves it was built by this organisation's CI or passed the " +
        "vulnerability gate. The incident's log entry names the revision and the justification.",
      steps: [
        "Find who deployed it and why: the justification is in the log entry (`breakglassJustification` in the stack file, or `gcloud run services update --breakglass`).",
        "If nobody can say why, roll the service back to its last attested release (`orchestra canary rollback SERVICE --stack STACK`) and treat it as a security incident.",
        "Otherwise attest the image through the release pipeline and remove `breakglassJustification` from the stack file in the next change: while it is set, every deploy bypasses the check.",
      ],
    },
  );
  return { ...base, alertStrategy: { ...base.alertStrategy, notificationRateLimit: { period: "300s" } } };
}

export interface BreakglassAlertArgs {
  readonly project: string;
  readonly stack: string;
  /** Channels by route; the alert notifies the `page` route's. */
  readonly channels?: RouteChannels;
  readonly autoCloseSeconds: number;
  /** Linked from the alert's documentation. Default: none. */
  readonly runbookUrl?: string;
  /** Labels on the policy. Default: none. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The alert that pages whenever a deploy bypasses Binary Authorization with break-glass. */
export class BreakglassAlert extends pulumi.ComponentResource {
  /** The alert policy's resource name. */
  public readonly policy: pulumi.Output<string>;

  constructor(name: string, args: BreakglassAlertArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:monitoring:BreakglassAlert", name, {}, opts);
    const policy = new monitoring.AlertPolicy(
      `${name}-policy`,
      alertPolicyArgs(breakglassPolicy(args), args.project, args.channels, { ...(args.labels ?? {}) }),
      { parent: this },
    );
    this.policy = policy.name;
    this.registerOutputs({ policy: this.policy });
  }
}
