import type { ServiceConfig } from "../types";

/**
 * The rules a baseline adds. It serves at the canary's percent beside it, so both come out of stable's
 * share, and it is tagged, so its tag must fit Cloud Run's tag + service name limit.
 */

export const BASELINE_TAG = "baseline";

/** Cloud Run: a tag plus the service name is at most 46 characters. */
const TAG_PLUS_SERVICE = 46;

/** The longest service name that can carry the `baseline` tag. */
export const MAX_SERVICE_NAME_WITH_BASELINE = TAG_PLUS_SERVICE - BASELINE_TAG.length;

/**
 * The highest canary percent a baseline can run beside: canary and baseline take the percent each, and
 * stable, the exact revision a rollback returns to, keeps serving (at least 1%).
 */
export const MAX_PERCENT_WITH_BASELINE = 49;

/** Why a service of this name cannot have a baseline, or undefined. */
export function baselineNameProblem(service: string): string | undefined {
  if (service.length <= MAX_SERVICE_NAME_WITH_BASELINE) return undefined;
  return (
    `the service name "${service}" has ${service.length} characters, and Cloud Run allows at most ` +
    `${TAG_PLUS_SERVICE} for a tag and the service name together: with the tag \`${BASELINE_TAG}\`, at most ` +
    `${MAX_SERVICE_NAME_WITH_BASELINE}`
  );
}

/** Why a canary at `percent` cannot have a baseline beside it, or undefined. */
export function baselinePercentProblem(percent: number): string | undefined {
  if (percent <= MAX_PERCENT_WITH_BASELINE) return undefined;
  return (
    `canary and baseline at ${percent}% each would take ${2 * percent}% of the traffic, leaving stable nothing: ` +
    `with a baseline the canary takes at most ${MAX_PERCENT_WITH_BASELINE}%, so that stable keeps serving`
  );
}
/**
 * The revision a staged release waits for before it can move on: a staged baseline (the template creates
 * it first), else the staged canary. Undefined once the canary serves.
 */
export function awaitedRevision(service: ServiceConfig): string | undefined {
  const canary = service.canary;
  if (canary?.phase !== "staged") return undefined;
  return canary.baseline?.phase === "staged" ? canary.baseline.revision : canary.revision;
}
