import type { ServiceConfig } from "../types";
import { stableRevision } from "./desiredState";
import { attemptRevisionName, builtFrom, revisionName } from "./revisionName";
import { revisionTemplate } from "./template";

/** A pinned revision that cannot be rendered as deployed; `path` is under the service's key. */
export interface PinProblem {
  readonly path: readonly string[];
  readonly value: unknown;
  readonly message: string;
}

/**
 * While a canary is staged or serving, every revision it involves must be reproducible exactly: stable,
 * because a rollback reverts the template to its exact name and spec; the canary and the baseline,
 * because their revisions already exist (and the baseline must stay stable's exact spec). Revisions are immutable, so a setting edited mid-canary (memory, env, ...) would ask Cloud Run
 * for a different spec under an existing name (a 409), or move stable to a revision never deployed.
 * `email` is the runtime identity, part of every template.
 */
export function pinProblems(svc: ServiceConfig, email: string): PinProblem[] {
  const canary = svc.canary;
  if (!canary || !svc.stable.image) return [];
  const stableTemplate = revisionTemplate(svc, svc.stable.image, email);
  const canaryTemplate = revisionTemplate(svc, canary.image, email);
  const finish =
    `Fix: undo the settings change, finish the canary first (\`orchestra canary promote ${svc.name}\` or ` +
    `\`orchestra canary rollback ${svc.name}\`, then \`pulumi up\`), and make the change afterwards.`;
  const problems: PinProblem[] = [];
  const pin = svc.stable.revision;
  if (canary.phase === "rolled-back") {
    // Finished: the template is stable's again, so a settings change now makes a new stable revision
    // under its content name, as outside a canary, and the fix below ("make the change afterwards") works.
  } else if (pin === undefined) {
    problems.push({
      path: ["stable", "revision"],
      value: undefined,
      message:
        "is required while a canary runs: it names the existing revision that keeps serving stable traffic.\n" +
        `Fix: add \`revision: ${revisionName(svc.name, stableTemplate)}\` under \`stable\` (the stable revision for the current settings), ` +
        "or start canaries with `orchestra canary start`, which pins it.",
    });
  } else if (!builtFrom(pin, svc.name, stableTemplate)) {
    problems.push({
      path: ["stable", "revision"],
      value: pin,
      message:
        `was built from other settings than the service has now (they would make ${stableRevision(svc, stableTemplate)}): ` +
        "a setting changed while the canary runs (or an upgrade of this program changed the revision template), " +
        "so a rollback could not bring back the exact stable revision.\n" +
        finish,
    });
  }
  if (!canary.revision.startsWith(`${svc.name}-`)) {
    problems.push({
      path: ["canary", "revision"],
      value: canary.revision,
      message: `must start with the service name \`${svc.name}-\`.\nFix: start canaries with \`orchestra canary start\`, which names the revision.`,
    });
  } else if (canary.phase !== "rolled-back" && !builtFrom(canary.revision, svc.name, canaryTemplate)) {
    problems.push({
      path: ["canary", "revision"],
      value: canary.revision,
      message:
        `was built from other settings than the service has now (they would make ${attemptRevisionName(svc.name, canaryTemplate, "<attempt>")}): ` +
        "a setting changed while the canary runs (or an upgrade of this program changed the revision template), " +
        "and its revision already exists with the old ones.\n" +
        finish,
    });
  }
  const baseline = canary.baseline;
  if (baseline && !baseline.revision.startsWith(`${svc.name}-`)) {
    problems.push({
      path: ["canary", "baseline", "revision"],
      value: baseline.revision,
      message: `must start with the service name \`${svc.name}-\`.\nFix: start canaries with \`orchestra canary start --baseline\`, which names the revision.`,
    });
  } else if (
    baseline &&
    canary.phase !== "rolled-back" &&
    !builtFrom(baseline.revision, svc.name, stableTemplate)
  ) {
    problems.push({
      path: ["canary", "baseline", "revision"],
      value: baseline.revision,
      message:
        `was built from other settings than the stable release has now (they would make ${attemptRevisionName(svc.name, stableTemplate, "<attempt>")}): ` +
        "a baseline is the stable release deployed afresh, so a setting changed while the canary runs would make it another release.\n" +
        finish,
    });
  }
  return problems;
}
