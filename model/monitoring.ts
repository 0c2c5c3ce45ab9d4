/** Monitoring settings of a stack, as validated: alert routes, thresholds, SLOs, channels and log metrics. */

/** Who hears about an alert: `page` wakes someone up, `ticket` is looked at in working hours. */
export type AlertRoute = "page" | "ticket";

/** Alert policy severity per route: what Cloud Monitoring shows and what channels can filter on. */
export const ROUTE_SEVERITY: Record<AlertRoute, "CRITICAL" | "WARNING"> = {
  page: "CRITICAL",
  ticket: "WARNING",
};

/** Every alert and SLO setting of a service, as resolved from defaults and config. */
export interface AlertDefaults {
  readonly errorRatio: { threshold: number; durationSeconds: number; notify: AlertRoute };
  readonly latency: {
    percentile: 50 | 95 | 99;
    thresholdMs: number;
    durationSeconds: number;
    notify: AlertRoute;
  };
  readonly canary: {
    margin: number;
    minRequestsPerSecond: number;
    durationSeconds: number;
    evaluationSeconds: number;
    notify: AlertRoute;
  };
  readonly uptime: { periodSeconds: 60 | 300 | 600 | 900; timeoutSeconds: number; notify: AlertRoute };
  readonly saturation: { ratio: number; durationSeconds: number; notify: AlertRoute };
  readonly fastBurn: { notify: AlertRoute };
  readonly slowBurn: { notify: AlertRoute };
  /** Queues the service consumes (push subscriptions): the oldest message waiting too long. */
  readonly queueAge: { thresholdSeconds: number; durationSeconds: number; notify: AlertRoute };
  /** More messages waiting than the service should ever fall behind by. */
  readonly queueBacklog: { messages: number; durationSeconds: number; notify: AlertRoute };
  /** Any message moved to the dead-letter topic. */
  readonly deadLetters: { notify: AlertRoute };
  /** The share of push deliveries the service did not acknowledge. */
  readonly pushErrors: { ratio: number; durationSeconds: number; notify: AlertRoute };
}

export interface SloDefaults {
  readonly availability: { goal: number; rollingPeriodDays: number };
  readonly latency: { goal: number; thresholdMs: number; rollingPeriodDays: number };
  /** Queues the service consumes: the share of push deliveries it acknowledged (its jobs that succeeded). */
  readonly jobs: { goal: number; rollingPeriodDays: number };
}

/** A notification channel; secrets (Slack token, PagerDuty key) are read by the program, never kept here. */
export type ChannelConfig =
  | {
      readonly name: string;
      readonly type: "email";
      readonly address: string;
      readonly receives: readonly AlertRoute[];
    }
  | {
      readonly name: string;
      readonly type: "slack";
      readonly channel: string;
      readonly receives: readonly AlertRoute[];
    }
  | { readonly name: string; readonly type: "pagerduty"; readonly receives: readonly AlertRoute[] };

/** A log-based metric: counts matching log entries, or a distribution of a value extracted from them. */
export interface LogMetricConfig {
  readonly name: string;
  readonly description: string;
  readonly filter: string;
  /** Label key to extractor expression, e.g. `EXTRACT(jsonPayload.model)`. */
  readonly labels: Readonly<Record<string, string>>;
  /** When set, the metric is a distribution of this value; otherwise a counter. */
  readonly valueExtractor?: string;
  readonly unit: string;
  /** Monitored resource type the matching log entries are written against. */
  readonly resourceType: string;
  /** Service whose dashboard charts it; every log metric is also on the overview. */
  readonly service?: string;
  readonly alert?: {
    readonly comparison: "COMPARISON_GT" | "COMPARISON_LT";
    readonly threshold: number;
    readonly durationSeconds: number;
    readonly notify: AlertRoute;
  };
}

/** Monitoring settings of one service, with every default applied. */
export interface ServiceMonitoring {
  readonly alerts: AlertDefaults;
  readonly slo: SloDefaults;
  readonly runbookUrl?: string;
}

export interface MonitoringConfig {
  readonly autoCloseSeconds: number;
  readonly channels: readonly ChannelConfig[];
  /** By service name; every service of the stack has an entry. */
  readonly services: Readonly<Record<string, ServiceMonitoring>>;
  readonly logMetrics: readonly LogMetricConfig[];
}
