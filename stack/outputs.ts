import * as pulumi from "@pulumi/pulumi";
import { CANARY_HEADER, type GlobalLoadBalancer } from "../components/loadbalancer";
import type { ServiceEndpoint } from "../model/endpoints";
import type { StackDelivery } from "./delivery";
import type { StackMonitoring } from "./monitoring";
import type { StackServices } from "./services";

/** The balancer's address (point DNS here), each service's URL through it, and the canary header. */
export function balancerOutputs(lb: GlobalLoadBalancer) {
  return { ipAddress: lb.ipAddress, urls: lb.urls, canaryHeader: lb.canaryHeader };
}

/**
 * Per service: its URL, the URLs of the stable and canary tags and the traffic split (primary region),
 * and per region what Cloud Run reports, so `orchestra canary status` and `orchestra rollout` can see
 * a region that disagrees.
 */
export function endpointOutputs(services: StackServices): pulumi.Output<Record<string, ServiceEndpoint>> {
  return pulumi.output(
    Object.fromEntries(
      [...services].map(([name, { run, balancedUrl }]) => [
        name,
        {
          url: run.url,
          stableUrl: run.stableUrl,
          canaryUrl: run.canaryUrl,
          split: run.split,
          revision: run.templateRevision,
          latestReadyRevision: run.regions[run.primaryRegion].latestReadyRevision,
          ...(balancedUrl ? { loadBalancer: { url: balancedUrl, canaryHeader: CANARY_HEADER } } : {}),
          regions: Object.fromEntries(
            Object.entries(run.regions).map(([region, r]) => [
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
      ]),
    ),
  );
}

/** What GitHub Actions authenticates with, and where images go. */
export function deliveryOutputs({ identity, registry }: StackDelivery) {
  return {
    workloadIdentityProvider: identity.deployProvider,
    previewIdentityProvider: identity.previewProvider,
    deployer: identity.deployerEmail,
    previewer: identity.previewerEmail,
    pusher: identity.pusherEmail,
    registry: registry.url,
  };
}

/** Dashboards and SLOs to open: the overview, and per service its dashboard and SLO names. */
export function observabilityOutputs({ overview, services }: StackMonitoring) {
  return {
    overviewDashboard: overview.dashboardId,
    services: Object.fromEntries(
      [...services].map(([name, { alerts, dashboard }]) => [
        name,
        {
          dashboard: dashboard.dashboardId,
          slos: Object.fromEntries(alerts.slos.map((s) => [s.kind, s.name])),
          uptimeCheckId: alerts.uptimeCheckId,
        },
      ]),
    ),
  };
}
