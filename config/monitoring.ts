import { z } from "zod";
import { MONITORING_DEFAULTS, MONITORING_ENVIRONMENT_DEFAULTS } from "./defaults";
import { type AlertDefaults, type SloDefaults } from "../model/monitoring";
import { fix, type ConfigIssue } from "./errors";
import type { Environment } from "../model/types";
import type {
  ChannelConfig,
  LogMetricConfig,
  MonitoringConfig,
  ServiceMonitoring,
} from "../model/monitoring";

/**
 * The shape of `ai-orchestra:monitoring`. Cloud Monitoring's API limits are enforced here, so that a
 * policy the API would refuse is a config error, not a failed `pulumi up`.
 */

/** Config keys, under `ai-orchestra:`, that hold secrets for notification channels. */
export const SLACK_TOKEN_KEY = "slackToken";
export const PAGERDUTY_KEY = "pagerdutyServiceKey";

const route = z.enum(["page", "ticket"], {
  error: fix("must be `page` or `ticket`.", "`page` wakes someone up; `ticket` waits for working hours."),
});

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
  });

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
  });

const rollingPeriodDays = z
  .number({ error: fix("must be a number of days.", "28 is usual.") })
  .int({ error: fix("must be a whole number of days (Cloud Monitoring's limit).", "e.g. 28.") })
  .min(1, { error: fix("must be at least 1.", "28 is usual.") })
  .max(30, { error: fix("must be at most 30 (Cloud Monitoring's limit).", "use 28 or 30.") });

const thresholdMs = positive("a latency in milliseconds", "e.g. 1000 for one second.");

const alertsSchema = z.strictObject({
  errorRatio: z
    .strictObject({
      threshold: ratio("the 5xx share of requests that alerts").optional(),
      durationSeconds: durationSeconds.optional(),
      notify: route.optional(),
    })
    .optional(),
  latency: z
    .strictObject({
      percentile: z
        .union([z.literal(50), z.literal(95), z.literal(99)], {
          error: fix("must be 50, 95 or 99.", "the percentiles Cloud Monitoring reduces to."),
        })
        .optional(),
      thresholdMs: thresholdMs.optional(),
      durationSeconds: durationSeconds.optional(),
      notify: route.optional(),
    })
    .optional(),
  canary: z
    .strictObject({
      margin: ratio("how much higher the canary's 5xx ratio may be than stable's").optional(),
      minRequestsPerSecond: z
        .number({ error: fix("must be a request rate.", "e.g. 0.1; below it the canary is not judged.") })
        .min(0, { error: fix("must be at least 0.", "e.g. 0.1.") })
        .optional(),
      durationSeconds: durationSeconds.optional(),
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
        .optional(),
      notify: route.optional(),
    })
    .optional(),
  uptime: z
    .strictObject({
      periodSeconds: z
        .union([z.literal(60), z.literal(300), z.literal(600), z.literal(900)], {
          error: fix("must be 60, 300, 600 or 900 (the periods uptime checks support).", "e.g. 60."),
        })
        .optional(),
      timeoutSeconds: z
        .number({ error: fix("must be a number of seconds from 1 to 60.", "e.g. 10.") })
        .int({ error: fix("must be a whole number of seconds.", "e.g. 10.") })
        .min(1, { error: fix("must be at least 1.", "e.g. 10.") })
        .max(60, { error: fix("must be at most 60 (the uptime check limit).", "e.g. 10.") })
        .optional(),
      notify: route.optional(),
    })
    .optional(),
  saturation: z
    .strictObject({
      ratio: ratio("the share of scaling.maxInstances that alerts").optional(),
      durationSeconds: durationSeconds.optional(),
      notify: route.optional(),
    })
    .optional(),
  fastBurn: z.strictObject({ notify: route.optional() }).optional(),
  slowBurn: z.strictObject({ notify: route.optional() }).optional(),
});

const sloSchema = z.strictObject({
  availability: z
    .strictObject({ goal: goal.optional(), rollingPeriodDays: rollingPeriodDays.optional() })
    .optional(),
  latency: z
    .strictObject({
      goal: goal.optional(),
      thresholdMs: thresholdMs.optional(),
      rollingPeriodDays: rollingPeriodDays.optional(),
    })
    .optional(),
});

const url = z.string({ error: "must be a URL." }).regex(/^https:\/\/\S+$/, {
  error: fix("must be an https:// URL.", "e.g. `https://wiki.example.com/runbooks/api`."),
});

