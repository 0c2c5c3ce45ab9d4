import * as pulumi from "@pulumi/pulumi";
import { serviceLabels } from "../components/cloudrun/labels";
import {
  BreakglassAlert,
  LogMetrics,
  ModelSpend,
  NotificationChannels,
  OverviewDashboard,
  QueueAlerts,
  ServiceAlerts,
  ServiceDashboard,
} from "../components/monitoring";
import { latencySource, llmLogMetrics } from "../model/llm";
import { planQueues } from "../model/queue";
import type { ServiceConfig, StackConfig } from "../model/types";
import type { StackService, StackServices } from "./services";

/** One service's alerting (policies, SLOs, uptime check) and its dashboard. */
export interface ObservedService {
  readonly alerts: ServiceAlerts;
  readonly dashboard: ServiceDashboard;
  /** One per topic the service consumes, by topic. */
  readonly queues: ReadonlyMap<string, QueueAlerts>;
}

/** What observability declared: the overview, and per service (by name) its alerts and dashboard. */
export interface StackMonitoring {
  readonly overview: OverviewDashboard;
  readonly services: ReadonlyMap<string, ObservedService>;
}

/**
 * Whether uptime checkers on the internet can reach a service: it must let anyone call it, and either
 * accept outside requests itself or sit behind the balancer (then its run.app URL refuses them).
 */
export function publiclyReachable(service: ServiceConfig, balanced: boolean): boolean {
  return service.allowUnauthenticated && (service.ingress === "all" || balanced);
}

/**
 * Observability: channels first (policies name them), then per service its alerts and SLOs and a
 * dashboard that charts them, then the stack's log-based metrics and overview.
 */
export function declareMonitoring(config: StackConfig, services: StackServices): StackMonitoring {
  const monitoring = config.monitoring;
  const secrets = new pulumi.Config();
  const channels = new NotificationChannels("notifications", {
    channels: monitoring.channels,
    project: config.project,
    slackToken: secrets.getSecret("slackToken"),
    pagerdutyServiceKey: secrets.getSecret("pagerdutyServiceKey"),
    labels: config.labels,
  });

  const llmServices = config.services.filter((s) => s.llm);
  // The services' own LLM metrics get their own charts (by revision, by model), not the generic ones.
  const llmNames = new Set(llmServices.flatMap((s) => llmLogMetrics(s.name, s.llm!).map((m) => m.name)));
  const isLlmMetric = (name: string) => llmNames.has(name);
  // Declared first: a streaming service's latency alert and SLO read its time-to-first-token metric.
  const logMetrics = new LogMetrics("log-metrics", {
    metrics: monitoring.logMetrics,
    project: config.project,
    stack: config.stack,
    channels: channels.byRoute,
    autoCloseSeconds: monitoring.autoCloseSeconds,
    labels: config.labels,
  });
  const observed = new Map(
    [...services].map(([name, s]): [string, ObservedService] => [
      name,
      observe(config, s, channels, isLlmMetric, logMetrics),
    ]),
  );

  const overview = new OverviewDashboard("overview", {
    project: config.project,
    stack: config.stack,
    environment: config.environment,
    services: [...services.values()].map((s) => ({
      name: s.config.name,
      url: s.run.url,
      regions: s.config.regions,
    })),
    logMetrics: monitoring.logMetrics.filter((m) => !isLlmMetric(m.name)),
    queues: planQueues(config.services).subscriptions.map((q) => ({ topic: q.topic, subscription: q.name })),
    llm: llmServices.map((s) => ({ name: s.name, streams: s.llm?.streams ?? false })),
  });

  // The spend alert's query reads the services' token metrics, which must exist first.
  if (config.llm)
    new ModelSpend(
      "model-spend",
      {
        project: config.project,
        stack: config.stack,
        services: llmServices.map((s) => s.name),
        spend: config.llm,
        route: config.llm.notify,
        channels: channels.byRoute,
        autoCloseSeconds: monitoring.autoCloseSeconds,
        labels: config.labels,
      },
      { dependsOn: [logMetrics] },
    );

  // Binary Authorization's break-glass pages whatever the environment: it bypasses the supply-chain checks.
  if (config.binaryAuthorization?.enabled)
    new BreakglassAlert("breakglass", {
      project: config.project,
      stack: config.stack,
      channels: channels.byRoute,
      autoCloseSeconds: monitoring.autoCloseSeconds,
      labels: config.labels,
    });

  return { overview, services: observed };
}

/** A service's alerts and SLOs, and the dashboard that charts them. */
function observe(
  config: StackConfig,
  s: StackService,
  channels: NotificationChannels,
  isLlmMetric: (name: string) => boolean,
  logMetrics: LogMetrics,
): ObservedService {
  const { config: service, run } = s;
  const monitoring = config.monitoring;
  const settings = monitoring.services[service.name];
  const alerts = new ServiceAlerts(
    `${service.name}-alerts`,
    {
      service: service.name,
      project: config.project,
      region: run.primaryRegion,
      regions: service.regions,
      stack: config.stack,
      monitoring: settings,
      maxInstances: service.scaling.maxInstances,
      ...(service.healthCheckPath ? { healthCheckPath: service.healthCheckPath } : {}),
      publiclyReachable: publiclyReachable(service, s.balancedUrl !== undefined),
      // Behind the balancer the run.app URL refuses outside requests: the uptime check goes through it.
      url: s.balancedUrl ?? run.url,
      split: run.split,
      hasCanary: service.canary !== undefined,
      channels: channels.byRoute,
      autoCloseSeconds: monitoring.autoCloseSeconds,
      labels: serviceLabels(config.labels, config.stack, config.environment, service.name),
      ...(service.llm ? { llm: service.llm } : {}),
    },
    latencySource(service).kind === "request" ? {} : { dependsOn: [logMetrics] },
  );
  const subscriptions = planQueues([service]).subscriptions;
  const queues = new Map(
    subscriptions.map((q): [string, QueueAlerts] => [
      q.topic,
      new QueueAlerts(`${service.name}-${q.topic}`, {
        service: service.name,
        topic: q.topic,
        subscription: q.name,
        ...(q.deadLetter ? { deadLetterSubscription: q.deadLetter.subscription } : {}),
        project: config.project,
        stack: config.stack,
        monitoring: settings,
        channels: channels.byRoute,
        autoCloseSeconds: monitoring.autoCloseSeconds,
        labels: serviceLabels(config.labels, config.stack, config.environment, service.name),
      }),
    ]),
  );
  const dashboard = new ServiceDashboard(`${service.name}-dashboard`, {
    service: service.name,
    project: config.project,
    stack: config.stack,
    monitoring: settings,
    maxInstances: service.scaling.maxInstances,
    url: run.url,
    regions: service.regions,
    canaryUrl: run.canaryUrl,
    split: run.split,
    slos: alerts.slos,
    alertPolicies: [
      { title: "Incidents: 5xx ratio", name: alerts.policies["error-ratio"] },
      ...(alerts.policies.canary
        ? [{ title: "Incidents: canary worse than stable", name: alerts.policies.canary }]
        : []),
    ],
    // A service's own LLM metrics get their own charts, split by revision.
    logMetrics: monitoring.logMetrics.filter((m) => m.service === service.name && !isLlmMetric(m.name)),
    ...(service.llm ? { llm: service.llm } : {}),
    queues: subscriptions.map((q) => ({ topic: q.topic, subscription: q.name })),
  });
  return { alerts, dashboard, queues };
}
