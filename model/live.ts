/**
 * A Cloud Run service as the Admin API (v2) reports it in one region right now. After a failed update
 * the spec (what was asked: `traffic`, `generation`) and the status (what serves: `trafficStatuses`,
 * `observedGeneration`, `latestReadyRevision`) differ, and a green `pulumi up` retry proves nothing, so
 * both are kept, side by side.
 */

/** A condition's state, from Cloud Run's `Condition.State`. */
export type LiveConditionState = "succeeded" | "failed" | "reconciling" | "pending" | "unspecified";

export interface LiveCondition {
  readonly state: LiveConditionState;
  /** Cloud Run's reason code (`REVISION_FAILED`, `HEALTH_CHECK_CONTAINER_ERROR`...), when it gives one. */
  readonly reason?: string;
  readonly message?: string;
}

/** A traffic entry as the service's spec asks for it (`traffic`). */
export interface LiveTrafficTarget {
  /** `latest`: whichever revision is latest ready (no `revision`); `revision`: the named one. */
  readonly allocation: "latest" | "revision";
  /** The revision's short name (`svc-abc123`), absent for `latest`. */
  readonly revision?: string;
  readonly percent: number;
  readonly tag?: string;
}

/** A traffic entry as Cloud Run serves it (`trafficStatuses`), with the tag's own URL. */
export interface LiveTrafficStatus extends LiveTrafficTarget {
  readonly uri?: string;
}

export interface LiveRevision {
  /** The short name (`svc-abc123`), not the full resource path. */
  readonly name: string;
  /** From the revision's `Ready` condition: true ready, false failed, undefined not settled yet. */
  readonly ready: boolean | undefined;
  /** The revision will not become ready: a retry needs a new revision name. */
  readonly failed: boolean;
  readonly reconciling: boolean;
  /** Why it failed or is not ready yet, from its conditions. */
  readonly reason?: string;
  readonly message?: string;
  /** RFC 3339, as the API gives it. */
  readonly createTime?: string;
  /** The image its (first) container runs, as Cloud Run reports it: `REPOSITORY@sha256:...`. */
  readonly image?: string;
}

/** The service does not exist in this region: a state, not an error. */
export interface LiveServiceAbsent {
  readonly region: string;
  readonly service: string;
  readonly exists: false;
}

export interface LiveServicePresent {
  readonly region: string;
  readonly service: string;
  readonly exists: true;
  /** Cloud Run is still acting on the last update; the status fields may be transient. */
  readonly reconciling: boolean;
  /** The spec's generation, bumped by every update. */
  readonly generation: number;
  /** The generation that serves: behind `generation` while reconciling or after a failed update. */
  readonly observedGeneration: number;
  readonly latestReadyRevision?: string;
  /** After a failed update, the revision that never became ready. */
  readonly latestCreatedRevision?: string;
  /** The outcome of the last reconciliation; absent when Cloud Run gives none. */
  readonly terminalCondition?: LiveCondition;
  readonly uri?: string;
  /** Spec: the traffic list the last update asked for. */
  readonly traffic: readonly LiveTrafficTarget[];
  /** Status: the traffic list that serves. */
  readonly trafficStatuses: readonly LiveTrafficStatus[];
  /** This service's revisions, newest first (the API's order). */
  readonly revisions: readonly LiveRevision[];
}

export type LiveRegionState = LiveServiceAbsent | LiveServicePresent;

/** Why a region could not be read; each kind has its own fix. */
export type LiveReadFailureKind =
  | "permission-denied"
  | "api-disabled"
  | "unauthenticated"
  | "unavailable"
  | "timeout"
  | "quota"
  | "invalid-request"
  | "unknown";

export interface LiveReadFailure {
  readonly kind: LiveReadFailureKind;
  /** What went wrong, in one line: the API's own words where it gave some. */
  readonly reason: string;
  /** What to do about it. */
  readonly fix: string;
  /** The canonical status (`PERMISSION_DENIED`, `UNAVAILABLE`...) when the API answered with one. */
  readonly status?: string;
  /** Attempts made, retries included. */
  readonly attempts: number;
}

export type LiveRegionRead =
  | { readonly region: string; readonly ok: true; readonly state: LiveRegionState }
  | { readonly region: string; readonly ok: false; readonly failure: LiveReadFailure };

