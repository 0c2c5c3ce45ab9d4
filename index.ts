import * as pulumi from "@pulumi/pulumi";
import { CanaryService } from "./components/cloudrun";
import { GithubDelivery } from "./components/github/delivery";
import { DeliveryIdentity } from "./components/identity/deliveryIdentity";
import { ImageRegistry } from "./components/registry/imageRegistry";
import { CANARY_HEADER, GlobalLoadBalancer } from "./components/loadbalancer";
import type { ServiceEndpoint } from "./model/endpoints";
import { serviceLabels } from "./components/cloudrun/labels";
import {
  LogMetrics,
  NotificationChannels,
  OverviewDashboard,
  ServiceAlerts,
  ServiceDashboard,
} from "./components/monitoring";
import { servicesBehindBalancer } from "./model/loadBalancer";
import { loadStackConfig } from "./config/load";

// Validate everything first: a bad config stops here, before any resource is declared.
const config = loadStackConfig();
const cicd = config.cicd;

// The registry images are pushed to, when this stack declares its CI/CD.
const registry = cicd
  ? new ImageRegistry("registry", {
      project: config.project,
      region: config.region,
      repository: cicd.registry.repository,
      cleanup: cicd.registry,
      // Dev's local builds re-push a moving tag; elsewhere a pushed tag never moves.
      immutableTags: config.environment !== "dev",
      labels: { ...config.labels, "managed-by": "pulumi", "pulumi-stack": config.stack },
    })
  : undefined;

const services = config.services.map(
  (service) =>
    new CanaryService(
      service.name,
      {
        service,
        project: config.project,
        region: config.region,
        stack: config.stack,
        environment: config.environment,
        labels: config.labels,
      },
      registry ? { dependsOn: [registry] } : undefined,
    ),
);

// The global load balancer, when the stack declares one: one serverless NEG per service and region.
const balancer = config.loadBalancer;
const balanced = new Set(servicesBehindBalancer(balancer));
const loadBalancerResource = balancer
  ? new GlobalLoadBalancer(
      "lb",
      {
        project: config.project,
        stack: config.stack,
        labels: config.labels,
        config: balancer,
        backends: config.services
          .filter((s) => balanced.has(s.name))
          .map((s) => ({ service: s.name, regions: s.regions, hasCanary: s.canary !== undefined })),
      },
      // The NEGs need the Cloud Run services (and their canary tags) to exist: depend on those, not
      // on the components, which would make every NEG wait on every identity, grant and revision.
      {
        dependsOn: services
          .filter((_, i) => balanced.has(config.services[i].name))
          .flatMap((s) => Object.values(s.regions).map((r) => r.service)),
      },
    )
  : undefined;

/** The balancer's address (point DNS here), each service's URL through it, and the canary header. */
export const loadBalancer = loadBalancerResource
  ? {
      ipAddress: loadBalancerResource.ipAddress,
      urls: loadBalancerResource.urls,
      canaryHeader: loadBalancerResource.canaryHeader,
    }
  : undefined;

/** A balanced service's URL through the balancer; users, uptime checks and rollouts go through it. */
function balancedUrl(name: string): string | undefined {
  const domain = balancer?.services.find((s) => s.name === name)?.domains[0];
  return domain ? `https://${domain}` : undefined;
}

/**
 * Per service: its URL, the URLs of the stable and canary tags and the traffic split (primary region),
 * and per region what Cloud Run reports, so `orchestra canary status` and `orchestra rollout` can see
 * a region that disagrees.
 */
export const serviceEndpoints: pulumi.Output<Record<string, ServiceEndpoint>> = pulumi.output(
  Object.fromEntries(
    services.map((s, i) => {
      const lbUrl = balancedUrl(config.services[i].name);
      return [
        config.services[i].name,
        {
          url: s.url,
          stableUrl: s.stableUrl,
          canaryUrl: s.canaryUrl,
          split: s.split,
          revision: s.templateRevision,
          latestReadyRevision: s.regions[s.primaryRegion].latestReadyRevision,
          ...(lbUrl ? { loadBalancer: { url: lbUrl, canaryHeader: CANARY_HEADER } } : {}),
          regions: Object.fromEntries(
            Object.entries(s.regions).map(([region, r]) => [
              region,
              {
                url: r.url,
                stableUrl: r.stableUrl,
                canaryUrl: r.canaryUrl,
                latestReadyRevision: r.latestReadyRevision,
                latestCreatedRevision: r.latestCreatedRevision,
                traffic: r.traffic,
              },
            ]),
          ),
        },
      ];
    }),
  ),
);

