import { z } from "zod";
import type {
  AlertDefaults,
  AlertRoute,
  ChannelConfig,
  LogMetricConfig,
  MonitoringConfig,
  ServiceMonitoring,
  SloDefaults,
} from "../model/monitoring";
import { fix } from "./errors";
import { cleanAt, type Ctx, report } from "./report";
import type { ParsedProject } from "./schema";
import type { Environment } from "../model/types";

/**
 * `ai-orchestra:monitoring`: its shape, defaults and rules. Cloud Monitoring's API limits are enforced
 * here, so that a policy the API would refuse is a config error, not a failed `pulumi up`.
 */

/** Config keys, under `ai-orchestra:`, that hold secrets for notification channels. */
export const SLACK_TOKEN_KEY = "slackToken";
export const PAGERDUTY_KEY = "pagerdutyServiceKey";

const route = z
  .enum(["page", "ticket"], {
    error: fix("must be `page` or `ticket`.", "`page` wakes someone up; `ticket` waits for working hours."),
  })
  .describe("Who hears about it: `page` wakes someone up, `ticket` waits for working hours.");

/** Alert durations: the API takes whole minutes (a multiple of 60 s), up to a day. */
const durationSeconds = z
  .number({ error: fix("must be a number of seconds.", "e.g. 300 for five minutes.") })
  .int({ error: fix("must be a whole number of seconds.", "e.g. 300.") })
  .min(0, { error: fix("must be at least 0.", "0 alerts on the first bad point.") })
  .max(86400, {
    error: fix("must be at most 86400 (one day).", "alert sooner; use an SLO for long windows."),
  })
  .refine((n) => n % 60 === 0, {
    error: fix(
      "must be a multiple of 60: Cloud Monitoring takes alert durations in whole minutes.",
      "round it, e.g. 300.",
    ),
  })
  .describe("How long the condition must hold before it alerts; whole minutes.");

const ratio = (what: string) =>
  z
    .number({ error: fix(`must be ${what}, a fraction between 0 and 1.`, "e.g. 0.05 for 5%.") })
    .gt(0, { error: fix("must be greater than 0.", "e.g. 0.05 for 5%.") })
    .lt(1, { error: fix("must be less than 1.", "write a fraction: 0.05, not 5.") });

const positive = (what: string, howTo: string) =>
  z
    .number({ error: fix(`must be ${what}.`, howTo) })
    .positive({ error: fix(`must be greater than 0.`, howTo) });

const goal = z
  .number({ error: fix("must be an SLO goal, a fraction such as 0.995.", "write 0.995 for 99.5%.") })
  .gt(0, { error: fix("must be greater than 0.", "write 0.995 for 99.5%.") })
  .max(0.9999, {
    error: fix(
      "must be at most 0.9999 (Cloud Monitoring's limit).",
      "99.99% is the highest goal an SLO may have.",
    ),
  })
  .describe("Share of good requests the SLO promises.");

const rollingPeriodDays = z
  .number({ error: fix("must be a number of days.", "28 is usual.") })
  .int({ error: fix("must be a whole number of days (Cloud Monitoring's limit).", "e.g. 28.") })
  .min(1, { error: fix("must be at least 1.", "28 is usual.") })
  .max(30, { error: fix("must be at most 30 (Cloud Monitoring's limit).", "use 28 or 30.") })
  .describe("The window the SLO is measured over.");

const thresholdMs = positive("a latency in milliseconds", "e.g. 1000 for one second.").describe(
  "Latency threshold in milliseconds.",
);

