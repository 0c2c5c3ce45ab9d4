import * as monitoring from "@pulumi/gcp/monitoring";
import * as pulumi from "@pulumi/pulumi";
import type { AlertRoute } from "../../model/monitoring";
import type { ChannelConfig } from "../../model/monitoring";
import { channelType, routeChannels } from "./channels";

export interface NotificationChannelsArgs {
  /** The stack's channels from config; plain, because they decide resource names. Default: none. */
  readonly channels: readonly ChannelConfig[];
  /** GCP project the channels live in. */
  readonly project: string;
  /** Bot token of the Slack app; required when a Slack channel is declared. Default: none. */
  readonly slackToken?: pulumi.Input<string>;
  /** PagerDuty Events API v2 integration key; required when a PagerDuty channel is declared. Default: none. */
  readonly pagerdutyServiceKey?: pulumi.Input<string>;
  /** User labels put on every channel. Default: none. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The stack's notification channels, and which of them each alert route (page, ticket) notifies. */
export class NotificationChannels extends pulumi.ComponentResource {
  /** Channel resource names (`projects/P/notificationChannels/N`) by route. */
  public readonly byRoute: Record<AlertRoute, pulumi.Output<string>[]>;

  constructor(name: string, args: NotificationChannelsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:monitoring:NotificationChannels", name, {}, opts);
    const created = new Map<string, monitoring.NotificationChannel>();
    for (const c of args.channels) {
      const { type, labels } = channelType(c);
      const secret = (v: pulumi.Input<string> | undefined) =>
        v === undefined ? undefined : pulumi.secret(v);
      created.set(
        c.name,
        new monitoring.NotificationChannel(
          `${name}-${c.name}`,
          {
            project: args.project,
            type,
            displayName: `${c.name} (${c.type}, ${c.receives.join(" + ")})`,
            labels,
            userLabels: { ...args.labels },
            ...(c.type === "slack" ? { sensitiveLabels: { authToken: secret(args.slackToken) } } : {}),
            ...(c.type === "pagerduty"
              ? { sensitiveLabels: { serviceKey: secret(args.pagerdutyServiceKey) } }
              : {}),
          },
          { parent: this },
        ),
      );
    }
    const routes = routeChannels(args.channels);
    const names = (list: string[]) =>
      list.map((n) => (created.get(n) as monitoring.NotificationChannel).name);
    this.byRoute = { page: names(routes.page), ticket: names(routes.ticket) };
    this.registerOutputs({ byRoute: this.byRoute });
  }
}
