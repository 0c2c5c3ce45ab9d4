/**
 * Is an applied state live? Judged from Cloud Run's own report of each region (the Admin API, see
 * model/live.ts), never from `pulumi up`'s exit code: after a failed update the service keeps serving
 * the old split, and a green retry can succeed without calling Cloud Run at all.
 */
import {
  revisionStatus,
  type LiveRegionRead,
  type LiveServiceRead,
  type LiveTrafficStatus,
} from "../../model/live";
import { canaryImageProblem } from "../../model/canary/liveStatus";
import type { ServicePlan } from "../../model/release/servicePlan";
import type { CanaryRelease } from "../../model/types";
import { clause } from "./pulumiErrors";

/** What the stack file asks of every region of a service, from its release plan. */
export interface ExpectedState {
  /** staged: canary created, no traffic; serving: at a step; promoted; rolled back to stable. */
  readonly kind: "staged" | "serving" | "promoted" | "rolled back";
  /** The revision the template names: it must exist and be ready. */
  readonly templateRevision: string;
  /** The traffic Cloud Run must serve: revision to percent; any other revision must get nothing. */
  readonly traffic: readonly { readonly revision: string; readonly percent: number }[];
  /** The canary's revision, for the canary's share in each region's line. */
  readonly canary?: string;
  /** The canary as the stack file records it: the image its revision must run. */
  readonly canaryRelease?: CanaryRelease;
}

/** What the plan of a service (after an edit) expects of Cloud Run; undefined when it has no plan. */
export function expectedState(sp: ServicePlan, kind: ExpectedState["kind"]): ExpectedState | undefined {
  if (!sp.plan) return undefined;
  const canary = sp.service.canary?.revision;
  return {
    kind,
    templateRevision: sp.plan.templateRevision,
    traffic: sp.plan.traffic.map((t) => ({ revision: t.revision, percent: t.percent })),
    ...(canary ? { canary, canaryRelease: sp.service.canary } : {}),
  };
}

/** `ok`: as expected; `pending`: not yet (reconciling, not ready, not read); `failed`: will not be. */
export type LiveOutcome = "ok" | "pending" | "failed";

export interface RegionCheck {
  readonly region: string;
  readonly outcome: LiveOutcome;
  readonly latestReadyRevision?: string;
  /** Share of the served traffic (trafficStatuses) on the canary revision. */
  readonly canaryPercent?: number;
  /** One line: what serves, or why the region is not as expected. */
  readonly detail: string;
}

export interface LiveCheck {
  readonly outcome: LiveOutcome;
  readonly regions: readonly RegionCheck[];
  /** One line for the log and the report. */
  readonly summary: string;
}

/** Served percent per revision; a LATEST entry serves the latest ready revision. */
function servedShares(statuses: readonly LiveTrafficStatus[], latestReady?: string): Map<string, number> {
  const shares = new Map<string, number>();
  for (const t of statuses) {
    const revision = t.allocation === "latest" ? latestReady : t.revision;
    if (!revision) continue;
    shares.set(revision, (shares.get(revision) ?? 0) + t.percent);
  }
  return shares;
}

const describeShares = (shares: Map<string, number>) =>
  [...shares.entries()].map(([r, p]) => `${r} ${p}%`).join(", ") || "nothing";