/** Keyless CI/CD: what GitHub Actions authenticates with, and where images go. */
export const delivery = cicd && registry ? declareDelivery(cicd, registry) : undefined;

function declareDelivery(c: NonNullable<typeof cicd>, r: ImageRegistry) {
  const protectedDeploy = config.environment === "prod";
  const identity = new DeliveryIdentity("delivery", {
    project: config.project,
    stack: config.stack,
    cicd: c,
    protectedDeploy,
    balancer: config.loadBalancer !== undefined,
    imageRepositories: Object.fromEntries(config.services.map((s) => [s.name, s.repository])),
  });
  // Secret config stays secret: read as secret Outputs, never as plain values.
  const secretConfig = new pulumi.Config();
  new GithubDelivery("github", {
    stack: config.stack,
    project: config.project,
    region: config.region,
    cicd: c,
    protectedDeploy,
    services: config.services,
    deployProvider: identity.deployProvider,
    previewProvider: identity.previewProvider,
    deployerEmail: identity.deployerEmail,
    previewerEmail: identity.previewerEmail,
    ...(identity.pusherEmail ? { pusherEmail: identity.pusherEmail } : {}),
    registryUrl: r.url,
    serviceUrls: pulumi.output(Object.fromEntries(services.map((s, i) => [config.services[i].name, s.url]))),
    ...(c.secretNames.length > 0
      ? { secrets: secretConfig.requireSecretObject<Record<string, string>>("githubSecrets") }
      : {}),
    ...(c.manageDeliveryAppKey
      ? { deliveryAppPrivateKey: secretConfig.requireSecret("deliveryAppPrivateKey") }
      : {}),
  });
  return {
    workloadIdentityProvider: identity.deployProvider,
    previewIdentityProvider: identity.previewProvider,
    deployer: identity.deployerEmail,
    previewer: identity.previewerEmail,
    pusher: identity.pusherEmail,
    registry: r.url,
  };
}
// Observability: channels first (policies name them), then per service its alerts and SLOs and a
// dashboard that charts them, then the stack's log-based metrics and overview.
const monitoring = config.monitoring;
const secrets = new pulumi.Config();
const channels = new NotificationChannels("notifications", {
  channels: monitoring.channels,
  project: config.project,
  slackToken: secrets.getSecret("slackToken"),
  pagerdutyServiceKey: secrets.getSecret("pagerdutyServiceKey"),
  labels: config.labels,
});

const observed = config.services.map((service, i) => {
  const run = services[i];
  const settings = monitoring.services[service.name];
  const labels = serviceLabels(config.labels, config.stack, config.environment, service.name);
  const alerts = new ServiceAlerts(`${service.name}-alerts`, {
    service: service.name,
    project: config.project,
    region: run.primaryRegion,
    regions: service.regions,
    stack: config.stack,
    monitoring: settings,
    maxInstances: service.scaling.maxInstances,
    ...(service.healthCheckPath ? { healthCheckPath: service.healthCheckPath } : {}),
    // Behind the balancer the run.app URL refuses outside requests: the uptime check goes through it.
    publiclyReachable:
      service.allowUnauthenticated && (service.ingress === "all" || balanced.has(service.name)),
    url: balancedUrl(service.name) ?? run.url,
    split: run.split,
    hasCanary: service.canary !== undefined,
    channels: channels.byRoute,
    autoCloseSeconds: monitoring.autoCloseSeconds,
    labels,
  });
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
    logMetrics: monitoring.logMetrics.filter((m) => m.service === service.name),
  });
  return { alerts, dashboard };
});

new LogMetrics("log-metrics", {
  metrics: monitoring.logMetrics,
  project: config.project,
  stack: config.stack,
  channels: channels.byRoute,
  autoCloseSeconds: monitoring.autoCloseSeconds,
  labels: config.labels,
});

const overview = new OverviewDashboard("overview", {
  project: config.project,
  stack: config.stack,
  environment: config.environment,
  services: config.services.map((s, i) => ({ name: s.name, url: services[i].url, regions: s.regions })),
  logMetrics: monitoring.logMetrics,
});

/** Dashboards and SLOs to open: the overview, and per service its dashboard and SLO names. */
export const observability = {
  overviewDashboard: overview.dashboardId,
  services: Object.fromEntries(
    observed.map((o, i) => [
      config.services[i].name,
      {
        dashboard: o.dashboard.dashboardId,
        slos: Object.fromEntries(o.alerts.slos.map((s) => [s.kind, s.name])),
        uptimeCheckId: o.alerts.uptimeCheckId,
      },
    ]),
  ),
};
