import type { StackConfig } from "../model/types";
import type { RenderedResource } from "../render/renderStack";
import { SECRET_STAND_IN, type StackConfigFile } from "../render/stackFile";
import { plainSecretConfig } from "./rules/security";
import type { PolicyResource, RuleContext } from "./rules/types";

/** What the rules need to know about a stack, from its validated config and (when read) its stack file. */
export function ruleContext(
  config: StackConfig,
  stackFile?: Pick<StackConfigFile, "flat" | "secretKeys">,
): RuleContext {
  return {
    stack: config.stack,
    environment: config.environment,
    maxCanaryPercent: config.policy.maxCanaryPercent,
    publicServices: config.services.filter((s) => s.allowUnauthenticated).map((s) => s.name),
    ...(stackFile
      ? { plainSecretConfig: plainSecretConfig(stackFile.flat, stackFile.secretKeys, SECRET_STAND_IN) }
      : {}),
  };
}

/** The offline render's resources in the rules' shape: inputs are what the engine's policies see as props. */
export function fromRendered(resources: readonly RenderedResource[]): PolicyResource[] {
  return resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
}
