import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { checkGuardrails } from "../../cli/plan/guardrails";
import { loadValidStack } from "../../cli/stackEditor";
import { validateStackConfig } from "../../config/validate";
import { RULES } from "../../policy/rules";
import type { PolicyReport } from "../../policy/rules/run";
import { readStackConfig } from "../../render/stackFile";
import {
  analyzePreview,
  cliConfig,
  describeProgramRun,
  ensurePolicyPackBuilt,
  runProgram,
  startPolicyPack,
  urnName,
  type CliConfig,
  type PackVerdicts,
  type ProgramRun,
  type RegisteredResource,
} from "../support/pulumiEngine";
import { renderRepoStack, renderWithConfig, ROOT } from "../support/render";

const PROJECT = "ai-orchestra";
const STACKS = ["dev", "staging", "prod"] as const;

/**
 * Prod with three rules broken on purpose: the worker without deletion protection and scaled to zero,
 * and the api's canary above a lowered `maxCanaryPercent`, with min-instances made advisory.
 */
function brokenProd(): CliConfig {
  const prod = cliConfig(ROOT, "prod");
  const services = JSON.parse(prod.flat["ai-orchestra:services"]) as Record<string, Record<string, never>>;
  services.worker = { ...services.worker, deletionProtection: false as never };
  services.worker.scaling = { ...(services.worker.scaling as object), minInstances: 0 } as never;
  services.api.canary = { ...(services.api.canary as object), percent: 70 } as never;
  return {
    flat: {
      ...prod.flat,
      "ai-orchestra:services": JSON.stringify(services),
      "ai-orchestra:policy": JSON.stringify({ maxCanaryPercent: 50, rules: { "min-instances": "advisory" } }),
    },
    secretKeys: prod.secretKeys,
  };
}

// Each program runs once per worker, one at a time: a run keeps a core busy for seconds, and the
// other worker's tests share the machine.
const runs = new Map<string, Promise<ProgramRun>>();
let lastRun: Promise<unknown> = Promise.resolve();
function programRun(
  stack: string,
  config: CliConfig = cliConfig(ROOT, stack),
  key = stack,
): Promise<ProgramRun> {
  let run = runs.get(key);
  if (!run) {
    run = lastRun
      .catch(() => undefined)
      .then(() => runProgram({ dir: ROOT, project: PROJECT, stack, config }));
    runs.set(key, run);
    lastRun = run;
  }
  return run;
}

/** `type name < parent`, the parent being absent for what the stack itself holds. */
function tree(resources: readonly { type: string; name: string; parent?: string }[]): string[] {
  return resources.map((r) => `${r.type} ${r.name} < ${r.parent ?? "(stack)"}`).sort();
}

function registeredTree(run: ProgramRun): string[] {
  const stack = run.engine.resources.find((r) => r.type === "pulumi:pulumi:Stack");
  return tree(
    run.engine.resources
      .filter((r) => r !== stack)
      .map((r) => ({
        type: r.type,
        name: r.name,
        ...(r.parentUrn && r.parentUrn !== stack?.urn ? { parent: urnName(r.parentUrn) } : {}),
      })),
  );
}

/**
 * A violation as both report it: level, rule, resource, and the message with its fix, under the rule's
 * description (@pulumi/policy puts the policy's description first in every message it reports).
 */
function planViolations(report: PolicyReport): string[] {
  const description = (id: string) => RULES.find((r) => r.id === id)?.description;
  return report.violations
    .map((v) => `${v.level} ${v.rule} ${v.resource}: ${description(v.rule)}\n${v.message}\nFix: ${v.fix}`)
    .sort();
}

function packViolations(verdicts: PackVerdicts, stack: string): string[] {
  return verdicts.diagnostics
    .map((d) => `${d.level} ${d.policy} ${d.urn ? urnName(d.urn) : stack}: ${d.message}`)
    .sort();
}

