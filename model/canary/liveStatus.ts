import {
  clause,
  failedLatestRevision,
  liveHealth,
  revisionStatus,
  type LiveCondition,
  type LiveHealth,
  type LiveReadFailure,
  type LiveRegionRead,
  type LiveServicePresent,
  type LiveTrafficTarget,
  type RevisionReadiness,
  type RevisionStatus,
} from "../live";
import { awaitedRevision } from "../release/baseline";
import type { ReleasePlan } from "../release/traffic";
import type { CanaryRelease, ServiceConfig } from "../types";
import { parseImageRef } from "../imageRef";
import { runningImageProblem } from "../supplyChain/digests";
import { describeSplit, regionAgreement, splitKey, type LiveTarget } from "./regions";

/**
 * What `orchestra canary status --live` says about one service: each region as Cloud Run reports it,
 * compared with the stack file, and the one thing to do next. Pure: the reads come in, nothing goes out.
 */

/** A region whose state could not be read: the reason and the fix. */
export interface RegionUnread {
  readonly region: string;
  readonly read: "failed";
  readonly failure: LiveReadFailure;
}

/** A region with no Cloud Run service of that name. */
export interface RegionAbsent {
  readonly region: string;
  readonly read: "ok";
  readonly exists: false;
}

/** How a region compares with the stack file. */
export interface FileComparison {
  /** The revision the file's template names: the canary's while staged or serving. */
  readonly templateRevision: string;
  /** Cloud Run's latest created revision is the template's: the file's template was applied. */
  readonly templateApplied: boolean;
  /** The traffic list last sent (`traffic`) is the file's. */
  readonly askedMatches: boolean;
  /** What serves (`trafficStatuses`) is the file's split. */
  readonly servingMatches: boolean;
}

export interface RegionPresent {
  readonly region: string;
  readonly read: "ok";
  readonly exists: true;
  readonly health: Exclude<LiveHealth, "absent">;
  readonly reconciling: boolean;
  readonly latestReadyRevision?: string;
  /** Only when it differs from the latest ready one: what the last update created, failed or unsettled. */
  readonly latestCreatedRevision?: string;
  /** The last reconciliation's outcome, when it did not succeed. */
  readonly terminalCondition?: LiveCondition;
  /** The revision the last update created that will never serve, in Cloud Run's words. */
  readonly failedRevision?: { readonly name: string; readonly reason?: string; readonly message?: string };
  /** What serves (`trafficStatuses`); a `latest` entry is resolved to the latest ready revision. */
  readonly serving: readonly LiveTarget[];
  /** What the last update asked for (`traffic`), resolved the same way. */
  readonly asked: readonly LiveTarget[];
  /** Absent when the file's split is not known offline (a stable release built at deploy time). */
  readonly file?: FileComparison;
  /**
   * The canary revision of the file, while it is staged or serving; while a baseline is staged before
   * it, the baseline's (the revision the release waits on).
   */
  readonly canary?: RevisionStatus & {
    readonly revision: string;
    /** Set when the canary revision runs another image than the one the gate approved. */
    readonly imageProblem?: string;
  };
}

export type RegionStatus = RegionUnread | RegionAbsent | RegionPresent;

export type LiveAdviceKind =
  /** The canary revision failed somewhere: roll back, which works whether or not it became ready. */
  | "rollback"
  /** The file's own template revision (not a canary) fails to start: the file must change. */
  | "fix-release"
  /** Some region could not be read: nothing else can be concluded. */
  | "read-failed"
  /** Cloud Run is still acting on the last update, or the canary has not settled. */
  | "wait"
  /** Some region does not run the stack file: `pulumi up`. */
  | "apply"
  /** Staged, applied and ready everywhere: give the canary its traffic. */
  | "set"
  /** Serving in every region: move it, promote it or roll it back. */
  | "serving"
  /** Rolled back in every region: start a fixed release. */
  | "start"
  /** Every region runs the stack file and there is no canary. */
  | "none";

/** One line: the command first, then why. */
export interface LiveAdvice {
  readonly kind: LiveAdviceKind;
  readonly text: string;
}

