import { LocalWorkspace } from "@pulumi/pulumi/automation";
import type { PulumiDriver } from "./ports";

/**
 * The production Pulumi driver: the Automation API on this project folder. The stack file has already
 * been edited (through cli/stackEditor.ts, so comments survive); `up` reads it like the CLI would.
 */
export class AutomationPulumiDriver implements PulumiDriver {
  constructor(private readonly workDir: string) {}

  async up(stackName: string, onOutput: (line: string) => void): Promise<Record<string, unknown>> {
    const stack = await LocalWorkspace.selectStack({ stackName, workDir: this.workDir });
    const result = await stack.up({ onOutput });
    return Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value as unknown]));
  }
}
