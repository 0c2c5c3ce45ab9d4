import { PROJECT, type StackConfig } from "../types";
import type { Edit } from "./edits";
import {
  awaitedRevision,
  baselineNameProblem,
  baselinePercentProblem,
  MAX_PERCENT_WITH_BASELINE,
} from "../release/baseline";
import { stableRevision } from "../release/desiredState";
import { attemptRevisionName, nextAttemptId } from "../release/revisionName";
import { runtimeEmail } from "../release/servicePlan";
import { revisionTemplate } from "../release/template";
import { canaryPercentViolation } from "../policy";
import type { ApprovedDigests, VulnerabilityOverrideRecord } from "../supplyChain/vulnerabilities";

/** A canary operation the rules forbid; the stack file is left as it was. */
export class CanaryRuleError extends Error {}

/** Default share of traffic a new canary takes. */
export const DEFAULT_CANARY_PERCENT = 10;

const servicePath = (service: string, ...rest: string[]) => [
  "config",
  `${PROJECT}:services`,
  service,
  ...rest,
];

function findService(config: StackConfig, name: string) {
  const service = config.services.find((s) => s.name === name);
  if (!service) {
    const known = config.services.map((s) => s.name).join(", ");
    throw new CanaryRuleError(`Stack "${config.stack}" has no service "${name}". Services: ${known}.`);
  }
  return service;
}

function checkPercent(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
    throw new CanaryRuleError(
      `Percent must be a whole number from 0 to 100 (got ${percent}). Cloud Run splits traffic in whole percents; 0 is a dark launch.`,
    );
  }
}

/**
 * The canary-percent guardrail at edit time, at the level the stack gives the rule: the same rule the
 * policy pack and the rollout apply. Mandatory refuses (CanaryRuleError); advisory returns the warning.
 */
export function checkCanaryPercentRule(
  config: StackConfig,
  name: string,
  percent: number,
  fix?: string,
): string[] {
  const level = config.policy.levels["canary-percent"];
  if (level === "disabled") return [];
  const violation = canaryPercentViolation({
    service: name,
    stack: config.stack,
    percent,
    maxCanaryPercent: config.policy.maxCanaryPercent,
  });
  if (!violation) return [];
  if (level === "mandatory")
    throw new CanaryRuleError(
      `${violation.message} The canary-percent guardrail is mandatory on stack "${config.stack}", so nothing was changed. Fix: ${fix ?? violation.fix}`,
    );
  return [`${violation.message} (canary-percent is advisory on stack "${config.stack}": changed anyway)`];
}

/** What `canary start` needs besides the image. */
export interface StartOptions {
  /** Share the canary takes once it is ready; 0 is a dark launch. Default DEFAULT_CANARY_PERCENT. */
  readonly percent?: number;
  /** A suffix unique to this attempt (`attemptId(Date.now())`), so its revision name was never used. */
  readonly attempt: string;
  /** Also deploy the stable release afresh as a baseline at the canary's percent (BaselineRelease). */
  readonly baseline?: boolean;
  /** The digests the vulnerability gate approved, when the image is a multi-platform index. */
  readonly approvedDigests?: ApprovedDigests;
  /** The override that let blocking findings through (`--allow-vulnerable`). */
  readonly vulnerabilityOverride?: VulnerabilityOverrideRecord;
}

/**
 * The attempt of a start of `name`'s canary at `nowMs`: later than every attempt its stack file records
 * (stable's pin, a rolled-back canary and its baseline), so the start names revisions never used.
 */
export function startAttempt(config: StackConfig, name: string, nowMs: number): string {
  const service = config.services.find((s) => s.name === name);
  return nextAttemptId(nowMs, [
    service?.stable.revision,
    service?.canary?.revision,
    service?.canary?.baseline?.revision,
  ]);
}

/**
 * Starts a canary, staged: the template carries the new release, so the next `up` creates its
 * revision, but the traffic list does not name it until it is known to be ready (`setCanaryPercent`).
 * The stable revision is pinned, so that a rollback can revert to its exact name and spec. With a
 * baseline, the template first carries the baseline (stable's spec, a fresh name), and moves on to the
 * canary once the baseline is known to be ready: one revision per `up`, each created before it is named.
 */