/** Alert settings by kind; the defaults are per environment, below. */
const ALERT_FIELDS = {
  errorRatio: {
    threshold: ratio("the 5xx share of requests that alerts").describe("5xx share of requests."),
    durationSeconds,
    notify: route,
  },
  latency: {
    percentile: z
      .union([z.literal(50), z.literal(95), z.literal(99)], {
        error: fix("must be 50, 95 or 99.", "the percentiles Cloud Monitoring reduces to."),
      })
      .describe("`50`, `95` or `99`."),
    thresholdMs,
    durationSeconds,
    notify: route,
  },
  canary: {
    margin: ratio("how much higher the canary's 5xx ratio may be than stable's").describe(
      "Canary 5xx ratio may exceed stable's by this much.",
    ),
    minRequestsPerSecond: z
      .number({ error: fix("must be a request rate.", "e.g. 0.1; below it the canary is not judged.") })
      .min(0, { error: fix("must be at least 0.", "e.g. 0.1.") })
      .describe("Below it the canary is not judged."),
    durationSeconds,
    evaluationSeconds: z
      .number({ error: fix("must be a number of seconds.", "e.g. 60.") })
      .int({ error: fix("must be a whole number of seconds.", "e.g. 60.") })
      .min(30, { error: fix("must be at least 30.", "e.g. 60.") })
      .max(3600, { error: fix("must be at most 3600.", "e.g. 60.") })
      .refine((n) => n % 30 === 0, {
        error: fix(
          "must be a multiple of 30: PromQL conditions evaluate every 30 s or multiples.",
          "e.g. 60.",
        ),
      })
      .describe("Multiple of 30."),
    notify: route,
  },
  uptime: {
    periodSeconds: z
      .union([z.literal(60), z.literal(300), z.literal(600), z.literal(900)], {
        error: fix("must be 60, 300, 600 or 900 (the periods uptime checks support).", "e.g. 60."),
      })
      .describe("60, 300, 600 or 900."),
    timeoutSeconds: z
      .number({ error: fix("must be a number of seconds from 1 to 60.", "e.g. 10.") })
      .int({ error: fix("must be a whole number of seconds.", "e.g. 10.") })
      .min(1, { error: fix("must be at least 1.", "e.g. 10.") })
      .max(60, { error: fix("must be at most 60 (the uptime check limit).", "e.g. 10.") })
      .describe("1-60."),
    notify: route,
  },
  saturation: {
    ratio: ratio("the share of scaling.maxInstances that alerts").describe(
      "Share of `scaling.maxInstances`.",
    ),
    durationSeconds,
    notify: route,
  },
  fastBurn: { notify: route.describe("Route of the fast error-budget burn alert.") },
  slowBurn: { notify: route.describe("Route of the slow error-budget burn alert.") },
  queueAge: {
    thresholdSeconds: positive(
      "a number of seconds",
      "e.g. 900: the oldest job has waited 15 minutes.",
    ).describe("Age of the oldest unacknowledged message, in seconds."),
    durationSeconds,
    notify: route,
  },
  queueBacklog: {
    messages: positive("a number of messages", "e.g. 1000.").describe("Messages waiting to be delivered."),
    durationSeconds,
    notify: route,
  },
  deadLetters: { notify: route.describe("Route of the alert on any dead-lettered message.") },
  pushErrors: {
    ratio: ratio("the share of push deliveries not acknowledged that alerts").describe(
      "Share of push deliveries the service did not acknowledge.",
    ),
    durationSeconds,
    notify: route,
  },
} satisfies Record<keyof AlertDefaults, Record<string, z.ZodType>>;

const SLO_FIELDS = {
  availability: { goal, rollingPeriodDays },
  latency: { goal, thresholdMs: thresholdMs.describe("A request within it is good."), rollingPeriodDays },
  jobs: { goal: goal.describe("Share of pushed jobs the consumer acknowledges."), rollingPeriodDays },
} satisfies Record<keyof SloDefaults, Record<string, z.ZodType>>;

type Fields = Record<string, Record<string, z.ZodType>>;

/** Settings by kind, each field built by `field` and each kind by `kind`. */
function byKind(
  fields: Fields,
  field: (schema: z.ZodType, kind: string, key: string) => z.ZodType,
  kind: (schema: z.ZodObject) => z.ZodType,
): z.ZodObject {
  return z.strictObject(
    Object.fromEntries(
      Object.entries(fields).map(([k, shape]) => [
        k,
        kind(
          z.strictObject(
            Object.fromEntries(Object.entries(shape).map(([key, f]) => [key, field(f, k, key)])),
          ),
        ),
      ]),
    ),
  );
}