export interface ServiceLiveStatus {
  readonly service: string;
  readonly regions: readonly RegionStatus[];
  /** Regions serving a split other than the majority's, each with both splits. */
  readonly disagreements: readonly string[];
  /**
   * Every region was read, serves the same split, and none's last update failed. Reconciling, and an
   * edit not applied yet, are normal states between an edit and its `pulumi up`.
   */
  readonly ok: boolean;
  readonly advice: LiveAdvice;
}

export interface LiveStatusInput {
  readonly stack: string;
  readonly service: ServiceConfig;
  /** The file's template and traffic; undefined when the stable release is built at deploy time. */
  readonly plan: ReleasePlan | undefined;
  /** The service's reads, one per region (`readServiceState`). */
  readonly reads: readonly LiveRegionRead[];
}

/**
 * Whether the canary revision runs the image the gate approved: the canary's digest, or either digest
 * recorded in `approvedDigests` for a multi-platform index. Only for the canary's own revision (not a
 * baseline), once Cloud Run reports its image. Shared by `canary status --live` and the rollout's
 * verification.
 */
export function canaryImageProblem(
  state: LiveServicePresent,
  watched: string,
  canary: CanaryRelease | undefined,
): { imageProblem?: string } {
  if (!canary || watched !== canary.revision) return {};
  const image = state.revisions.find((r) => r.name === watched)?.image;
  const digest = parseImageRef(canary.image)?.digest;
  const approved = canary.approvedDigests ?? (digest ? { linuxAmd64: digest } : undefined);
  if (!image || !approved) return {};
  const problem = runningImageProblem(approved, image);
  return problem ? { imageProblem: problem } : {};
}

/** Compares each region's live state with the stack file and decides the one next step. */
export function liveServiceStatus(input: LiveStatusInput): ServiceLiveStatus {
  const regions = input.reads.map((read) => regionStatus(read, input));
  const present = regions.filter((r): r is RegionPresent => r.read === "ok" && r.exists);
  const agreement = regionAgreement(
    input.plan?.traffic ?? [],
    Object.fromEntries(present.map((r) => [r.region, r.serving])),
  );
  const ok =
    regions.every((r) => r.read === "ok") &&
    agreement.problems.length === 0 &&
    present.every((r) => r.health !== "failed" && !r.canary?.imageProblem);
  return {
    service: input.service.name,
    regions,
    disagreements: agreement.problems,
    ok,
    advice: advise(input, regions, agreement.problems),
  };
}

function regionStatus(read: LiveRegionRead, input: LiveStatusInput): RegionStatus {
  if (!read.ok) return { region: read.region, read: "failed", failure: read.failure };
  const state = read.state;
  if (!state.exists) return { region: read.region, read: "ok", exists: false };
  // The service exists here, so its health is never "absent".
  const health = liveHealth(state) as RegionPresent["health"];
  const failed = failedLatestRevision(state);
  const serving = resolve(state.trafficStatuses, state);
  const asked = resolve(state.traffic, state);
  const plan = input.plan;
  const canary = input.service.canary;
  const watched =
    canary && canary.phase !== "rolled-back"
      ? (awaitedRevision(input.service) ?? canary.revision)
      : undefined;
  return {
    region: read.region,
    read: "ok",
    exists: true,
    health,
    reconciling: state.reconciling,
    ...(state.latestReadyRevision ? { latestReadyRevision: state.latestReadyRevision } : {}),
    ...(state.latestCreatedRevision && state.latestCreatedRevision !== state.latestReadyRevision
      ? { latestCreatedRevision: state.latestCreatedRevision }
      : {}),
    ...(state.terminalCondition && state.terminalCondition.state !== "succeeded"
      ? { terminalCondition: state.terminalCondition }
      : {}),
    ...(failed
      ? {
          failedRevision: {
            name: failed.name,
            ...(failed.reason ? { reason: failed.reason } : {}),
            ...(failed.message ? { message: failed.message } : {}),
          },
        }
      : {}),
    serving,
    asked,
    ...(plan
      ? {
          file: {
            templateRevision: plan.templateRevision,
            templateApplied: state.latestCreatedRevision === plan.templateRevision,
            askedMatches: splitKey(asked) === splitKey(plan.traffic),
            servingMatches: splitKey(serving) === splitKey(plan.traffic),
          },
        }
      : {}),
    ...(watched
      ? {
          canary: {
            revision: watched,
            ...revisionStatus(state, watched),
            ...canaryImageProblem(state, watched, canary),
          },
        }
      : {}),
  };
}

