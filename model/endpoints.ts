/**
 * The `serviceEndpoints` stack output (index.ts), per service: what `orchestra canary status --live`
 * and `orchestra rollout` read back from a deployed stack.
 */

/** A traffic entry as Cloud Run reports it serving (`trafficStatuses`). */
export interface LiveTraffic {
  readonly revision: string;
  readonly percent: number;
  readonly tag?: string;
}

/** One region's Cloud Run service. */
export interface RegionEndpoint {
  readonly url: string;
  readonly stableUrl?: string;
  readonly canaryUrl?: string;
  /** Equals the template revision once a deploy is healthy. */
  readonly latestReadyRevision: string;
  readonly latestCreatedRevision: string;
  readonly traffic: readonly LiveTraffic[];
}

/** One service: its primary region's URLs, what the program asked for, and every region. */
export interface ServiceEndpoint {
  readonly url: string;
  readonly stableUrl?: string;
  readonly canaryUrl?: string;
  /** The traffic list the program asked for, the same in every region. */
  readonly split: readonly LiveTraffic[];
  /** The template revision the program asked for: the canary's during a canary. */
  readonly revision: string;
  /** Cloud Run's latestReadyRevision in the primary region. */
  readonly latestReadyRevision: string;
  readonly regions: Readonly<Record<string, RegionEndpoint>>;
  /** Present when the service sits behind the global load balancer. */
  readonly loadBalancer?: { readonly url: string; readonly canaryHeader: { name: string; value: string } };
}

/**
 * A service's entry as read back from a deployed stack: written by whichever version of the program
 * last ran `up`, so any field may be missing (older stacks have no `regions`).
 */
export type DeployedServiceEndpoint = Partial<Omit<ServiceEndpoint, "split" | "regions">> & {
  readonly split?: readonly Partial<LiveTraffic>[];
  readonly regions?: Readonly<Record<string, DeployedRegionEndpoint>>;
};

export type DeployedRegionEndpoint = Partial<Omit<RegionEndpoint, "traffic">> & {
  readonly traffic?: readonly Partial<LiveTraffic>[];
};