/** One service read in several regions; `regions` in the order they were asked for. */
export interface LiveServiceRead {
  readonly project: string;
  readonly service: string;
  readonly regions: readonly LiveRegionRead[];
}

/**
 * - `healthy`: the last update serves: latest created = latest ready, the terminal condition has not
 *   failed, and the serving generation is the asked one.
 * - `reconciling`: Cloud Run is still working on the last update.
 * - `failed`: the last update did not take; users get what `trafficStatuses` says, not what was asked.
 * - `absent`: no service in this region.
 */
export type LiveHealth = "healthy" | "reconciling" | "failed" | "absent";

export function liveHealth(state: LiveRegionState): LiveHealth {
  if (!state.exists) return "absent";
  if (state.reconciling) return "reconciling";
  if (state.terminalCondition?.state === "failed") return "failed";
  if (state.latestCreatedRevision !== state.latestReadyRevision) return "failed";
  if (state.observedGeneration !== state.generation) return "failed";
  return "healthy";
}

/** The revision the last update created and that will not serve, if any. */
export function failedLatestRevision(state: LiveRegionState): LiveRevision | undefined {
  if (!state.exists || !state.latestCreatedRevision) return undefined;
  const latest = state.revisions.find((r) => r.name === state.latestCreatedRevision);
  return latest?.failed ? latest : undefined;
}

/** Cloud Run's words inside a sentence of ours: without their closing full stop. */
export const clause = (text: string | undefined): string | undefined =>
  text?.replace(/[.\s]+$/, "") || undefined;

/** A revision's state in one region, as far as a canary is concerned. */
export type RevisionState = "ready" | "failed" | "not-ready" | "missing";

export interface RevisionStatus {
  readonly state: RevisionState;
  /** Cloud Run's reason code and message for a revision that failed or is not ready yet. */
  readonly reason?: string;
  readonly message?: string;
}

/** Whether `revision` is ready in a region's service: `missing` until an update creates it. */
export function revisionStatus(state: LiveServicePresent, revision: string): RevisionStatus {
  const found = state.revisions.find((r) => r.name === revision);
  if (!found) return { state: "missing" };
  const why = {
    ...(found.reason ? { reason: found.reason } : {}),
    ...(found.message ? { message: found.message } : {}),
  };
  if (found.failed) return { state: "failed", ...why };
  return found.ready === true ? { state: "ready" } : { state: "not-ready", ...why };
}

/** Where a revision is ready, and why it is not elsewhere: the proof a staged canary needs to get traffic. */
export interface RevisionReadiness {
  readonly revision: string;
  /** Regions whose Cloud Run reports the revision ready. */
  readonly readyIn: readonly string[];
  /** Regions where the revision failed: it will never serve there, and re-sending it fails again. */
  readonly failedIn: readonly string[];
  /** Regions whose state could not be read. */
  readonly unreadIn: readonly string[];
  /** One line per other region: failed (will never serve), not ready yet, absent, or not read. */
  readonly problems: readonly string[];
}

export function revisionReadiness(revision: string, reads: readonly LiveRegionRead[]): RevisionReadiness {
  const readyIn: string[] = [];
  const failedIn: string[] = [];
  const unreadIn: string[] = [];
  const problems: string[] = [];
  for (const read of reads) {
    if (!read.ok) {
      unreadIn.push(read.region);
      problems.push(`${read.region}: not read (${read.failure.reason}). Fix: ${read.failure.fix}.`);
      continue;
    }
    if (!read.state.exists) {
      problems.push(`${read.region}: the service does not exist there (run \`pulumi up\`).`);
      continue;
    }
    const status = revisionStatus(read.state, revision);
    const why = clause(status.message ?? status.reason);
    if (status.state === "ready") readyIn.push(read.region);
    else if (status.state === "missing")
      problems.push(`${read.region}: revision ${revision} does not exist yet (run \`pulumi up --refresh\`).`);
    else if (status.state === "failed") {
      failedIn.push(read.region);
      problems.push(
        `${read.region}: revision ${revision} failed and will never serve${why ? `: ${why}` : ""}.`,
      );
    } else problems.push(`${read.region}: revision ${revision} is not ready yet${why ? ` (${why})` : ""}.`);
  }
  return { revision, readyIn, failedIn, unreadIn, problems };
}
