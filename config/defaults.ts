import type { Environment } from "../model/types";
import type { AlertDefaults, AlertRoute, SloDefaults } from "../model/monitoring";

/** Defaults for every per-service setting that does not depend on the environment. */
export const SERVICE_DEFAULTS = {
  cpu: "1",
  memory: "512Mi",
  maxInstances: 10,
  concurrency: 80,
  port: 8080,
  timeoutSeconds: 300,
  ingress: "all",
  allowUnauthenticated: false,
  secretVersion: "latest",
} as const;

/** Defaults that differ by environment: prod keeps a warm instance, guards deletion and demands digests. */
export const ENVIRONMENT_DEFAULTS: Record<
  Environment,
  { readonly minInstances: number; readonly deletionProtection: boolean; readonly requireDigest: boolean }
> = {
  dev: { minInstances: 0, deletionProtection: false, requireDigest: false },
  staging: { minInstances: 0, deletionProtection: false, requireDigest: true },
  prod: { minInstances: 1, deletionProtection: true, requireDigest: true },
};

/** Defaults of `ai-orchestra:cicd`. Owning repository-wide settings is never a default: one stack opts in. */
export const CICD_DEFAULTS = {
  defaultBranch: "main",
  ownsRepositorySettings: false,
  registry: { repository: "orchestra", keepVersions: 10, deleteUntaggedAfterDays: 7 },
  perf: { path: "/", p95Ms: 500, errorRate: 0.01, vus: 5, duration: "30s" },
} as const;

/** Monitoring defaults that do not depend on the environment. */
export const MONITORING_DEFAULTS = {
  /** Open incidents close by themselves after this long without data. */
  autoCloseSeconds: 1800,
  /** A channel receives both routes unless it says otherwise. */
  channelReceives: ["page", "ticket"] as readonly AlertRoute[],
  /** Log-based metrics are read from Cloud Run's logs unless they say otherwise. */
  logMetricResourceType: "cloud_run_revision",
  logMetricAlertDurationSeconds: 300,
  logMetricAlertRoute: "ticket" as AlertRoute,
} as const;

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
});

const allTickets: Record<keyof AlertDefaults, AlertRoute> = {
  errorRatio: "ticket",
  latency: "ticket",
  canary: "ticket",
  uptime: "ticket",
  saturation: "ticket",
  fastBurn: "ticket",
  slowBurn: "ticket",
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
    },
  },
  staging: {
    alerts: alerts(allTickets, 0.05),
    slo: {
      availability: { goal: 0.99, rollingPeriodDays: 28 },
      latency: { goal: 0.95, thresholdMs: 1000, rollingPeriodDays: 28 },
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
      },
      0.05,
    ),
    slo: {
      availability: { goal: 0.995, rollingPeriodDays: 28 },
      latency: { goal: 0.95, thresholdMs: 1000, rollingPeriodDays: 28 },
    },
  },
};

/**
 * Guardrail defaults per environment (`ai-orchestra:policy`): prod and staging fail on a violation, dev
 * reports only. A canary above the maximum should be promoted instead (the steps are 5, 20, 50, 80).
 */
export const POLICY_DEFAULTS: Record<
  Environment,
  { readonly enforcement: "mandatory" | "advisory"; readonly maxCanaryPercent: number }
> = {
  dev: { enforcement: "advisory", maxCanaryPercent: 100 },
  staging: { enforcement: "mandatory", maxCanaryPercent: 100 },
  prod: { enforcement: "mandatory", maxCanaryPercent: 80 },
};