/** The stack's `alerts` or `slo`: every field defaults to the environment's value. */
function withDefaults<T extends object>(fields: Fields, defaults: T): z.ZodDefault<z.ZodType<T>> {
  const values = defaults as Record<string, Record<string, unknown>>;
  return byKind(
    fields,
    (f, kind, key) => f.default(values[kind][key]),
    (kind) => kind.prefault({}),
  ).prefault({}) as unknown as z.ZodDefault<z.ZodType<T>>;
}

/** One service's `alerts` or `slo`: every field optional, on top of the stack's. */
function overrides<T extends object>(fields: Fields): z.ZodOptional<z.ZodType<Overrides<T>>> {
  return byKind(
    fields,
    (f) => f.optional(),
    (kind) => kind.optional(),
  ).optional() as unknown as z.ZodOptional<z.ZodType<Overrides<T>>>;
}

type Overrides<T> = { readonly [K in keyof T]?: Partial<T[K]> };

const alerts = (notify: Record<keyof AlertDefaults, AlertRoute>, errorRatio: number): AlertDefaults => ({
  errorRatio: { threshold: errorRatio, durationSeconds: 300, notify: notify.errorRatio },
  latency: { percentile: 99, thresholdMs: 2000, durationSeconds: 300, notify: notify.latency },
  canary: {
    margin: 0.01,
    minRequestsPerSecond: 0.1,
    durationSeconds: 300,
    evaluationSeconds: 60,
    notify: notify.canary,
  },
  uptime: { periodSeconds: 60, timeoutSeconds: 10, notify: notify.uptime },
  saturation: { ratio: 0.8, durationSeconds: 600, notify: notify.saturation },
  fastBurn: { notify: notify.fastBurn },
  slowBurn: { notify: notify.slowBurn },
  queueAge: { thresholdSeconds: 900, durationSeconds: 300, notify: notify.queueAge },
  queueBacklog: { messages: 1000, durationSeconds: 900, notify: notify.queueBacklog },
  deadLetters: { notify: notify.deadLetters },
  pushErrors: { ratio: 0.1, durationSeconds: 600, notify: notify.pushErrors },
});

const allTickets: Record<keyof AlertDefaults, AlertRoute> = {
  errorRatio: "ticket",
  latency: "ticket",
  canary: "ticket",
  uptime: "ticket",
  saturation: "ticket",
  fastBurn: "ticket",
  slowBurn: "ticket",
  queueAge: "ticket",
  queueBacklog: "ticket",
  deadLetters: "ticket",
  pushErrors: "ticket",
};

/** Dev and staging open tickets; prod pages for anything users feel now, tickets for slow trends. */
export const MONITORING_ENVIRONMENT_DEFAULTS: Record<
  Environment,
  { readonly alerts: AlertDefaults; readonly slo: SloDefaults }
> = {
  dev: {
    alerts: alerts(allTickets, 0.1),
    slo: {
      availability: { goal: 0.99, rollingPeriodDays: 28 },
      latency: { goal: 0.9, thresholdMs: 1000, rollingPeriodDays: 28 },
      jobs: { goal: 0.95, rollingPeriodDays: 28 },
    },
  },
  staging: {
    alerts: alerts(allTickets, 0.05),
    slo: {
      availability: { goal: 0.99, rollingPeriodDays: 28 },
      latency: { goal: 0.95, thresholdMs: 1000, rollingPeriodDays: 28 },
      jobs: { goal: 0.98, rollingPeriodDays: 28 },
    },
  },
  prod: {
    alerts: alerts(
      {
        errorRatio: "page",
        latency: "page",
        canary: "page",
        uptime: "page",
        saturation: "ticket",
        fastBurn: "page",
        slowBurn: "ticket",
        queueAge: "page",
        queueBacklog: "ticket",
        deadLetters: "ticket",
        pushErrors: "page",
      },
      0.05,
    ),
    slo: {
      availability: { goal: 0.995, rollingPeriodDays: 28 },
      latency: { goal: 0.95, thresholdMs: 1000, rollingPeriodDays: 28 },
      jobs: { goal: 0.99, rollingPeriodDays: 28 },
    },
  },
};

const url = z.string({ error: "must be a URL." }).regex(/^https:\/\/\S+$/, {
  error: fix("must be an https:// URL.", "e.g. `https://wiki.example.com/runbooks/api`."),
});

