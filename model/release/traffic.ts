import type { ServiceConfig } from "../types";

export type TrafficTag = "stable" | "canary";

/** One entry of a service's traffic list, always to a named revision. */
export interface TrafficTarget {
  readonly revision: string;
  readonly percent: number;
  readonly tag: TrafficTag;
}

/** What one service should look like: which release the template carries, and the traffic list. */
export interface ReleasePlan {
  /** The release the service's template (and so its newest revision) is built from. */
  readonly templateRelease: TrafficTag;
  readonly templateRevision: string;
  readonly traffic: readonly TrafficTarget[];
}

/** Revision names for the service's releases, computed from their templates. */
export interface ReleaseRevisions {
  readonly stable: string;
  /** Present when the service has a canary. */
  readonly canary?: string;
}

/**
 * Decides the template and traffic for a service from its config.
 *
 * - No canary: the template is the stable release and it takes 100%, so a config-only change is a new
 *   revision that serves everything rather than one stranded at 0%.
 * - Canary: the template is the canary release (created by this same request) at P%; stable keeps
 *   100 - P on its existing revision. A pinned `stable.revision` wins over the computed name, because
 *   settings edited mid-canary change what the stable template would hash to but not what is running.
 * - Rolled back: the same, with the canary at 0%; the template is left alone (reverting it would be a
 *   second deploy of the old release) and the canary stays reachable at its tag.
 */
export function planRelease(service: ServiceConfig, revisions: ReleaseRevisions): ReleasePlan {
  const canary = service.canary;
  if (!canary || revisions.canary === undefined) {
    return {
      templateRelease: "stable",
      templateRevision: revisions.stable,
      traffic: [{ revision: revisions.stable, percent: 100, tag: "stable" }],
    };
  }
  const percent = canary.rolledBack ? 0 : canary.percent;
  const stableRevision = service.stable.revision ?? revisions.stable;
  return {
    templateRelease: "canary",
    templateRevision: revisions.canary,
    traffic: [
      { revision: stableRevision, percent: 100 - percent, tag: "stable" },
      { revision: revisions.canary, percent, tag: "canary" },
    ],
  };
}