export function startCanary(config: StackConfig, name: string, image: string, options: StartOptions): Edit[] {
  const service = findService(config, name);
  const percent = options.percent ?? DEFAULT_CANARY_PERCENT;
  checkPercent(percent);
  const canary = service.canary;
  if (canary && canary.phase !== "rolled-back") {
    throw new CanaryRuleError(
      `Service "${name}" already has a canary (${canary.image}, ${describePhase(canary)}). ` +
        `Promote it (\`orchestra canary promote ${name} --stack ${config.stack}\`) or roll it back first.`,
    );
  }
  if (!service.stable.image) {
    throw new CanaryRuleError(
      `Service "${name}" has no stable image to split traffic with (its stable release is built locally). ` +
        "Deploy a pushed image as stable first.",
    );
  }
  if (image === service.stable.image) {
    throw new CanaryRuleError(
      `${image} is already the stable release of "${name}": there is nothing to compare.`,
    );
  }
  const email = runtimeEmail(config, service);
  const stable = stablePin(config, name);
  const revision = attemptRevisionName(name, revisionTemplate(service, image, email), options.attempt);
  if (revision === canary?.revision) {
    throw new CanaryRuleError(
      `Revision ${revision} was already used by the rolled-back canary; start again with another attempt id.`,
    );
  }
  let baseline: { revision: string; phase: "staged" } | undefined;
  if (options.baseline) {
    const problem = baselineNameProblem(name) ?? baselinePercentProblem(percent);
    if (problem) {
      throw new CanaryRuleError(
        `Service "${name}" cannot have a baseline: ${problem}. ` +
          (baselineNameProblem(name)
            ? "Start the canary without --baseline: it is compared with stable."
            : `Start it at ${MAX_PERCENT_WITH_BASELINE}% or less, or without --baseline.`),
      );
    }
    // Stable's exact spec under a name never used, so Cloud Run creates a fresh revision of it.
    const fresh = attemptRevisionName(
      name,
      revisionTemplate(service, service.stable.image, email),
      options.attempt,
    );
    if (fresh === stable || fresh === canary?.baseline?.revision) {
      throw new CanaryRuleError(
        `Revision ${fresh} is already ${fresh === stable ? "the stable revision" : "the rolled-back canary's baseline"}, ` +
          "so it would not be a fresh deployment; start again with another attempt id.",
      );
    }
    baseline = { revision: fresh, phase: "staged" };
  }
  const edits: Edit[] = [
    {
      op: "set",
      path: servicePath(name, "canary"),
      value: {
        image,
        revision,
        percent,
        phase: "staged",
        ...(baseline ? { baseline } : {}),
        ...(options.approvedDigests ? { approvedDigests: options.approvedDigests } : {}),
        ...(options.vulnerabilityOverride ? { vulnerabilityOverride: options.vulnerabilityOverride } : {}),
      },
      after: "stable",
    },
  ];
  if (service.stable.revision !== stable)
    edits.push({ op: "set", path: servicePath(name, "stable", "revision"), value: stable });
  return edits;
}

/**
 * The stable revision `startCanary` pins: the one stable's settings and image give. It must be the
 * revision deployed, else stable traffic would move to a revision that was never created.
 */
export function stablePin(config: StackConfig, name: string): string | undefined {
  const service = findService(config, name);
  if (!service.stable.image) return undefined;
  return stableRevision(
    service,
    revisionTemplate(service, service.stable.image, runtimeEmail(config, service)),
  );
}

/** Proof read from Cloud Run that a revision is ready: the regions where it is. */
export interface ReadyRevision {
  readonly revision: string;
  readonly readyIn: readonly string[];
}

const describePhase = (c: { phase: string; percent: number }) =>
  c.phase === "serving" ? `at ${c.percent}%` : c.phase === "staged" ? "staged, no traffic yet" : c.phase;

export interface SetOptions {
  /** Remove the baseline: its traffic and tag go, and the canary is compared with stable from here. */
  readonly dropBaseline?: boolean;
}

/**
 * Moves the canary to `percent`: a traffic-only change, no new revision. A staged canary first enters
 * the traffic list here, which Cloud Run refuses unless its revision is ready, so `ready` must show it
 * ready in every region of the service. With a staged baseline, that is the baseline's readiness, and
 * this step only marks it ready: the canary is created by the next `up` and enters the list at the next
 * call.
 */
