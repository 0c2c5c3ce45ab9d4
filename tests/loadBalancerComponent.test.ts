import { strict as assert } from "node:assert";
import type { RenderedStack } from "../render/renderStack";
import { listStacks, readStackConfig } from "../render/stackFile";
import {
  baseConfig,
  byName,
  digest,
  REPO,
  renderRepoStack,
  renderWithConfig,
  ROOT,
  withServingCanary,
} from "./support/render";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

const KEY = "ai-orchestra:loadBalancer";
const isBalancer = (type: string) =>
  type.startsWith("gcp:compute/") || type.startsWith("ai-orchestra:loadbalancer:");

/** baseConfig's api with a canary at 10%, public, behind a balancer. */
function canaryConfig(lb: unknown): Record<string, string> {
  return withServingCanary(
    baseConfig({ allowUnauthenticated: true }, { [KEY]: lb }),
    `${REPO}@${digest("canary")}`,
    10,
  );
}

describe("GlobalLoadBalancer in the stack program", () => {
  // What the balancer declares from its args: tests/components/globalLoadBalancer.test.ts.
  describe("for a public service with a canary", () => {
    let r: RenderedStack;
    before(async () => {
      r = await renderWithConfig(
        "prod",
        canaryConfig({
          services: { api: { domains: ["api.example.com", "www.example.com"] } },
          armor: { owasp: ["sqli", "xss"], sensitivity: 2, rateLimit: { requestsPerMinute: 300 } },
        }),
      );
    });

    it("is one component, with every balancer resource under it (which ones: tests/components)", () => {
      assert.equal(byName(r, "lb").type, "ai-orchestra:loadbalancer:GlobalLoadBalancer");
      const children = r.resources.filter((x) => x.type.startsWith("gcp:compute/"));
      assert.ok(
        children.some((c) => c.name === "lb-api-canary-backend"),
        "the canary backend",
      );
      for (const c of children) assert.equal(c.parent, "lb", c.name);
    });

    it("exports the address, each service's URL and the canary header", () => {
      const out = r.outputs.loadBalancer as Json;
      assert.match(out.ipAddress, /^203\.0\.113\.\d+$/);
      assert.deepEqual(out.urls, { api: "https://api.example.com" });
      assert.equal(out.canaryHeader, "X-Orchestra-Release: canary");
    });
  });

  describe("stacks without it render as before", () => {
    it("dev and staging declare no balancer and export none", async () => {
      for (const stack of listStacks(ROOT).filter((s) => s !== "prod")) {
        assert.equal(readStackConfig(ROOT, stack).flat[KEY], "{}", `${stack} uses Pulumi.yaml's default`);
        const r = await renderRepoStack(stack);
        assert.deepEqual(
          r.resources.filter((x) => isBalancer(x.type)),
          [],
          stack,
        );
        assert.ok(!("loadBalancer" in r.outputs), stack);
      }
    });

    it("adding the balancer to prod adds its resources, and changes only ingress, the uptime check and the deployer's roles", async () => {
      const flat = readStackConfig(ROOT, "prod").flat;
      assert.ok(flat[KEY] !== "{}", "Pulumi.prod.yaml declares a balancer");
      const withLb = await renderWithConfig("prod", flat);
      const without = await renderWithConfig("prod", { ...flat, [KEY]: "{}" });
      const others = withLb.resources.filter((x) => !isBalancer(x.type));
      assert.ok(withLb.resources.length > others.length);
      const before = new Map(without.resources.map((r) => [r.name, r]));
      const changed: string[] = [];
      for (const r of others) {
        const old = before.get(r.name);
        if (!old) changed.push(`+ ${r.name}`);
        else if (JSON.stringify(old.inputs) !== JSON.stringify(r.inputs)) changed.push(`~ ${r.name}`);
        before.delete(r.name);
      }
      assert.deepEqual([...before.keys()], [], "nothing is removed");
      assert.deepEqual(changed.sort(), [
        "+ delivery-deployer-compute-loadbalanceradmin",
        "+ delivery-deployer-compute-securityadmin",
        "~ api-alerts-uptime-check",
        "~ api-europe-west4-service",
        "~ api-service",
        "~ delivery-deployer-project-iam-admin",
      ]);
      // Nothing bypasses the balancer, and the uptime check goes through it.
      for (const name of ["api-service", "api-europe-west4-service"]) {
        const svc = others.find((r) => r.name === name);
        assert.equal(svc?.inputs.ingress, "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER");
        const old = without.resources.find((r) => r.name === name)?.inputs;
        assert.deepEqual(omit(svc?.inputs, "ingress"), omit(old, "ingress"), `${name}: only ingress changes`);
      }
      const uptime = others.find((r) => r.name === "api-alerts-uptime-check")?.inputs.monitoredResource as {
        labels: { host: string };
      };
      assert.equal(uptime.labels.host, "api.ai-orchestra.example");
      const { loadBalancer, serviceEndpoints, ...rest } = withLb.outputs;
      const { serviceEndpoints: endpointsBefore, ...restBefore } = without.outputs;
      assert.ok(loadBalancer);
      assert.deepEqual(rest, restBefore);
      const api = (serviceEndpoints as Record<string, Record<string, unknown>>).api;
      assert.deepEqual(api.loadBalancer, {
        url: "https://api.ai-orchestra.example",
        canaryHeader: { name: "X-Orchestra-Release", value: "canary" },
      });
      assert.deepEqual(omit(api, "loadBalancer"), (endpointsBefore as Record<string, unknown>).api);
    });
  });
});

/** A copy of an object without one key. */
function omit(value: Record<string, unknown> | undefined, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([k]) => k !== key));
}
