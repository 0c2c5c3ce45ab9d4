/**
 * Is a step live? Read from the program's `serviceEndpoints.<service>` output after each `up`: every
 * region must have made the canary revision ready and route the step's percent to it.
 */

import type {
  DeployedRegionEndpoint as RegionEndpoint,
  DeployedServiceEndpoint as ServiceEndpoint,
  LiveTraffic,
} from "../../model/endpoints";

export type { ServiceEndpoint };
type TrafficEntry = Partial<LiveTraffic>;

export function endpointOf(outputs: Record<string, unknown>, service: string): ServiceEndpoint | undefined {
  const all = outputs.serviceEndpoints;
  if (!all || typeof all !== "object") return undefined;
  const ep = (all as Record<string, unknown>)[service];
  return ep && typeof ep === "object" ? (ep as ServiceEndpoint) : undefined;
}

/** Label of the single check made from the top-level fields when the outputs list no regions. */
export const NO_REGIONS = "(service)";

export interface RegionReadiness {
  readonly region: string;
  readonly latestReadyRevision?: string;
  /** Percent of live traffic on the canary revision. */
  readonly canaryPercent: number;
  readonly ok: boolean;
}

export interface Readiness {
  readonly revision?: string;
  readonly regions: readonly RegionReadiness[];
  /** Why the step is not live, naming the region and both values; undefined when it is. */
  readonly failure?: string;
}

/** The regions to check: each listed one, or the top-level fields for stacks that list none. */
function regionsOf(ep: ServiceEndpoint): [string, RegionEndpoint][] {
  if (ep.regions && Object.keys(ep.regions).length > 0) return Object.entries(ep.regions);
  return [
    [
      NO_REGIONS,
      { canaryUrl: ep.canaryUrl, latestReadyRevision: ep.latestReadyRevision, traffic: ep.split ?? [] },
    ],
  ];
}

const canaryShare = (traffic: readonly TrafficEntry[] | undefined, revision: string) =>
  (traffic ?? []).filter((t) => t.revision === revision).reduce((a, t) => a + (t.percent ?? 0), 0);

/** In every region: latestReadyRevision is the canary revision and the canary takes `percent`. */
export function checkReadiness(ep: ServiceEndpoint | undefined, percent: number): Readiness {
  if (!ep)
    return { regions: [], failure: "The stack outputs have no serviceEndpoints entry for the service." };
  const revision = ep.revision;
  if (!revision) return { regions: [], failure: "The stack outputs name no canary revision (revision)." };
  const regions = regionsOf(ep).map(([region, r]) => {
    const share = canaryShare(r.traffic, revision);
    return {
      region,
      latestReadyRevision: r.latestReadyRevision,
      canaryPercent: share,
      ok: r.latestReadyRevision === revision && share === percent,
    };
  });
  const problems = regions
    .filter((r) => !r.ok)
    .map((r) => {
      const where = r.region === NO_REGIONS ? "The service" : `Region ${r.region}`;
      if (r.latestReadyRevision !== revision)
        return `${where}: latestReadyRevision is ${r.latestReadyRevision ?? "not reported"}, expected the canary revision ${revision}.`;
      return `${where}: the canary revision ${revision} takes ${r.canaryPercent}% of live traffic, expected ${percent}%.`;
    });
  return { revision, regions, failure: problems.length > 0 ? problems.join(" ") : undefined };
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
