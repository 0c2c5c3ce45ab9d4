import { servicePlan } from "../../model/release/servicePlan";
import { describeProblem, secretsProviderProblem } from "../../model/secretsProvider";
import { readSecretsProviderLines } from "../../render/stackFile";
import type { RenderedResource } from "../../render/renderStack";
import { color, printJson, projectDir, table } from "../output";
import { withProgress } from "../progress";
import { loadValidStack } from "../stackEditor";
import { describeService } from "../trafficView";
import { checkGuardrails, describeGuardrails, enforceGuardrails } from "./guardrails";

export async function runPlan(opts: { stack: string; json?: boolean; policy?: boolean }): Promise<void> {
  const dir = projectDir();
  // Before the Pulumi SDK loads: a missing stack or a config error is reported at once. The stack file
  // is read once; the render and the guardrails take it from here.
  const { config, warnings, file } = loadValidStack(dir, opts.stack);
  const rendered = await withProgress(`Rendering stack ${opts.stack} offline`, () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use: it brings in the Pulumi SDK
    const { renderStack } = require("../../render/renderStack") as typeof import("../../render/renderStack");
    return renderStack({ dir, stack: opts.stack, config: file });
  });
  const guardrails = checkGuardrails(dir, config, rendered.resources, file);
  if (opts.json) {
    const { violations, skipped } = guardrails;
    printJson({
      stack: rendered.stack,
      resources: rendered.resources,
      outputs: rendered.outputs,
      violations,
      skipped,
    });
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
  const secrets = secretsProviderProblem(
    config.stack,
    readSecretsProviderLines(dir, config.stack),
    config.cicd?.secretsKey,
    // A gs:// state bucket falls back to a passphrase; Pulumi Cloud keeps secrets itself.
    !config.cicd?.stateBucket,
  );
  for (const w of new Set([
    ...warnings,
    ...rendered.warnings,
    ...(secrets ? [describeProblem(secrets)] : []),
  ]))
    lines.push(color.yellow(`warning: ${w}`));
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
