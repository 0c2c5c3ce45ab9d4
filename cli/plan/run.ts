import { servicePlan } from "../../model/release/servicePlan";
import type { RenderedResource } from "../../render/renderStack";
import { color, projectDir, table } from "../output";
import { describeService } from "../trafficView";
import { validateAhead } from "./validateAhead";

export async function runPlan(opts: { stack: string; json?: boolean; policy?: boolean }): Promise<void> {
  const dir = projectDir();
  // The stack file is read and validated on another thread while this one loads the Pulumi SDK (only
  // needed to render). It is read once: the render and the guardrails take it from here.
  const ahead = validateAhead(dir, opts.stack);
  // Awaited below, once the SDK has loaded; an error that comes first is not an unhandled rejection.
  ahead.catch(() => undefined);
  const { renderStack } = await import("../../render/renderStack");
  const { config, warnings, file } = await ahead;
  const rendered = await renderStack({ dir, stack: opts.stack, config: file });
  const { checkGuardrails, describeGuardrails, enforceGuardrails } = await import("./guardrails");
  const guardrails = checkGuardrails(dir, config, rendered.resources, file);
  if (opts.json) {
    const { violations, skipped } = guardrails;
    process.stdout.write(
      `${JSON.stringify({ stack: rendered.stack, resources: rendered.resources, outputs: rendered.outputs, violations, skipped }, null, 2)}\n`,
    );
    if (opts.policy) enforceGuardrails(config.stack, guardrails);
    return;
  }
  const lines = [
    `${color.bold(`Stack ${config.stack}`)}  ${config.environment}, project ${config.project}, ${config.regions.length > 1 ? `regions ${config.regions.join(", ")}` : `region ${config.region}`}: ${rendered.resources.length} resources`,
    "",
  ];
  for (const service of config.services) lines.push(describeService(servicePlan(config, service)), "");
  lines.push(color.bold("Resources"), resourceTree(rendered.resources), "");
  lines.push(describeGuardrails(guardrails), "");
  for (const w of new Set([...warnings, ...rendered.warnings])) lines.push(color.yellow(`warning: ${w}`));
  lines.push(`Next: ${color.cyan(`pulumi preview -s ${config.stack}`)} to compare with what is deployed.`);
  process.stdout.write(`${lines.join("\n")}\n`);
  if (opts.policy) enforceGuardrails(config.stack, guardrails);
}

/** Resources indented under their parents, in declaration order. */
function resourceTree(resources: readonly RenderedResource[]): string {
  const children = new Map<string | undefined, RenderedResource[]>();
  const names = new Set(resources.map((r) => r.name));
  for (const r of resources) {
    const parent = r.parent && names.has(r.parent) ? r.parent : undefined;
    children.set(parent, [...(children.get(parent) ?? []), r]);
  }
  const rows: string[][] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const r of children.get(parent) ?? []) {
      rows.push([`${"  ".repeat(depth)}${r.name}`, r.type]);
      walk(r.name, depth + 1);
    }
  };
  walk(undefined, 0);
  return table(rows);
}