/**
 * A traffic list with named revisions. An empty list and a `latest` entry both mean the latest ready
 * revision, which is what a region serves however the list spells it.
 */
function resolve(targets: readonly LiveTrafficTarget[], state: LiveServicePresent): LiveTarget[] {
  const latest = state.latestReadyRevision ?? "(no ready revision)";
  if (targets.length === 0) return state.latestReadyRevision ? [{ revision: latest, percent: 100 }] : [];
  return targets.map((t) => ({
    revision: t.allocation === "latest" ? latest : (t.revision ?? ""),
    percent: t.percent,
    ...(t.tag ? { tag: t.tag } : {}),
  }));
}

const list = (regions: readonly string[]) => regions.join(", ");

function advise(
  input: LiveStatusInput,
  regions: readonly RegionStatus[],
  disagreements: readonly string[],
): LiveAdvice {
  const { stack, service } = input;
  const name = service.name;
  const rerun = `re-run \`orchestra canary status --stack ${stack} --live\``;
  const up = `\`pulumi up --refresh -s ${stack}\``;
  const present = regions.filter((r): r is RegionPresent => r.read === "ok" && r.exists);
  const canary = service.canary;

  // A failed revision never recovers, and a rollback never names it: decisive whatever else is unread.
  const canaryFailed = present.filter((r) => r.canary?.state === "failed");
  if (canary && canaryFailed.length > 0) {
    const why = clause(canaryFailed[0].canary?.message ?? canaryFailed[0].canary?.reason);
    return rollbackAdvice(
      stack,
      name,
      canaryFailed[0].canary?.revision ?? canary.revision,
      canaryFailed.map((r) => r.region),
      why,
    );
  }

  const templateFailed = present.filter(
    (r) => r.file && r.failedRevision && r.failedRevision.name === r.file.templateRevision,
  );
  if (templateFailed.length > 0) {
    const failed = templateFailed[0].failedRevision!;
    const why = clause(failed.message ?? failed.reason);
    return {
      kind: "fix-release",
      text:
        `fix the release in Pulumi.${stack}.yaml (image or settings), then ${up}: its revision ` +
        `${failed.name} failed in ${list(templateFailed.map((r) => r.region))}${why ? ` (${why})` : ""}, ` +
        "and sending the same revision again fails again.",
    };
  }

  const unread = regions.filter((r): r is RegionUnread => r.read === "failed");
  if (unread.length > 0) {
    return {
      kind: "read-failed",
      text: `fix the access to ${list(unread.map((r) => r.region))} (see above), then ${rerun}: the next step depends on every region.`,
    };
  }

  const reconciling = present.filter((r) => r.reconciling || r.health === "reconciling");
  if (reconciling.length > 0) {
    return {
      kind: "wait",
      text: `wait a minute and ${rerun}: Cloud Run is still applying the last update in ${list(reconciling.map((r) => r.region))}.`,
    };
  }

  const behind = behindRegions(regions, disagreements);
  if (behind.length > 0) {
    return {
      kind: "apply",
      text: `${up}, then ${rerun}: ${behind.join("; ")}. A green \`up\` proves nothing until --live shows the file's split serving.`,
    };
  }

  if (!canary) return { kind: "none", text: "nothing to do: every region runs the stack file." };
  if (canary.phase === "rolled-back") {
    return {
      kind: "start",
      text:
        `the rollback is live in every region; to release again, start a fixed image: ` +
        `\`orchestra canary start ${name} --image REPOSITORY@sha256:DIGEST --stack ${stack}\`.`,
    };
  }
  const awaited = awaitedRevision(service) ?? canary.revision;
  const unsettled = present.filter((r) => r.canary && r.canary.state !== "ready");
  if (unsettled.length > 0) {
    return {
      kind: "wait",
      text: `wait and ${rerun}: revision ${awaited} is not ready yet in ${list(unsettled.map((r) => r.region))}.`,
    };
  }
  if (canary.phase === "staged") {
    const baselineFirst = awaited !== canary.revision;
    return {
      kind: "set",
      text:
        `\`orchestra canary set ${name} ${canary.percent} --stack ${stack}\`, then ${up}: ` +
        (baselineFirst
          ? `the baseline revision ${awaited} is ready in ${list(present.map((r) => r.region))}; the next \`up\` creates the canary, and \`canary set\` once more gives both traffic.`
          : `revision ${canary.revision} is ready in ${list(present.map((r) => r.region))} and serves no traffic yet.`),
    };
  }
  return {
    kind: "serving",
    text:
      `the canary serves ${canary.percent}% in every region: \`orchestra canary promote ${name} --stack ${stack}\` ` +
      `when it looks right, \`orchestra canary set ${name} PERCENT --stack ${stack}\` to move it, or ` +
      `\`orchestra canary rollback ${name} --stack ${stack}\`.`,
  };
}