const receives = z
  .array(route, { error: fix("must be a list of routes.", "e.g. [page, ticket].") })
  .min(1, { error: fix("must name at least one route.", "e.g. [page]; remove the channel to silence it.") })
  .default(["page", "ticket"])
  .transform((routes) => [...new Set(routes)])
  .describe("Routes the channel is notified for.");

const channelSchema = z.discriminatedUnion(
  "type",
  [
    z.strictObject({
      type: z.literal("email"),
      address: z
        .string({ error: fix("must be an email address.", "e.g. `oncall@example.com`.") })
        .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, {
          error: fix("must be an email address.", "e.g. `oncall@example.com`."),
        }),
      receives,
    }),
    z.strictObject({
      type: z.literal("slack"),
      channel: z
        .string({ error: fix("must be a Slack channel name.", "e.g. `#orchestra-alerts`.") })
        .regex(/^#[a-z0-9_-]{1,80}$/, {
          error: fix("must be a Slack channel name starting with #.", "e.g. `#orchestra-alerts`."),
        }),
      receives,
    }),
    z.strictObject({ type: z.literal("pagerduty"), receives }),
  ],
  { error: fix("must have `type: email`, `type: slack` or `type: pagerduty`.", "add the `type` key.") },
);

const logMetricSchema = z.strictObject({
  description: z
    .string({ error: "must be a sentence saying what the metric counts." })
    .optional()
    .meta({ description: "What the metric counts.", defaultText: "the filter" }),
  filter: z
    .string({
      error: fix(
        "is required: the log filter selecting the entries.",
        'e.g. `jsonPayload.event="job_done"`.',
      ),
    })
    .min(1, { error: fix("must not be empty.", 'e.g. `jsonPayload.event="job_done"`.') })
    .describe("Log filter selecting the entries."),
  labels: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_]{0,99}$/, {
        error: "must be a label key: lowercase letters, digits and _, starting with a letter.",
      }),
      z.string().regex(/^(?:EXTRACT|REGEXP_EXTRACT)\(.+\)$/, {
        error: fix(
          'must be an extractor: `EXTRACT(field)` or `REGEXP_EXTRACT(field, "regex")`.',
          "e.g. `EXTRACT(jsonPayload.model)`.",
        ),
      }),
    )
    .refine((l) => Object.keys(l).length <= 10, {
      error: fix("must have at most 10 labels (log-based metric limit).", "drop the least useful labels."),
    })
    .default({})
    .describe('`key: EXTRACT(field)` or `REGEXP_EXTRACT(field, "re")`, at most 10.'),
  valueExtractor: z
    .string()
    .regex(/^(?:EXTRACT|REGEXP_EXTRACT)\(.+\)$/, {
      error: fix(
        'must be an extractor: `EXTRACT(field)` or `REGEXP_EXTRACT(field, "regex")`.',
        "e.g. `EXTRACT(jsonPayload.tokens)`; leave it out to count entries.",
      ),
    })
    .optional()
    .meta({
      description: "Makes the metric a distribution of the extracted value.",
      defaultText: "none (counts entries)",
    }),
  unit: z
    .string({ error: "must be a unit such as `1`, `ms` or `By`." })
    .max(30)
    .default("1")
    .describe("Unit of the metric."),
  resourceType: z
    .enum(["cloud_run_revision", "cloud_run_job", "global"], {
      error: fix(
        "must be cloud_run_revision, cloud_run_job or global.",
        "the resource the log entries are written against.",
      ),
    })
    .default("cloud_run_revision")
    .describe("The monitored resource the log entries are written against."),
  service: z
    .string({ error: "must be a service name of this stack." })
    .optional()
    .describe("Also chart the metric on this service's dashboard."),
  alert: z
    .strictObject({
      above: z
        .number({ error: "must be a number." })
        .optional()
        .describe("Alert when the value exceeds this."),
      below: z
        .number({ error: "must be a number." })
        .optional()
        .describe("Alert when the value drops below this."),
      durationSeconds: durationSeconds.default(300),
      notify: route.default("ticket"),
    })
    .optional()
    .describe(
      "Rate per second for counters, p95 for distributions: `{above or below, durationSeconds, notify}`.",
    ),
});

