import { LocalWorkspace } from "@pulumi/pulumi/automation";
import type { PulumiDriver, UpRequest } from "./ports";

/**
 * The production Pulumi driver: the Automation API on the step's work folder (see workDir.ts). The CLI
 * runs there, so it reads Pulumi.yaml and the edited `Pulumi.<stack>.yaml` copy from it, as it would
 * from the project; the stack must already exist.
 */
export class AutomationPulumiDriver implements PulumiDriver {
  async up({ stack: stackName, workDir, onOutput }: UpRequest): Promise<Record<string, unknown>> {
    const stack = await LocalWorkspace.selectStack({ stackName, workDir });
    const result = await stack.up({ onOutput });
    return Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value as unknown]));
  }
}
