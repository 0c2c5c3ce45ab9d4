import { canaryPercent, deletionProtection, imageDigest, minInstances, publicInvoker } from "./cloudrun";
import { balancerIngress } from "./loadBalancer";
import { serviceObservability } from "./observability";
import { pushSubscriptions, topicPublishers } from "./queues";
import { binaryAuthorization, registryScanning } from "./supplyChain";
import { noPlaintextSecrets, noServiceAccountKeys, pinnedActions, secretConfig } from "./security";
import type { Rule } from "./types";

export * from "../../model/policy";
export * from "./types";
export { UNKNOWN, normalizeUnknowns } from "./values";

/** Every guardrail, in the order they are reported. */
export const RULES: readonly Rule[] = [
  publicInvoker,
  deletionProtection,
  minInstances,
  imageDigest,
  serviceObservability,
  canaryPercent,
  balancerIngress,
  noServiceAccountKeys,
  pinnedActions,
  noPlaintextSecrets,
  secretConfig,
  pushSubscriptions,
  topicPublishers,
  binaryAuthorization,
  registryScanning,
];
