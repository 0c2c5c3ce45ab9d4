import * as assert from "node:assert/strict";
import { fromRendered, ruleContext } from "../policy/context";
import { RULES } from "../policy/rules";
import { evaluate, type PolicyReport } from "../policy/rules/run";
import { listStacks, readStackConfig } from "../render/stackFile";
import { renderWithConfig, ROOT, validate } from "./support/render";

/** Renders a stack from a config map and runs every guardrail over it, as `orchestra plan --policy` does. */
async function guard(
  stack: string,
  flat: Record<string, string>,
  secretKeys: string[],
): Promise<PolicyReport> {
  const valid = validate(stack, flat);
  if (!valid.ok) throw new Error(JSON.stringify(valid.issues, null, 2));
  const rendered = await renderWithConfig(stack, flat, secretKeys);
  return evaluate(
    RULES,
    fromRendered(rendered.resources),
    ruleContext(valid.config, { flat, secretKeys }),
    valid.config.policy.levels,
  );
}

describe("guardrails over whole stacks", function () {
  for (const stack of listStacks(ROOT)) {
    it(`${stack}: the stack file passes every rule`, async () => {
      const file = readStackConfig(ROOT, stack);
      const report = await guard(stack, file.flat, file.secretKeys);
      assert.deepEqual(report.violations, []);
      assert.deepEqual(report.skipped, []);
    });
  }

  it("a deliberately bad prod stack fails with exactly the expected violations", async () => {
    const file = readStackConfig(ROOT, "prod");
    const services = JSON.parse(file.flat["ai-orchestra:services"]);
    services.worker = {
      ...services.worker,
      ingress: "all",
      allowUnauthenticated: true, // public, but no healthCheckPath: nothing checks it is up
      deletionProtection: false,
      scaling: { ...services.worker.scaling, minInstances: 0 },
      env: { API_TOKEN: "not-a-secret-manager-reference" },
    };
    const flat = {
      ...file.flat,
      "ai-orchestra:services": JSON.stringify(services),
      "ai-orchestra:policy": JSON.stringify({ maxCanaryPercent: 5 }), // prod's api canary is at 10%
      "ai-orchestra:slackToken": "xoxb-1111111111-plaintext", // set without --secret
    };
    const report = await guard("prod", flat, file.secretKeys);
    assert.deepEqual(
      report.violations.map((v) => [v.rule, v.resource, v.level]),
      [
        ["deletion-protection", "worker-service", "mandatory"],
        ["min-instances", "worker-service", "mandatory"],
        ["service-observability", "worker-service", "mandatory"],
        // prod runs api in two regions: each region's service carries the canary.
        ["canary-percent", "api-service", "mandatory"],
        ["canary-percent", "api-europe-west4-service", "mandatory"],
        ["no-plaintext-secrets", "worker-service", "mandatory"],
        ["secret-config", "prod", "mandatory"],
      ],
    );
    assert.equal(report.failed, true);
    assert.deepEqual(
      report.violations.map((v) => v.message),
      [
        "worker has deletionProtection: false in prod.",
        "worker scales to 0 instances in prod: the first request after idle waits for a cold start.",
        "worker is missing an uptime check.",
        "api's canary takes 10% of traffic; this stack allows at most 5%.",
        "api's canary takes 10% of traffic; this stack allows at most 5%.",
        "worker's env API_TOKEN (container 0) is named like a secret but has a plain value.",
        "Pulumi.prod.yaml: ai-orchestra:slackToken is a secret set in plain text; it is in git for anyone to read.",
      ],
    );
  });
});
