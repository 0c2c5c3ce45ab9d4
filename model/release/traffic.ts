import type { ServiceConfig } from "../types";
import { BASELINE_TAG } from "./baseline";

export type TrafficTag = "stable" | "canary" | typeof BASELINE_TAG;

/** One entry of a service's traffic list, always to a named revision. */
export interface TrafficTarget {
  readonly revision: string;
  readonly percent: number;
  readonly tag: TrafficTag;
}

/** What one service should look like: which release the template carries, and the traffic list. */
export interface ReleasePlan {
  /**
   * The release the service's template (and so its newest revision) is built from. `baseline` is the
   * stable release's spec under the baseline's own revision name.
   */
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
 * whether or not the canary (or baseline) revision ever became ready: the list names a revision only
 * once it is known to be ready, and a rollback names nothing but the stable revision.
 *
 * - No canary: the template is the stable release and it takes 100%, so a config-only change is a new
 *   revision that serves everything rather than one stranded at 0%.
 * - Staged: the template is the canary release, so `up` creates its revision, but the list gives
 *   stable 100% and does not name the canary: a canary that never becomes ready fails the update while
 *   users keep the old split.
 * - Staged with a staged baseline: first the template is the stable spec under the baseline's name, so
 *   `up` creates the baseline the same way (a service has one template per update); once it is ready
 *   the template moves on to the canary.
 * - Serving: the canary takes P% at its tag (0 is a dark launch); with a baseline, so does the baseline
 *   at its tag; stable keeps the rest on its pinned revision.
 * - Rolled back: template and traffic are the stable revision's exact name and spec, which Cloud Run
 *   accepts as a revert and which never names the canary or the baseline, ready or not.
 */
export function planRelease(service: ServiceConfig, revisions: ReleaseRevisions): ReleasePlan {
  const canary = service.canary;
  const stableOnly = { revision: revisions.stable, percent: 100, tag: "stable" as const };
  if (!canary || revisions.canary === undefined || canary.phase === "rolled-back") {
    return { templateRelease: "stable", templateRevision: revisions.stable, traffic: [stableOnly] };
  }
  const baseline = canary.baseline;
  if (canary.phase === "staged") {
    return baseline?.phase === "staged"
      ? { templateRelease: BASELINE_TAG, templateRevision: baseline.revision, traffic: [stableOnly] }
      : { templateRelease: "canary", templateRevision: revisions.canary, traffic: [stableOnly] };
  }
  const withBaseline = baseline !== undefined;
  return {
    templateRelease: "canary",
    templateRevision: revisions.canary,
    traffic: [
      {
        revision: revisions.stable,
        percent: 100 - canary.percent * (withBaseline ? 2 : 1),
        tag: "stable",
      },
      { revision: revisions.canary, percent: canary.percent, tag: "canary" },
      ...(withBaseline
        ? [{ revision: baseline.revision, percent: canary.percent, tag: BASELINE_TAG } as const]
        : []),
    ],
  };
}
