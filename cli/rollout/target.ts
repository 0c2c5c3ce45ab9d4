import * as fs from "node:fs";
import * as path from "node:path";
import { CanaryRuleError, startAttempt, startCanary } from "../../model/canary/lifecycle";
import type { CanaryRelease, ServiceConfig, StackConfig } from "../../model/types";
import { formatIssues } from "../../config/errors";
import { stackFilePath } from "../../render/stackFile";
import { validateWithEdits } from "../stackEditor";
import { readState, type RolloutState } from "./state";
import { planSteps } from "./steps";

/**
 * What a new rollout rolls out, decided before anything is checked or changed: by the real run
 * (machine.ts) and by `--dry-run` alike, so that a dry run refuses whatever the run would refuse.
 */

/** A reason the rollout cannot start; nothing was changed. */
export class RolloutRefusal extends Error {}

export interface RolloutTarget {
  readonly svc: ServiceConfig;
  readonly image: string;
  /** Set when the rollout starts a new canary of the image (its revision's attempt id). */
  readonly attempt?: string;
  /** The new canary starts with a baseline (model/release/baseline.ts). */
  readonly baseline: boolean;
  /** The running canary the rollout continues, when it does not start one. */
  readonly continues?: CanaryRelease;
  readonly steps: readonly number[];
  /** Steps left out, and why (planSteps). */
  readonly notes: readonly string[];
}

/** The canary a rollout may continue: any but a rolled-back one. */
export const activeCanary = (s: ServiceConfig | undefined): CanaryRelease | undefined =>
  s?.canary?.phase === "rolled-back" ? undefined : s?.canary;

/**
 * The image, the canary to start or continue and the steps of a rollout of `service`, or a
 * RolloutRefusal: no such service, no canary and no --image, another canary in the way, a start the
 * canary rules refuse, an image the stack would not accept (a tag where digests are required, another
 * repository), or no step the stack's policy allows.
 */
export function rolloutTarget(
  dir: string,
  config: StackConfig,
  o: {
    readonly service: string;
    readonly image?: string;
    readonly steps: readonly number[];
    /** Start the new canary with a baseline (`--with-baseline`). */
    readonly baseline?: boolean;
  },
  now: number,
): RolloutTarget {
  const svc = config.services.find((s) => s.name === o.service);
  if (!svc) throw new RolloutRefusal(`Stack "${config.stack}" has no service "${o.service}".`);
  const cur = activeCanary(svc);
  let attempt: string | undefined;
  let image: string;
  if (o.image && (!cur || cur.image !== o.image)) {
    if (cur)
      throw new RolloutRefusal(
        `Service "${o.service}" already has a canary (${cur.image}); promote or roll it back before rolling out ${o.image}.`,
      );
    attempt = startAttempt(config, o.service, now);
    image = o.image;
  } else if (cur) {
    if (o.baseline && !cur.baseline)
      throw new RolloutRefusal(
        `The running canary of "${o.service}" has no baseline, and one is only added when a canary starts: ` +
          "continue without --with-baseline, or roll it back and roll out its image again with --with-baseline.",
      );
    image = cur.image;
  } else {
    throw new RolloutRefusal(
      svc.canary
        ? `The canary of "${o.service}" (${svc.canary.image}) was rolled back: give --image to start a new attempt.`
        : `Service "${o.service}" has no canary to continue: give --image to start one.`,
    );
  }
  const continues = attempt ? undefined : cur;
  const steps = planSteps(o.steps, {
    service: o.service,
    stack: config.stack,
    maxCanaryPercent: config.policy.maxCanaryPercent,
    current: continues?.phase === "serving" ? continues.percent : undefined,
    baseline: attempt ? Boolean(o.baseline) : cur?.baseline !== undefined,
  });
  if (!steps.ok) throw new RolloutRefusal(steps.reason);
  const baseline = Boolean(attempt && o.baseline);
  // The start's own refusals (a baseline at the first step's percent, say), before anything is changed.
  if (attempt)
    refuseInvalidStart(dir, config, o.service, image, { attempt, percent: steps.steps[0], baseline });
  return {
    svc,
    image,
    baseline,
    ...(attempt ? { attempt } : {}),
    ...(continues ? { continues } : {}),
    steps: steps.steps,
    notes: steps.notes,
  };
}

