import * as fs from "node:fs";
import * as path from "node:path";
import { validateStackConfig } from "../config/validate";
import { readStackConfig } from "../render/stackFile";
import { ruleContext } from "./context";
import type { PackContext } from "./pack";

/**
 * The stack under preview, as the policy pack sees it. Pulumi starts the pack with the stack's name and
 * its config (`PULUMI_NODEJS_STACK`, `PULUMI_CONFIG`; secrets decrypted, so never printed here). Which
 * values are `secure:` is known only from the stack file, read from the project folder above the pack.
 */
export function loadPackContext(
  env: Readonly<Record<string, string | undefined>> = process.env,
  projectDir = projectAbove(__dirname),
): PackContext {
  const stack = env.PULUMI_NODEJS_STACK ?? env.PULUMI_STACK;
  if (!stack) return { ok: false, reason: "the stack is unknown (PULUMI_STACK is not set)" };
  let flat: Record<string, string>;
  try {
    flat = JSON.parse(env.PULUMI_CONFIG ?? "{}") as Record<string, string>;
  } catch {
    return { ok: false, reason: "the stack's config (PULUMI_CONFIG) is not JSON" };
  }
  const result = validateStackConfig(stack, flat);
  if (!result.ok) {
    return {
      ok: false,
      reason: `the config of stack ${stack} is invalid (${result.issues.length} issue(s)); \`orchestra plan --stack ${stack}\` lists them`,
    };
  }
  let stackFile;
  try {
    stackFile = readStackConfig(projectDir, stack);
  } catch {
    stackFile = undefined;
  }
  return { ok: true, ctx: ruleContext(result.config, stackFile), levels: result.config.policy.levels };
}

/**
 * The nearest folder holding Pulumi.yaml, from `dir` up: the project above the pack, whether this runs
 * from policy/ (tests) or from the pack's compiled build/ (`pulumi preview --policy-pack policy`).
 */
export function projectAbove(dir: string): string {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    if (fs.existsSync(path.join(at, "Pulumi.yaml"))) return at;
    if (path.dirname(at) === at) return path.resolve(dir, "..");
  }
}
