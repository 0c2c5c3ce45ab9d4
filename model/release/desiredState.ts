import type { ServiceConfig } from "../types";
import { builtFrom, revisionName } from "./revisionName";
import { revisionTemplate, type RevisionTemplate } from "./template";
import { planRelease, type ReleasePlan } from "./traffic";

/**
 * The revision stable runs: the pinned name while it was built from these settings (an exact revert
 * target), else the content name, which a settings change outside a canary deploys as a new revision.
 */
export function stableRevision(svc: ServiceConfig, template: RevisionTemplate): string {
  const pin = svc.stable.revision;
  return pin && builtFrom(pin, svc.name, template) ? pin : revisionName(svc.name, template);
}

/** The template, its revision name and the traffic list for a service, given its stable image. */
export function desiredState(
  svc: ServiceConfig,
  stableImage: string,
  serviceAccount: string,
): { plan: ReleasePlan; template: RevisionTemplate } {
  const stableTemplate = revisionTemplate(svc, stableImage, serviceAccount);
  const plan = planRelease(svc, {
    stable: stableRevision(svc, stableTemplate),
    canary: svc.canary?.revision,
  });
  return {
    plan,
    template:
      plan.templateRelease === "canary" && svc.canary
        ? revisionTemplate(svc, svc.canary.image, serviceAccount)
        : stableTemplate,
  };
}
