import type { StackConfig } from "../../model/types";
import { fromRendered, ruleContext } from "../../policy/context";
import { RULES } from "../../policy/rules";
import { evaluate, type PolicyReport } from "../../policy/rules/run";
import type { RenderedResource } from "../../render/renderStack";
import { readStackConfig, type StackConfigFile } from "../../render/stackFile";
import { color, CliError } from "../output";

/**
 * The guardrails over an offline render: the same rule functions the policy pack runs under `pulumi
 * preview`. `file` is the stack file the render used, read again when not given.
 */
export function checkGuardrails(
  dir: string,
  config: StackConfig,
  resources: readonly RenderedResource[],
  file: StackConfigFile = readStackConfig(dir, config.stack),
): PolicyReport {
  return evaluate(RULES, fromRendered(resources), ruleContext(config, file), config.policy.levels);
}

/** Violations as the plan prints them: level, rule and resource, then the message and the fix. */
export function describeGuardrails(report: PolicyReport): string {
  if (report.violations.length === 0 && report.skipped.length === 0)
    return `${color.bold("Guardrails")}\n  ${color.green("ok")}  every rule passes`;
  const lines = [color.bold("Guardrails")];
  for (const v of report.violations) {
    const level = v.level === "mandatory" ? color.red("MANDATORY") : color.yellow("advisory ");
    lines.push(`  ${level}  ${v.rule}  ${v.resource}`, `    ${v.message}`, `    Fix: ${v.fix}`);
  }
  for (const s of report.skipped) lines.push(`  skipped    ${s.rule}  ${s.resource}: ${s.reason}`);
  return lines.join("\n");
}

/** `--policy`: a mandatory violation fails the command. */
export function enforceGuardrails(stack: string, report: PolicyReport): void {
  const mandatory = report.violations.filter((v) => v.level === "mandatory").length;
  if (mandatory > 0)
    throw new CliError(
      `${mandatory} mandatory guardrail violation${mandatory === 1 ? "" : "s"} in stack ${stack}; each is listed with its fix (docs/guardrails.md).`,
    );
}