/** A channel as validated, under its name. */
function toChannel(name: string, c: z.output<typeof channelSchema>): ChannelConfig {
  if (c.type === "email") return { name, type: "email", address: c.address, receives: c.receives };
  if (c.type === "slack") return { name, type: "slack", channel: c.channel, receives: c.receives };
  return { name, type: "pagerduty", receives: c.receives };
}

/** A log-based metric as validated, under its name. */
function toLogMetric(name: string, m: z.output<typeof logMetricSchema>): LogMetricConfig {
  const alert = m.alert;
  return {
    name,
    description: m.description ?? `Log entries matching: ${m.filter}`,
    filter: m.filter,
    labels: m.labels,
    ...(m.valueExtractor ? { valueExtractor: m.valueExtractor } : {}),
    unit: m.unit,
    resourceType: m.resourceType,
    ...(m.service ? { service: m.service } : {}),
    ...(alert
      ? {
          alert: {
            comparison: alert.above !== undefined ? "COMPARISON_GT" : "COMPARISON_LT",
            threshold: (alert.above ?? alert.below) as number,
            durationSeconds: alert.durationSeconds,
            notify: alert.notify,
          },
        }
      : {}),
  };
}

/** `ai-orchestra:monitoring` for an environment: the stack's `alerts` and `slo` default to its values. */
export const monitoringSchema = (environment: Environment) =>
  z
    .strictObject({
      runbookUrl: url
        .optional()
        .describe("https link in every policy's documentation and on each dashboard."),
      autoCloseSeconds: z
        .number({ error: fix("must be a number of seconds.", "e.g. 1800.") })
        .int({ error: fix("must be a whole number of seconds.", "e.g. 1800.") })
        .min(1800, {
          error: fix("must be at least 1800 (30 minutes, Cloud Monitoring's minimum).", "e.g. 1800."),
        })
        .max(604800, { error: fix("must be at most 604800 (7 days).", "e.g. 1800.") })
        .refine((n) => n % 60 === 0, { error: fix("must be a multiple of 60.", "e.g. 1800.") })
        .default(1800)
        .describe("Incidents close after this long without data (1800-604800, whole minutes)."),
      channels: z
        .record(
          z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, {
            error: "must be a channel name: lowercase letters, digits and '-', starting with a letter.",
          }),
          channelSchema,
        )
        .default({})
        .describe(
          "Notification channels by name: `email` (`address`), `slack` (`channel`, needs `slackToken`), `pagerduty` (needs `pagerdutyServiceKey`).",
        ),
      alerts: withDefaults(ALERT_FIELDS, MONITORING_ENVIRONMENT_DEFAULTS[environment].alerts).describe(
        "Alert settings of every service, by kind.",
      ),
      slo: withDefaults(SLO_FIELDS, MONITORING_ENVIRONMENT_DEFAULTS[environment].slo).describe(
        "SLOs of every service.",
      ),
      logMetrics: z
        .record(
          z.string().regex(/^[a-z][a-z0-9_]{0,99}$/, {
            error: fix(
              "must be a metric name: lowercase letters, digits and _, starting with a letter.",
              "e.g. `jobs_completed`.",
            ),
          }),
          logMetricSchema,
        )
        .default({})
        .describe("Log-based metrics by name: counters, or distributions of an extracted value."),
      services: z
        .record(
          z.string(),
          z.strictObject({
            runbookUrl: url.optional().describe("This service's runbook."),
            alerts: overrides<AlertDefaults>(ALERT_FIELDS).meta({
              description:
                "This service's alert settings: the keys of `alerts`, each over the stack's value.",
              sameAs: "alerts",
            }),
            slo: overrides<SloDefaults>(SLO_FIELDS).meta({
              description: "This service's SLOs: the keys of `slo`, each over the stack's value.",
              sameAs: "slo",
            }),
          }),
        )
        .default({})
        .describe(
          "One service's overrides of `runbookUrl`, `alerts` and `slo`; the name must be a service of the stack.",
        ),
    })
    .describe(
      "Dashboards, alert policies, SLOs, notification channels and log-based metrics: {runbookUrl, autoCloseSeconds, channels, alerts, slo, logMetrics, services}. Defaults differ by environment (dev and staging open tickets, prod pages).",
    );

