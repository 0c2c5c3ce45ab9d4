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

/** Revision names for the service's releases. */
export interface ReleaseRevisions {
  /** The revision stable runs (see `stableRevision`). */
  readonly stable: string;
  /** Present when the service has a canary: the name given at its start. */
  readonly canary?: string;
}

/**
 * Decides the template and traffic for a service from its config. Every state is one Cloud Run accepts
 * whether or not the canary revision ever became ready: the list names the canary only once it is known
 * to be ready, and a rollback names nothing but the stable revision.
 *
 * - No canary: the template is the stable release and it takes 100%, so a config-only change is a new
 *   revision that serves everything rather than one stranded at 0%.
 * - Staged: the template is the canary release, so `up` creates its revision, but the list gives
 *   stable 100% and does not name the canary: a canary that never becomes ready fails the update while
 *   users keep the old split.
 * - Serving: the canary takes P% at its tag (0 is a dark launch); stable keeps 100 - P on its pinned
 *   revision.
 * - Rolled back: template and traffic are the stable revision's exact name and spec, which Cloud Run
 *   accepts as a revert and which never names the canary, ready or not.
 */
export function planRelease(service: ServiceConfig, revisions: ReleaseRevisions): ReleasePlan {
  const canary = service.canary;
  const stableOnly = { revision: revisions.stable, percent: 100, tag: "stable" as const };
  if (!canary || revisions.canary === undefined || canary.phase === "rolled-back") {
    return { templateRelease: "stable", templateRevision: revisions.stable, traffic: [stableOnly] };
  }
  if (canary.phase === "staged") {
    return { templateRelease: "canary", templateRevision: revisions.canary, traffic: [stableOnly] };
  }
  return {
    templateRelease: "canary",
    templateRevision: revisions.canary,
    traffic: [
      { revision: revisions.stable, percent: 100 - canary.percent, tag: "stable" },
      { revision: revisions.canary, percent: canary.percent, tag: "canary" },
    ],
  };
}
