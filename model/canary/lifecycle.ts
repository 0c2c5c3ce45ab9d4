import { PROJECT, type StackConfig } from "../types";
import type { Edit } from "./edits";
import { servicePlan } from "../release/servicePlan";

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
 * Starts a canary: the new image takes `percent`, stable keeps the rest. The stable revision is pinned
 * so that settings edited while the canary runs cannot move stable traffic to a revision that does not exist.
 */
export function startCanary(
  config: StackConfig,
  name: string,
  image: string,
  percent = DEFAULT_CANARY_PERCENT,
): Edit[] {
  const service = findService(config, name);
  checkPercent(percent);
  if (service.canary && !service.canary.rolledBack) {
    throw new CanaryRuleError(
      `Service "${name}" already has a canary (${service.canary.image} at ${service.canary.percent}%). ` +
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
  const pinned =
    service.stable.revision ?? servicePlan(config, { ...service, canary: undefined }).plan?.templateRevision;
  const edits: Edit[] = [
    { op: "set", path: servicePath(name, "canary"), value: { image, percent }, after: "stable" },
  ];
  if (pinned && !service.stable.revision)
    edits.push({ op: "set", path: servicePath(name, "stable", "revision"), value: pinned });
  return edits;
}

/** Moves the canary to `percent`: a traffic-only change, no new revision. Clears a rollback. */
export function setCanaryPercent(config: StackConfig, name: string, percent: number): Edit[] {
  const service = findService(config, name);
  checkPercent(percent);
  if (!service.canary) {
    throw new CanaryRuleError(
      `Service "${name}" has no canary to set. Start one: \`orchestra canary start ${name} --image REPOSITORY@sha256:DIGEST --stack ${config.stack}\`.`,
    );
  }
  const edits: Edit[] = [{ op: "set", path: servicePath(name, "canary", "percent"), value: percent }];
  if (service.canary.rolledBack)
    edits.push({ op: "delete", path: servicePath(name, "canary", "rolledBack") });
  return edits;
}

/** Makes the canary the stable release at 100%. Its revision already exists, so none is created. */
export function promoteCanary(config: StackConfig, name: string): Edit[] {
  const service = findService(config, name);
  if (!service.canary) throw new CanaryRuleError(`Service "${name}" has no canary to promote.`);
  if (service.canary.rolledBack) {
    throw new CanaryRuleError(
      `The canary of "${name}" was rolled back. To retry it, give it traffic first ` +
        `(\`orchestra canary set ${name} PERCENT --stack ${config.stack}\`), or start a new canary.`,
    );
  }
  return [
    { op: "set", path: servicePath(name, "stable", "image"), value: service.canary.image },
    { op: "delete", path: servicePath(name, "stable", "revision") },
    { op: "delete", path: servicePath(name, "canary") },
  ];
}

/**
 * Sends all traffic back to stable. The template keeps the canary (reverting it would ask Cloud Run
 * for a new revision of the old release), and the canary stays reachable at its tag with 0%.
 * Returns no edits when the canary is already rolled back.
 */
export function rollbackCanary(config: StackConfig, name: string): Edit[] {
  const service = findService(config, name);
  if (!service.canary)
    throw new CanaryRuleError(`Service "${name}" has no canary to roll back; stable already serves 100%.`);
  if (service.canary.rolledBack) return [];
  return [
    { op: "set", path: servicePath(name, "canary", "percent"), value: 0 },
    { op: "set", path: servicePath(name, "canary", "rolledBack"), value: true },
  ];
}
