/**
 * Where to reach a service after an `up`, from the program's `serviceEndpoints.<service>` output: each
 * region's canary tag URL, or the load balancer. Whether a state is live is read from Cloud Run itself
 * (verify.ts), not from these outputs.
 */

import type {
  DeployedRegionEndpoint as RegionEndpoint,
  DeployedServiceEndpoint as ServiceEndpoint,
} from "../../model/endpoints";

export type { ServiceEndpoint };

export function endpointOf(outputs: Record<string, unknown>, service: string): ServiceEndpoint | undefined {
  const all = outputs.serviceEndpoints;
  if (!all || typeof all !== "object") return undefined;
  const ep = (all as Record<string, unknown>)[service];
  return ep && typeof ep === "object" ? (ep as ServiceEndpoint) : undefined;
}

/** Label of the single target made from the top-level fields when the outputs list no regions. */
export const NO_REGIONS = "(service)";

/** The regions to smoke-test: each listed one, or the top-level fields for stacks that list none. */
function regionsOf(ep: ServiceEndpoint): [string, RegionEndpoint][] {
  if (ep.regions && Object.keys(ep.regions).length > 0) return Object.entries(ep.regions);
  return [
    [
      NO_REGIONS,
      { canaryUrl: ep.canaryUrl, latestReadyRevision: ep.latestReadyRevision, traffic: ep.split ?? [] },
    ],
  ];
}

export interface SmokeTarget {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Where the request goes: a region, or the load balancer. */
  readonly via: string;
}

/**
 * Where to smoke-test the canary. Behind a global balancer tag URLs are not reachable from the
 * internet, so requests go to the balancer with its canary header; otherwise to each region's tag URL.
 */
export function smokeTargets(ep: ServiceEndpoint, healthPath: string): SmokeTarget[] | string {
  if (ep.loadBalancer) {
    const { url, canaryHeader } = ep.loadBalancer;
    return [
      {
        url: new URL(healthPath, url).toString(),
        headers: { [canaryHeader.name]: canaryHeader.value },
        via: "load balancer",
      },
    ];
  }
  const targets: SmokeTarget[] = [];
  for (const [region, r] of regionsOf(ep)) {
    if (!r.canaryUrl)
      return `${region === NO_REGIONS ? "The stack outputs name" : `Region ${region} names`} no canary tag URL (canaryUrl).`;
    targets.push({ url: new URL(healthPath, r.canaryUrl).toString(), via: region });
  }
  return targets;
}