type ParsedMonitoring = z.output<ReturnType<typeof monitoringSchema>>;

/**
 * The rules between monitoring, the secret keys its channels need, and the services it names; and
 * each log alert's bound. Each entry is checked once its own keys parse.
 */
export function monitoringRules(own: ParsedProject, ctx: Ctx): void {
  const at = ["ai-orchestra", "monitoring"];
  const clean = (...path: PropertyKey[]) => cleanAt(ctx, ...at, ...path);
  const m = own.monitoring;
  const names = Object.keys(own.services);
  const listed = names.map((s) => `\`${s}\``).join(", ");
  for (const [name, c] of Object.entries(m.channels)) {
    if (!clean("channels", name)) continue;
    if (c.type === "slack" && !own[SLACK_TOKEN_KEY]) {
      report(
        ctx,
        [...at, "channels", name],
        `is a Slack channel, but \`ai-orchestra:${SLACK_TOKEN_KEY}\` is not set.\n` +
          `Fix: \`pulumi config set --secret ai-orchestra:${SLACK_TOKEN_KEY} xoxb-... -s STACK\` (the Slack app's bot token).`,
      );
    }
    if (c.type === "pagerduty" && !own[PAGERDUTY_KEY]) {
      report(
        ctx,
        [...at, "channels", name],
        `is a PagerDuty channel, but \`ai-orchestra:${PAGERDUTY_KEY}\` is not set.\n` +
          `Fix: \`pulumi config set --secret ai-orchestra:${PAGERDUTY_KEY} KEY -s STACK\` (the service's Events API v2 integration key).`,
      );
    }
  }
  for (const name of clean("services") ? Object.keys(m.services) : []) {
    if (!names.includes(name)) {
      report(
        ctx,
        [...at, "services", name],
        `names no service of this stack; services are ${listed}.\n` +
          "Fix: use the service's name as declared under `ai-orchestra:services`.",
      );
    }
  }
  for (const [name, metric] of Object.entries(m.logMetrics)) {
    if (
      clean("logMetrics", name, "service") &&
      metric.service !== undefined &&
      !names.includes(metric.service)
    ) {
      report(
        ctx,
        [...at, "logMetrics", name, "service"],
        `names no service of this stack; services are ${listed}.\n` +
          "Fix: use a service name, or leave it out to chart the metric on the overview only.",
      );
    }
    const alert = metric.alert;
    if (
      alert &&
      clean("logMetrics", name, "alert") &&
      (alert.above === undefined) === (alert.below === undefined)
    ) {
      report(
        ctx,
        [...at, "logMetrics", name, "alert"],
        "must set exactly one of `above` or `below`: Cloud Monitoring compares with greater-than or less-than only.\n" +
          "Fix: e.g. `above: 10` alerts when the rate per second exceeds 10.",
      );
    }
  }
}

/** Each kind's settings: the stack's, then the service's own. */
function merge<T extends object>(base: T, own: Overrides<T> | undefined): T {
  const out = { ...base } as Record<string, object>;
  for (const [kind, settings] of Object.entries(own ?? {}) as [string, object][])
    out[kind] = { ...out[kind], ...settings };
  return out as T;
}

/** Monitoring as validated: every service gets the stack's settings with its own overrides on top. */
export function toMonitoringConfig(m: ParsedMonitoring, serviceNames: readonly string[]): MonitoringConfig {
  const services: Record<string, ServiceMonitoring> = {};
  for (const name of serviceNames) {
    const own = m.services[name];
    const runbookUrl = own?.runbookUrl ?? m.runbookUrl;
    services[name] = {
      alerts: merge(m.alerts, own?.alerts),
      slo: merge(m.slo, own?.slo),
      ...(runbookUrl ? { runbookUrl } : {}),
    };
  }
  return {
    autoCloseSeconds: m.autoCloseSeconds,
    channels: Object.entries(m.channels).map(([name, c]) => toChannel(name, c)),
    services,
    logMetrics: Object.entries(m.logMetrics).map(([name, metric]) => toLogMetric(name, metric)),
  };
}
