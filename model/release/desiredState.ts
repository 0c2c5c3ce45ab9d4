import type { ServiceConfig } from "../types";
import { revisionName } from "./revisionName";
import { revisionTemplate } from "./template";
import { planRelease, type ReleasePlan } from "./traffic";

/** The template, its revision name and the traffic list for a service, given its stable image. */
export function desiredState(svc: ServiceConfig, stableImage: string, serviceAccount: string) {
  const stableTemplate = revisionTemplate(svc, stableImage, serviceAccount);
  const canaryTemplate = svc.canary ? revisionTemplate(svc, svc.canary.image, serviceAccount) : undefined;
  const plan: ReleasePlan = planRelease(svc, {
    stable: revisionName(svc.name, stableTemplate),
    canary: canaryTemplate && revisionName(svc.name, canaryTemplate),
  });
  return {
    plan,
    template: plan.templateRelease === "canary" && canaryTemplate ? canaryTemplate : stableTemplate,
  };
}