function checkRegion(read: LiveRegionRead, e: ExpectedState): RegionCheck {
  const region = read.region;
  if (!read.ok)
    return {
      region,
      outcome: "pending",
      detail: `not read: ${clause(read.failure.reason)} (${clause(read.failure.fix)})`,
    };
  const s = read.state;
  if (!s.exists) return { region, outcome: "failed", detail: `the service does not exist in ${region}` };
  const shares = servedShares(s.trafficStatuses, s.latestReadyRevision);
  const base = {
    region,
    ...(s.latestReadyRevision ? { latestReadyRevision: s.latestReadyRevision } : {}),
    ...(e.canary ? { canaryPercent: shares.get(e.canary) ?? 0 } : {}),
  };
  const serves = `serves ${describeShares(shares)}`;
  const template = revisionStatus(s, e.templateRevision);
  if (template.state === "failed") {
    const why = template.message ?? template.reason;
    return {
      ...base,
      outcome: "failed",
      detail: `revision ${e.templateRevision} failed and will never serve${why ? `: ${clause(why)}` : ""}; ${serves}`,
    };
  }
  if (template.state === "missing")
    return {
      ...base,
      outcome: "pending",
      detail: `revision ${e.templateRevision} does not exist yet; ${serves}`,
    };
  if (template.state === "not-ready")
    return {
      ...base,
      outcome: "pending",
      detail: `revision ${e.templateRevision} is not ready yet${template.reason ? ` (${template.reason})` : ""}; ${serves}`,
    };
  const { imageProblem } = e.canary ? canaryImageProblem(s, e.canary, e.canaryRelease) : {};
  if (imageProblem)
    return { ...base, outcome: "failed", detail: `revision ${e.canary}: ${imageProblem}; ${serves}` };
  if (s.reconciling)
    return { ...base, outcome: "pending", detail: `Cloud Run is still reconciling; ${serves}` };
  if (s.terminalCondition?.state === "failed") {
    const why = s.terminalCondition.message ?? s.terminalCondition.reason ?? "no reason given";
    return {
      ...base,
      outcome: "failed",
      detail: `the service's last update failed: ${clause(why)}; ${serves}`,
    };
  }
  // A rollback reverts the template to an older revision; which one Cloud Run then calls latest ready is
  // not part of the contract, only what serves is.
  if (e.kind !== "rolled back" && s.latestReadyRevision !== e.templateRevision)
    return {
      ...base,
      outcome: "pending",
      detail: `latestReadyRevision is ${s.latestReadyRevision ?? "not reported"}, expected ${e.templateRevision}; ${serves}`,
    };
  const wanted = new Map(e.traffic.filter((t) => t.percent > 0).map((t) => [t.revision, t.percent]));
  const mismatch = [...new Set([...wanted.keys(), ...shares.keys()])].filter(
    (r) => (wanted.get(r) ?? 0) !== (shares.get(r) ?? 0),
  );
  if (mismatch.length > 0)
    return {
      ...base,
      outcome: "pending",
      detail: `${serves}, expected ${describeShares(wanted)}`,
    };
  return { ...base, outcome: "ok", detail: serves };
}

/** Every region of `read` against `expected`: failed if any failed, else pending if any is not there yet. */
export function checkLive(read: LiveServiceRead, expected: ExpectedState): LiveCheck {
  const regions = read.regions.map((r) => checkRegion(r, expected));
  const outcome: LiveOutcome = regions.some((r) => r.outcome === "failed")
    ? "failed"
    : regions.some((r) => r.outcome === "pending")
      ? "pending"
      : "ok";
  const summary =
    outcome === "ok"
      ? `${describeExpected(expected)} in ${regions.map((r) => r.region).join(", ")}.`
      : regions
          .filter((r) => r.outcome !== "ok")
          .map((r) => `${r.region}: ${r.detail}.`)
          .join(" ");
  return { outcome, regions, summary };
}

function describeExpected(e: ExpectedState): string {
  const canaryShare = e.canary ? (e.traffic.find((t) => t.revision === e.canary)?.percent ?? 0) : 0;
  switch (e.kind) {
    case "staged":
      return `Revision ${e.templateRevision} is ready with no traffic yet; stable serves 100%`;
    case "serving":
      return `Revision ${e.templateRevision} is ready and takes ${canaryShare}%`;
    case "promoted":
      return `Revision ${e.templateRevision} is ready and serves 100%`;
    case "rolled back":
      return `Stable revision ${e.traffic[0]?.revision ?? e.templateRevision} serves 100%; the canary serves nothing`;
  }
}