const receives = z
  .array(route, { error: fix("must be a list of routes.", "e.g. [page, ticket].") })
  .min(1, { error: fix("must name at least one route.", "e.g. [page]; remove the channel to silence it.") })
  .optional();

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
  description: z.string({ error: "must be a sentence saying what the metric counts." }).optional(),
  filter: z
    .string({
      error: fix(
        "is required: the log filter selecting the entries.",
        'e.g. `jsonPayload.event="job_done"`.',
      ),
    })
    .min(1, { error: fix("must not be empty.", 'e.g. `jsonPayload.event="job_done"`.') }),
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
    .optional(),
  valueExtractor: z
    .string()
    .regex(/^(?:EXTRACT|REGEXP_EXTRACT)\(.+\)$/, {
      error: fix(
        'must be an extractor: `EXTRACT(field)` or `REGEXP_EXTRACT(field, "regex")`.',
        "e.g. `EXTRACT(jsonPayload.tokens)`; leave it out to count entries.",
      ),
    })
    .optional(),
  unit: z.string({ error: "must be a unit such as `1`, `ms` or `By`." }).max(30).optional(),
  resourceType: z
    .enum(["cloud_run_revision", "cloud_run_job", "global"], {
      error: fix(
        "must be cloud_run_revision, cloud_run_job or global.",
        "the resource the log entries are written against.",
      ),
    })
    .optional(),
  service: z.string({ error: "must be a service name of this stack." }).optional(),
  alert: z
    .strictObject({
      above: z.number({ error: "must be a number." }).optional(),
      below: z.number({ error: "must be a number." }).optional(),
      durationSeconds: durationSeconds.optional(),
      notify: route.optional(),
    })
    .optional(),
});

export const monitoringSchema = z.strictObject({
  runbookUrl: url.optional(),
  autoCloseSeconds: z
    .number({ error: fix("must be a number of seconds.", "e.g. 1800.") })
    .int({ error: fix("must be a whole number of seconds.", "e.g. 1800.") })
    .min(1800, {
      error: fix("must be at least 1800 (30 minutes, Cloud Monitoring's minimum).", "e.g. 1800."),
    })
    .max(604800, { error: fix("must be at most 604800 (7 days).", "e.g. 1800.") })
    .refine((n) => n % 60 === 0, { error: fix("must be a multiple of 60.", "e.g. 1800.") })
    .optional(),
  channels: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, {
        error: "must be a channel name: lowercase letters, digits and '-', starting with a letter.",
      }),
      channelSchema,
    )
    .optional(),
  alerts: alertsSchema.optional(),
  slo: sloSchema.optional(),
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
    .optional(),
  services: z
    .record(
      z.string(),
      z.strictObject({
        runbookUrl: url.optional(),
        alerts: alertsSchema.optional(),
        slo: sloSchema.optional(),
      }),
    )
    .optional(),
});

export type RawMonitoring = z.infer<typeof monitoringSchema>;
type RawAlerts = z.infer<typeof alertsSchema>;
type RawSlo = z.infer<typeof sloSchema>;

/** Each alert kind's settings: defaults, then the stack's, then the service's own. */
function mergeAlerts(base: AlertDefaults, ...layers: (RawAlerts | undefined)[]): AlertDefaults {
  const out: Record<string, object> = { ...base };
  for (const layer of layers) {
    for (const [kind, settings] of Object.entries(layer ?? {})) {
      out[kind] = { ...out[kind], ...settings };
    }
  }
  return out as unknown as AlertDefaults;
}

function mergeSlo(base: SloDefaults, ...layers: (RawSlo | undefined)[]): SloDefaults {
  const out: Record<string, object> = { ...base };
  for (const layer of layers) {
    for (const [kind, settings] of Object.entries(layer ?? {})) {
      out[kind] = { ...out[kind], ...settings };
    }
  }
  return out as unknown as SloDefaults;
}

export interface MonitoringContext {
  readonly environment: Environment;
  readonly services: readonly string[];
  /** Whether the secret config keys are set (their values are never read here). */
  readonly hasSlackToken: boolean;
  readonly hasPagerdutyKey: boolean;
}

/**
 * Applies defaults and the cross-field rules to `ai-orchestra:monitoring`. Issues are pushed with key
 * paths as written in the stack file; the result is undefined when any was found.
 */
