import type { LoadBalancerConfig } from "../../model/loadBalancer";
import { shortName } from "./names";
import type { Release, RoutedService } from "./routing";

/** The balancer's forwarding rules by role, and their port: HTTPS, and HTTP that redirects to it. */
export const FORWARDING_RULES = { https: "443", http: "80" } as const;

/** A service behind the balancer, where it runs, and whether it has a canary tag to route to. */
export interface BalancerBackend {
  readonly service: string;
  /** Regions with a Cloud Run service of this name; one serverless NEG each. */
  readonly regions: readonly string[];
  /** The Cloud Run service has a `canary` tag (a canary at any percent, or rolled back). */
  readonly hasCanary: boolean;
}

/** One serverless network endpoint group: a Cloud Run service (or one of its tags) in one region. */
export interface NegPlan {
  readonly name: string;
  readonly service: string;
  readonly region: string;
  /** The Cloud Run tag the NEG points at; absent: the service's traffic split. */
  readonly tag?: "canary";
}

/** One global backend service: a release of a service, with a NEG in each of its regions. */
export interface BackendPlan {
  readonly name: string;
  readonly service: string;
  readonly release: Release;
  readonly negs: readonly NegPlan[];
}

export interface BalancerPlan {
  /** In config order: the first is the default for unknown hosts. */
  readonly services: readonly RoutedService[];
  readonly backends: readonly BackendPlan[];
  /** Every domain, for the one managed certificate. */
  readonly domains: readonly string[];
}

/**
 * What the balancer declares, per service and region: a stable backend with a NEG per region, and
 * while the service has a canary a canary backend whose NEGs point at the `canary` tag. Throws on a
 * mismatch between config and backends, which is a programming error: config validation ran first.
 */
export function balancerPlan(
  name: string,
  config: LoadBalancerConfig,
  backends: readonly BalancerBackend[],
): BalancerPlan {
  const byService = new Map(backends.map((b) => [b.service, b]));
  const configured = new Set(config.services.map((s) => s.name));
  for (const b of backends) {
    if (!configured.has(b.service)) throw new Error(`backend ${b.service} is not behind the balancer`);
    if (b.regions.length === 0) throw new Error(`backend ${b.service} runs in no region`);
    if (new Set(b.regions).size !== b.regions.length)
      throw new Error(`backend ${b.service} repeats a region`);
  }
  const services = config.services.map((s) => {
    const b = byService.get(s.name);
    if (!b) throw new Error(`service ${s.name} is behind the balancer but has no backend`);
    return { ...s, hasCanary: b.hasCanary };
  });
  const plans: BackendPlan[] = [];
  for (const s of services) {
    const regions = byService.get(s.name)?.regions ?? [];
    const releases: Release[] = s.hasCanary ? ["stable", "canary"] : ["stable"];
    for (const release of releases) {
      const role = release === "stable" ? s.name : `${s.name}-canary`;
      plans.push({
        name: shortName(`${name}-${role}-backend`),
        service: s.name,
        release,
        negs: regions.map((region) => ({
          name: shortName(`${name}-${role}-neg-${region}`),
          service: s.name,
          region,
          ...(release === "canary" ? { tag: "canary" as const } : {}),
        })),
      });
    }
  }
  return { services, backends: plans, domains: services.flatMap((s) => s.domains) };
}
