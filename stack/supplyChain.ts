import { BinaryAuthorization } from "../components/supplychain/binaryAuthorization";
import type { StackConfig } from "../model/types";

/**
 * Binary Authorization (the attestor, its KMS key and the project's policy), when the stack requires it;
 * declared before the services, which require the policy. Undefined otherwise.
 */
export function declareAdmission(config: StackConfig): BinaryAuthorization | undefined {
  const settings = config.binaryAuthorization;
  if (!settings?.enabled) return undefined;
  return new BinaryAuthorization("binauthz", {
    project: config.project,
    settings,
    stack: config.stack,
    labels: { ...config.labels, "managed-by": "pulumi", "pulumi-stack": config.stack },
  });
}