export function setCanaryPercent(
  config: StackConfig,
  name: string,
  percent: number,
  ready?: ReadyRevision,
  options: SetOptions = {},
): Edit[] {
  const service = findService(config, name);
  checkPercent(percent);
  const canary = service.canary;
  if (!canary) {
    throw new CanaryRuleError(
      `Service "${name}" has no canary to set. Start one: \`orchestra canary start ${name} --image REPOSITORY@sha256:DIGEST --stack ${config.stack}\`.`,
    );
  }
  if (canary.phase === "rolled-back") {
    throw new CanaryRuleError(
      `The canary of "${name}" was rolled back, and its revision is no longer in the template. To retry ` +
        `the release, start it again: \`orchestra canary start ${name} --image ${canary.image} --stack ${config.stack}\` ` +
        "(it gets a revision name never used, so Cloud Run creates it afresh).",
    );
  }
  const edits: Edit[] = [];
  let baseline = canary.baseline;
  if (baseline && options.dropBaseline) {
    edits.push({ op: "delete", path: servicePath(name, "canary", "baseline") });
    baseline = undefined;
  }
  const tooHigh = baseline ? baselinePercentProblem(percent) : undefined;
  if (tooHigh) {
    throw new CanaryRuleError(
      `The canary of "${name}" has a baseline, and ${tooHigh}. Set ${MAX_PERCENT_WITH_BASELINE}% or less, or drop ` +
        `the baseline and compare with stable from here: \`orchestra canary set ${name} ${percent} --drop-baseline --stack ${config.stack}\`.`,
    );
  }
  edits.push({ op: "set", path: servicePath(name, "canary", "percent"), value: percent });
  if (canary.phase === "staged") {
    // A dropped baseline that was still staged was never named: the template simply moves on to the canary.
    if (canary.baseline?.phase === "staged" && !baseline) return edits;
    const awaited = awaitedRevision(service)!;
    const what = awaited === canary.revision ? "canary" : "baseline";
    const missing = service.regions.filter(
      (r) => !ready || ready.revision !== awaited || !ready.readyIn.includes(r),
    );
    if (missing.length > 0) {
      throw new CanaryRuleError(
        `The ${what} revision ${awaited} of "${name}" is not known to be ready in ${missing.join(", ")}, ` +
          "and Cloud Run refuses a traffic list naming a revision that is not ready. " +
          `Run \`pulumi up --refresh -s ${config.stack}\` to create it (a plain retry after a failed update may not call Cloud Run), then try again: the command reads readiness from Cloud Run. ` +
          `If it never becomes ready, \`orchestra canary rollback ${name} --stack ${config.stack}\`.`,
      );
    }
    edits.push(
      what === "baseline"
        ? { op: "set", path: servicePath(name, "canary", "baseline", "phase"), value: "ready" }
        : { op: "set", path: servicePath(name, "canary", "phase"), value: "serving" },
    );
  }
  return edits;
}

/** Makes the canary the stable release at 100%, under its own revision name: none is created. */
export function promoteCanary(config: StackConfig, name: string): Edit[] {
  const service = findService(config, name);
  const canary = service.canary;
  if (!canary) throw new CanaryRuleError(`Service "${name}" has no canary to promote.`);
  if (canary.phase === "rolled-back") {
    throw new CanaryRuleError(
      `The canary of "${name}" was rolled back. To retry it, start it again ` +
        `(\`orchestra canary start ${name} --image ${canary.image} --stack ${config.stack}\`).`,
    );
  }
  if (canary.phase === "staged") {
    throw new CanaryRuleError(
      `The canary of "${name}" is staged and serves no traffic yet: it is not known to be ready. ` +
        `Give it traffic first (\`orchestra canary set ${name} PERCENT --stack ${config.stack}\`, after \`pulumi up\`), or roll it back.`,
    );
  }
  return [
    { op: "set", path: servicePath(name, "stable", "image"), value: canary.image },
    { op: "set", path: servicePath(name, "stable", "revision"), value: canary.revision },
    { op: "delete", path: servicePath(name, "canary") },
  ];
}

/**
 * Sends all traffic back to stable and reverts the template to the exact stable revision, which Cloud
 * Run accepts whether or not the canary ever became ready; works offline. The canary stays in the file
 * as a record, without its vulnerability override. Returns no edits when it is already rolled back.
 */
export function rollbackCanary(config: StackConfig, name: string): Edit[] {
  const service = findService(config, name);
  if (!service.canary)
    throw new CanaryRuleError(`Service "${name}" has no canary to roll back; stable already serves 100%.`);
  if (service.canary.phase === "rolled-back") return [];
  return [
    { op: "set", path: servicePath(name, "canary", "phase"), value: "rolled-back" },
    // The override let that release through; a new attempt passes the gate again.
    ...(service.canary.vulnerabilityOverride
      ? [{ op: "delete" as const, path: servicePath(name, "canary", "vulnerabilityOverride") }]
      : []),
  ];
}