/**
 * The canary rules for starting the image, then the stack as it would be once started, validated as
 * the program validates it: the run would otherwise find a bad image only when it writes the stack.
 */
function refuseInvalidStart(
  dir: string,
  config: StackConfig,
  service: string,
  image: string,
  start: { readonly attempt: string; readonly percent: number; readonly baseline: boolean },
): void {
  let edits;
  try {
    edits = startCanary(config, service, image, {
      attempt: start.attempt,
      percent: start.percent,
      ...(start.baseline ? { baseline: true } : {}),
    });
  } catch (e) {
    if (e instanceof CanaryRuleError) throw new RolloutRefusal(e.message);
    throw e;
  }
  const file = stackFilePath(dir, config.stack);
  const result = validateWithEdits(dir, config.stack, file, edits);
  if (!result.ok)
    throw new RolloutRefusal(
      `${image} cannot be rolled out on ${config.stack}: ${path.basename(file)} would not accept it.\n` +
        formatIssues(config.stack, result.issues),
    );
}

/**
 * The report (`<base>.json`, `<base>.md`) is written at every end, the last thing a rollout does, its
 * folder created if need be (writeAtomic): a folder that cannot be created or written is refused
 * before the rollout starts, not found out after it.
 */
export function reportPathProblem(base: string): string | undefined {
  const folder = path.dirname(base);
  // The nearest part of the path that exists: the folders below it are created.
  let existing = folder;
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  if (!fs.statSync(existing).isDirectory())
    return `--report ${base}: ${existing} is a file, so the folder ${folder} cannot be created. Fix: give a path in a folder.`;
  try {
    fs.accessSync(existing, fs.constants.W_OK);
  } catch {
    return `--report ${base}: ${existing} is not writable. Fix: give a path in a folder you can write.`;
  }
  for (const ext of [".json", ".md"])
    if (fs.existsSync(`${base}${ext}`) && fs.statSync(`${base}${ext}`).isDirectory())
      return `--report ${base}: ${base}${ext} is a folder. Fix: give another path.`;
  return undefined;
}

/** The command that continues an interrupted rollout of the service. */
export const resumeCommand = (o: { readonly stack: string; readonly service: string }) =>
  `orchestra rollout ${o.service} --stack ${o.stack} --resume`;

/**
 * What the rollout state recorded for `service` means for this run, decided for the run and `--dry-run`
 * alike: `--resume` continues the recorded rollout (none recorded is a refusal); a new rollout is
 * refused while a recorded rollback is not confirmed applied. `says` is the line the run starts with.
 */
export function recordedRollout(
  dir: string,
  o: { readonly stack: string; readonly service: string; readonly resume: boolean },
): { readonly state?: RolloutState; readonly says?: string } {
  const previous = readState(dir, o.stack, o.service);
  const resume = resumeCommand(o);
  if (!o.resume) {
    if (previous?.rollback)
      throw new RolloutRefusal(
        `A rollback of ${o.service} on ${o.stack} is recorded and not confirmed applied (${previous.rollback.reason}). ` +
          `Apply it first: \`${resume}\`.`,
      );
    return {};
  }
  if (!previous)
    throw new RolloutRefusal(`Nothing to resume: no rollout of ${o.service} on ${o.stack} was interrupted.`);
  return {
    state: previous,
    says: previous.rollback
      ? `Resuming ${o.service} on ${o.stack}: the recorded rollback was not confirmed applied; applying it.`
      : previous.lastVerified < 0
        ? `Resuming ${o.service} on ${o.stack} from the start: no step was verified yet.`
        : `Resuming ${o.service} on ${o.stack} after step ${previous.lastVerified + 1} of ${previous.steps.length}.`,
  };
}