function rollbackAdvice(
  stack: string,
  service: string,
  revision: string,
  failedIn: readonly string[],
  why: string | undefined,
): LiveAdvice {
  return {
    kind: "rollback",
    text:
      `\`orchestra canary rollback ${service} --stack ${stack}\`, then \`pulumi up --refresh -s ${stack}\`: revision ` +
      `${revision} failed in ${list(failedIn)}${why ? ` (${why})` : ""} and will never serve. The rollback ` +
      "names only the stable revision, so Cloud Run accepts it whether or not the canary became ready anywhere.",
  };
}

/**
 * What to do when `orchestra canary set` finds a staged canary not ready in every region: the same
 * advice `canary status --live` would give, from the readiness read alone.
 */
export function notReadyAdvice(stack: string, service: string, readiness: RevisionReadiness): LiveAdvice {
  if (readiness.failedIn.length > 0)
    return rollbackAdvice(stack, service, readiness.revision, readiness.failedIn, undefined);
  if (readiness.unreadIn.length > 0)
    return {
      kind: "read-failed",
      text: `fix the access to ${list(readiness.unreadIn)} (see above), then run the command again: the canary gets traffic only once it is known to be ready in every region.`,
    };
  return {
    kind: "wait",
    text:
      `\`pulumi up --refresh -s ${stack}\` if it has not run since \`orchestra canary start\` (a plain retry after a failed update may not call Cloud Run), wait until ` +
      `\`orchestra canary status --stack ${stack} --live\` shows revision ${readiness.revision} ready, then run the command again.`,
  };
}

/** Why each region that does not run the stack file is behind, one clause each. */
function behindRegions(regions: readonly RegionStatus[], disagreements: readonly string[]): string[] {
  const reasons: string[] = [];
  for (const r of regions) {
    if (r.read !== "ok") continue;
    if (!r.exists) {
      reasons.push(`the service does not exist in ${r.region}`);
      continue;
    }
    if (r.health === "failed") {
      const why = clause(r.terminalCondition?.message ?? r.failedRevision?.message);
      reasons.push(
        `${r.region}'s last update failed${why ? ` (${why})` : ""} and it still serves ${describeSplit(r.serving)}`,
      );
    } else if (r.file && !(r.file.templateApplied && r.file.askedMatches && r.file.servingMatches)) {
      reasons.push(
        r.file.templateApplied
          ? `${r.region} serves ${describeSplit(r.serving)}, not the file's split`
          : `${r.region} has not applied the stack file (its latest revision is ${r.latestCreatedRevision ?? r.latestReadyRevision ?? "none"}, the file's is ${r.file.templateRevision})`,
      );
    }
  }
  // A region may serve the file's split and still disagree with the majority that does not.
  if (reasons.length === 0) reasons.push(...disagreements.map((d) => d.replace(/\.$/, "")));
  return reasons;
}
