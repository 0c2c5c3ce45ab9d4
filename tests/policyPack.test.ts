import * as assert from "node:assert/strict";
import * as path from "node:path";
import type {
  Policies,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { unknownCheckingProxy } from "@pulumi/policy";
import { buildPolicies, type PackContext } from "../policy/pack";
import { loadPackContext, projectAbove } from "../policy/packContext";
import { RULE_IDS } from "../policy/rules";
import { resolvePolicy } from "../config/policy";
import { readStackConfig } from "../render/stackFile";
import { ROOT } from "./support/render";

/** @pulumi/policy's sentinel for a string unknown during preview (proxy.ts). */
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const prodContext: PackContext = {
  ok: true,
  ctx: {
    stack: "prod",
    environment: "prod",
    maxCanaryPercent: 50,
    publicServices: ["api"],
    plainSecretConfig: [],
  },
  levels: resolvePolicy(undefined, "prod").levels,
};

class NotApplicable extends Error {}

/** Calls a policy the way the policy engine does, recording what it reports. */
function runPolicy(
  policies: Policies,
  name: string,
  resources: { type: string; name: string; props: object }[],
) {
  const policy = policies.find((p) => p.name === name);
  if (!policy) throw new Error(`no policy ${name}`);
  const reported: { message: string; urn?: string }[] = [];
  let notApplicable: string | undefined;
  const reportViolation = (message: string, urn?: string) =>
    reported.push({ message, ...(urn ? { urn } : {}) });
  const stop = (reason?: string): never => {
    notApplicable = reason;
    throw new NotApplicable(reason);
  };
  const wrap = (r: { type: string; name: string; props: object }) => ({
    ...r,
    urn: `urn:pulumi:prod::ai-orchestra::${r.type}::${r.name}`,
    // The engine hands policies props behind a proxy that throws on unknown values.
    props: unknownCheckingProxy(r.props) as Record<string, unknown>,
  });
  try {
    if ("validateStack" in policy) {
      const args = { resources: resources.map(wrap), notApplicable: stop } as unknown as StackValidationArgs;
      (policy as StackValidationPolicy).validateStack(args, reportViolation);
    } else {
      for (const r of resources) {
        const args = { ...wrap(r), notApplicable: stop } as unknown as ResourceValidationArgs;
        const validate = (policy as ResourceValidationPolicy).validateResource;
        if (typeof validate === "function") void validate(args, reportViolation);
      }
    }
  } catch (e) {
    if (!(e instanceof NotApplicable)) throw e;
  }
  return { reported, notApplicable, level: policy.enforcementLevel };
}

const service = (props: Record<string, unknown>) => ({
  type: "gcp:cloudrunv2/service:Service",
  name: "api-service",
  props: {
    name: "api",
    scaling: { minInstanceCount: 1 },
    template: { containers: [{ image: "x:latest" }] },
    ...props,
  },
});

describe("the policy pack", () => {
  it("has one policy per rule, at the stack's levels", () => {
    const policies = buildPolicies(() => prodContext);
    assert.deepEqual(
      policies.map((p) => p.name),
      [...RULE_IDS],
    );
    assert.ok(policies.every((p) => p.enforcementLevel === "mandatory"));
    const dev = buildPolicies(() => ({ ...prodContext, levels: resolvePolicy(undefined, "dev").levels }));
    assert.ok(dev.every((p) => p.enforcementLevel === "advisory"));
  });

  it("reports a resource rule's violation with its fix and the resource's URN", () => {
    const { reported } = runPolicy(
      buildPolicies(() => prodContext),
      "image-digest",
      [service({})],
    );
    assert.deepEqual(reported, [
      {
        message:
          "api runs x:latest, a tag: what runs can change without a deploy.\nFix: deploy `REPOSITORY@sha256:DIGEST` (the digest CI printed after the push).",
        urn: "urn:pulumi:prod::ai-orchestra::gcp:cloudrunv2/service:Service::api-service",
      },
    ]);
  });

  it("skips, saying why, on a value unknown during preview (the engine's sentinel)", () => {
    const unknown = service({ template: { containers: [{ image: UNKNOWN_STRING }] } });
    const { reported, notApplicable } = runPolicy(
      buildPolicies(() => prodContext),
      "image-digest",
      [unknown],
    );
    assert.deepEqual(reported, []);
    assert.equal(notApplicable, "skipped: template.containers.0.image is unknown until the update runs");
  });

  it("runs stack rules over every resource", () => {
    const { reported } = runPolicy(
      buildPolicies(() => prodContext),
      "service-observability",
      [service({})],
    );
    assert.equal(reported.length, 1);
    assert.match(reported[0].message, /^api is missing a dashboard, an alert policy that pages/);
  });

  it("says a prod-only rule does not apply elsewhere, and never blocks without the stack's config", () => {
    const dev = buildPolicies(() => ({ ...prodContext, ctx: { ...prodContext.ctx, environment: "dev" } }));
    assert.match(
      runPolicy(dev, "min-instances", [service({ template: { containers: [] } })]).notApplicable ?? "",
      /applies in prod stacks; this is dev/,
    );
    const blind = buildPolicies(() => ({ ok: false, reason: "the stack is unknown" }));
    const out = runPolicy(blind, "image-digest", [service({})]);
    assert.equal(out.level, "advisory");
    assert.equal(out.notApplicable, "the stack is unknown");
  });

  it("reads the stack under preview from what Pulumi hands the pack", () => {
    const file = readStackConfig(ROOT, "prod");
    const pack = loadPackContext(
      { PULUMI_NODEJS_STACK: "prod", PULUMI_CONFIG: JSON.stringify(file.flat) },
      ROOT,
    );
    assert.ok(pack.ok);
    assert.equal(pack.ctx.environment, "prod");
    assert.deepEqual(pack.ctx.publicServices, ["api"]);
    assert.deepEqual(pack.ctx.plainSecretConfig, []);
    assert.equal(pack.levels["image-digest"], "mandatory");
    assert.deepEqual(loadPackContext({}, ROOT), {
      ok: false,
      reason: "the stack is unknown (PULUMI_STACK is not set)",
    });
  });

  it("finds the project above it from its sources and from its compiled build", () => {
    assert.equal(projectAbove(path.join(ROOT, "policy")), ROOT);
    assert.equal(projectAbove(path.join(ROOT, "policy", "build", "policy")), ROOT);
  });
});
