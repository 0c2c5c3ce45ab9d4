import type { AlertRoute } from "../../model/monitoring";
import type { ChannelConfig } from "../../model/monitoring";

/** A channel's type and plain labels in Cloud Monitoring's terms; secrets go in sensitive labels. */
export function channelType(c: ChannelConfig): { type: string; labels: Record<string, string> } {
  switch (c.type) {
    case "email":
      return { type: "email", labels: { email_address: c.address } };
    case "slack":
      return { type: "slack", labels: { channel_name: c.channel } };
    case "pagerduty":
      return { type: "pagerduty", labels: {} };
  }
}

/** The channels each route notifies, by channel name. */
export function routeChannels(channels: readonly ChannelConfig[]): Record<AlertRoute, string[]> {
  return {
    page: channels.filter((c) => c.receives.includes("page")).map((c) => c.name),
    ticket: channels.filter((c) => c.receives.includes("ticket")).map((c) => c.name),
  };
}