/** The pack's not-applicable answers, once each, with how many resources gave them. */
function notApplicable(verdicts: PackVerdicts): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of verdicts.notApplicable) {
    const key = `${n.policy}: ${n.reason}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

/** What `orchestra plan --policy` reports for a stack file with this config, computed as it does. */
async function planReport(stack: string, config: CliConfig): Promise<PolicyReport> {
  const validated = validateStackConfig(stack, config.flat);
  assert.ok(validated.ok, "the config is valid");
  const file = { ...readStackConfig(ROOT, stack), flat: config.flat, secretKeys: [...config.secretKeys] };
  const rendered = await renderWithConfig(stack, config.flat, config.secretKeys);
  return checkGuardrails(ROOT, validated.config, rendered.resources, file);
}

/**
 * The resources of the offline render as the engine would hold them once known: the render's inputs,
 * under the URNs the real run gave the same resources.
 */
function knownResources(
  run: ProgramRun,
  rendered: readonly { type: string; name: string; inputs: object }[],
) {
  const byKey = new Map(run.engine.resources.map((r) => [`${r.type}::${r.name}`, r]));
  return rendered.map((r): RegisteredResource => {
    const registered = byKey.get(`${r.type}::${r.name}`);
    assert.ok(registered, `${r.type} ${r.name} was registered`);
    return { ...registered, inputs: r.inputs as Record<string, unknown> };
  });
}

/**
 * The program and the policy pack run as the Pulumi CLI runs them, against an engine and resource
 * monitor on 127.0.0.1 (tests/support/pulumiEngine.ts) that answer like the preview of a new stack.
 */
describe("the program under the Pulumi runtime, as `pulumi preview` runs it", function () {
  this.timeout(600_000);

  before(() => Promise.all(STACKS.map((s) => programRun(s))));

  for (const stack of STACKS) {
    describe(stack, () => {
      it("exits 0 and logs no warning or error through the engine", async () => {
        const run = await programRun(stack);
        assert.equal(run.code, 0, describeProgramRun(run));
        assert.deepEqual(run.engine.problems(), [], describeProgramRun(run));
      });

      it("registers the offline render's resources, each under the same parent", async () => {
        const [run, rendered] = await Promise.all([programRun(stack), renderRepoStack(stack)]);
        assert.deepEqual(registeredTree(run), tree(rendered.resources));
        const stacks = run.engine.resources.filter((r) => r.type === "pulumi:pulumi:Stack");
        assert.deepEqual(
          stacks.map((r) => r.name),
          [`${PROJECT}-${stack}`],
        );
        assert.equal(run.engine.rootUrn, stacks[0].urn, "the stack is the root resource");
      });

      it("exports the render's stack outputs, and only the outputs it has", async () => {
        const [run, rendered] = await Promise.all([programRun(stack), renderRepoStack(stack)]);
        assert.deepEqual(
          Object.keys(run.engine.stackOutputs() ?? {}).sort(),
          Object.keys(rendered.outputs).sort(),
        );
        assert.equal("loadBalancer" in (run.engine.stackOutputs() ?? {}), stack === "prod");
      });

      it("asks the monitor only for the project number, and gets it", async () => {
        const run = await programRun(stack);
        assert.deepEqual(
          [...new Set(run.engine.invokes.map((i) => i.token))],
          ["gcp:organizations/getProject:getProject"],
        );
      });
    });
  }
});

describe("the policy pack, started as `pulumi preview --policy-pack policy` starts it", function () {
  this.timeout(600_000);

  before(() => ensurePolicyPackBuilt(ROOT));

  it("is compiled JavaScript whose package.json declares every package it imports", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "package.json"), "utf8")) as {
      main: string;
      dependencies: Record<string, string>;
    };
    assert.match(pkg.main, /\.js$/);
    const imported = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (file.endsWith(".js"))
          for (const [, spec] of fs.readFileSync(file, "utf8").matchAll(/require\("([^".][^"]*)"\)/g))
            if (!spec.startsWith("node:"))
              imported.add(
                spec
                  .split("/")
                  .slice(0, spec.startsWith("@") ? 2 : 1)
                  .join("/"),
              );
      }
    };
    walk(path.join(ROOT, "policy", path.dirname(path.dirname(pkg.main))));
    assert.deepEqual(
      [...imported].filter((p) => !(p in pkg.dependencies)),
      [],
    );
  });

  for (const stack of STACKS) {
    it(`${stack}: reports what \`orchestra plan --policy\` reports, skipping only what a new stack's preview cannot know`, async () => {
      const config = cliConfig(ROOT, stack);
      const run = await programRun(stack);
      assert.equal(run.code, 0, describeProgramRun(run));
      const { config: validated, file } = loadValidStack(ROOT, stack);
      const rendered = await renderRepoStack(stack);
      const plan = checkGuardrails(ROOT, validated, rendered.resources, file);

      const pack = await startPolicyPack({
        packDir: path.join(ROOT, "policy"),
        project: PROJECT,
        stack,
        config,
      });
      try {
        const info = await pack.info();
        assert.deepEqual(
          info.policies.map((p) => `${p.name} ${p.level}`),
          RULES.map((r) => `${r.id} ${validated.policy.levels[r.id]}`),
        );

        const preview = await analyzePreview(pack, run.engine.resources);
        assert.deepEqual(packViolations(preview, stack), planViolations(plan));
        for (const [reason] of notApplicable(preview)) {
          const rule = RULES.find((r) => reason.startsWith(`${r.id}: `));
          const elsewhere = rule?.environments && !rule.environments.includes(validated.environment);
          assert.ok(
            elsewhere
              ? reason.endsWith(`this is ${validated.environment}`)
              : / is unknown until the update runs$/.test(reason),
            reason,
          );
        }

        // Once every value is known (the render's inputs), the pack and the plan agree on skips too.
        const known = await analyzePreview(pack, knownResources(run, rendered.resources));
        assert.deepEqual(packViolations(known, stack), planViolations(plan));
        assert.deepEqual(
          [...notApplicable(known).keys()].filter((r) => !r.includes(" stacks; this is ")),
          [...new Set(plan.skipped.map((s) => `${s.rule}: ${s.reason}`))],
        );
      } finally {
        await pack.stop();
      }
    });
  }

  it("prod with rules broken: the same violations, at the same levels, as `orchestra plan --policy`", async () => {
    const config = brokenProd();
    const [run, plan] = await Promise.all([
      programRun("prod", config, "prod-broken"),
      planReport("prod", config),
    ]);
    assert.equal(run.code, 0, describeProgramRun(run));
    assert.deepEqual(plan.violations.map((v) => `${v.level} ${v.rule} ${v.resource}`).sort(), [
      "advisory min-instances worker-service",
      "mandatory canary-percent api-europe-west4-service",
      "mandatory canary-percent api-service",
      "mandatory deletion-protection worker-service",
    ]);
    const pack = await startPolicyPack({
      packDir: path.join(ROOT, "policy"),
      project: PROJECT,
      stack: "prod",
      config,
    });
    try {
      assert.deepEqual(
        packViolations(await analyzePreview(pack, run.engine.resources), "prod"),
        planViolations(plan),
      );
    } finally {
      await pack.stop();
    }
  });
});
