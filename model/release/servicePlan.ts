import { desiredState } from "./desiredState";
import type { ReleasePlan } from "./traffic";
import { runtimeAccountId, serviceAccountEmail } from "../identity";
import type { ServiceConfig, StackConfig } from "../types";

/** Where a service's release stands. */
export type CanaryState = "stable" | "staged" | "canary" | "dark-launch" | "rolled-back";

export interface ServicePlan {
  readonly service: ServiceConfig;
  readonly state: CanaryState;
  /** Undefined when the stable image is built at deploy time (dev), so its revision is not known yet. */
  readonly plan?: ReleasePlan;
}

export function canaryState(service: ServiceConfig): CanaryState {
  const canary = service.canary;
  if (!canary) return "stable";
  if (canary.phase !== "serving") return canary.phase;
  return canary.percent === 0 ? "dark-launch" : "canary";
}

/** The runtime identity's email: part of every revision template, so part of every revision name. */
export const runtimeEmail = (config: StackConfig, service: ServiceConfig) =>
  serviceAccountEmail(runtimeAccountId(service.name), config.project);

/** The same template and traffic decision the program makes, computed from config alone. */
export function servicePlan(config: StackConfig, service: ServiceConfig): ServicePlan {
  const state = canaryState(service);
  if (!service.stable.image) return { service, state };
  return {
    service,
    state,
    plan: desiredState(service, service.stable.image, runtimeEmail(config, service)).plan,
  };
}