export function resolveMonitoring(
  raw: RawMonitoring | undefined,
  ctx: MonitoringContext,
  issues: ConfigIssue[],
  warnings: string[],
): MonitoringConfig | undefined {
  const before = issues.length;
  const at = (key: string) => `ai-orchestra:monitoring.${key}`;
  const push = (key: string, value: unknown, message: string) =>
    issues.push({ path: at(key), value, hasValue: value !== undefined, message });
  const envDefaults = MONITORING_ENVIRONMENT_DEFAULTS[ctx.environment];
  const serviceNames = ctx.services;

  const channels: ChannelConfig[] = [];
  for (const [name, c] of Object.entries(raw?.channels ?? {})) {
    const routes = [...new Set(c.receives ?? MONITORING_DEFAULTS.channelReceives)];
    if (c.type === "slack" && !ctx.hasSlackToken) {
      push(
        `channels.${name}`,
        c,
        `is a Slack channel, but \`ai-orchestra:${SLACK_TOKEN_KEY}\` is not set.\n` +
          `Fix: \`pulumi config set --secret ai-orchestra:${SLACK_TOKEN_KEY} xoxb-... -s STACK\` (the Slack app's bot token).`,
      );
    }
    if (c.type === "pagerduty" && !ctx.hasPagerdutyKey) {
      push(
        `channels.${name}`,
        c,
        `is a PagerDuty channel, but \`ai-orchestra:${PAGERDUTY_KEY}\` is not set.\n` +
          `Fix: \`pulumi config set --secret ai-orchestra:${PAGERDUTY_KEY} KEY -s STACK\` (the service's Events API v2 integration key).`,
      );
    }
    if (c.type === "email") channels.push({ name, type: "email", address: c.address, receives: routes });
    else if (c.type === "slack") channels.push({ name, type: "slack", channel: c.channel, receives: routes });
    else channels.push({ name, type: "pagerduty", receives: routes });
  }

  for (const name of Object.keys(raw?.services ?? {})) {
    if (!serviceNames.includes(name)) {
      push(
        `services.${name}`,
        raw?.services?.[name],
        `names no service of this stack; services are ${serviceNames.map((s) => `\`${s}\``).join(", ")}.\n` +
          "Fix: use the service's name as declared under `ai-orchestra:services`.",
      );
    }
  }

  const services: Record<string, ServiceMonitoring> = {};
  for (const name of ctx.services) {
    const own = raw?.services?.[name];
    const alerts = mergeAlerts(envDefaults.alerts, raw?.alerts, own?.alerts);
    const slo = mergeSlo(envDefaults.slo, raw?.slo, own?.slo);
    const runbookUrl = own?.runbookUrl ?? raw?.runbookUrl;
    services[name] = { alerts, slo, ...(runbookUrl ? { runbookUrl } : {}) };
  }

  const logMetrics: LogMetricConfig[] = [];
  for (const [name, m] of Object.entries(raw?.logMetrics ?? {})) {
    if (m.service !== undefined && !serviceNames.includes(m.service)) {
      push(
        `logMetrics.${name}.service`,
        m.service,
        `names no service of this stack; services are ${serviceNames.map((s) => `\`${s}\``).join(", ")}.\n` +
          "Fix: use a service name, or leave it out to chart the metric on the overview only.",
      );
    }
    let alert: LogMetricConfig["alert"];
    if (m.alert) {
      const { above, below } = m.alert;
      if ((above === undefined) === (below === undefined)) {
        push(
          `logMetrics.${name}.alert`,
          m.alert,
          "must set exactly one of `above` or `below`: Cloud Monitoring compares with greater-than or less-than only.\n" +
            "Fix: e.g. `above: 10` alerts when the rate per second exceeds 10.",
        );
      } else {
        alert = {
          comparison: above !== undefined ? "COMPARISON_GT" : "COMPARISON_LT",
          threshold: (above ?? below) as number,
          durationSeconds: m.alert.durationSeconds ?? MONITORING_DEFAULTS.logMetricAlertDurationSeconds,
          notify: m.alert.notify ?? MONITORING_DEFAULTS.logMetricAlertRoute,
        };
      }
    }
    logMetrics.push({
      name,
      description: m.description ?? `Log entries matching: ${m.filter}`,
      filter: m.filter,
      labels: m.labels ?? {},
      ...(m.valueExtractor ? { valueExtractor: m.valueExtractor } : {}),
      unit: m.unit ?? "1",
      resourceType: m.resourceType ?? MONITORING_DEFAULTS.logMetricResourceType,
      ...(m.service ? { service: m.service } : {}),
      ...(alert ? { alert } : {}),
    });
  }

  if (ctx.environment === "prod" && !channels.some((c) => c.receives.includes("page"))) {
    warnings.push(
      "ai-orchestra:monitoring.channels has no channel receiving `page`: prod alerts that page reach no one.",
    );
  }

  if (issues.length > before) return undefined;
  return {
    autoCloseSeconds: raw?.autoCloseSeconds ?? MONITORING_DEFAULTS.autoCloseSeconds,
    channels,
    services,
    logMetrics,
  };
}
