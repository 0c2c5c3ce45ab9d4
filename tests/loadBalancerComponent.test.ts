import { strict as assert } from "node:assert";
import * as path from "node:path";
import { renderStack, type RenderedStack } from "../render/renderStack";
import { listStacks, readStackConfig } from "../render/stackFile";
import {
  baseConfig,
  byName,
  digest,
  ofType,
  REPO,
  renderRepoStack,
  renderWithConfig,
  ROOT,
} from "./support/render";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

const KEY = "ai-orchestra:loadBalancer";
const inputs = (r: RenderedStack, name: string) => byName(r, name).inputs as Json;
const isBalancer = (type: string) =>
  type.startsWith("gcp:compute/") || type.startsWith("ai-orchestra:loadbalancer:");
const LABELS = { team: "orchestra", "managed-by": "pulumi", "pulumi-stack": "prod" };
const EVERYONE = { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } };

/** baseConfig's api with a canary at 10%, public, behind a balancer. */
function canaryConfig(lb: unknown): Record<string, string> {
  return baseConfig(
    {
      stable: { image: `${REPO}@${digest("stable")}`, revision: "api-aaaaaaaaaa" },
      canary: { image: `${REPO}@${digest("canary")}`, percent: 10 },
      allowUnauthenticated: true,
    },
    { [KEY]: lb },
  );
}

describe("GlobalLoadBalancer", () => {
  describe("in the stack program, for a service with a canary", () => {
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

    it("is one component with a three-part token, every resource under it", () => {
      assert.equal(byName(r, "lb").type, "ai-orchestra:loadbalancer:GlobalLoadBalancer");
      const children = r.resources.filter((x) => x.type.startsWith("gcp:compute/"));
      assert.deepEqual(children.map((x) => x.name).sort(), [
        "lb-address",
        "lb-api-backend",
        "lb-api-canary-backend",
        "lb-api-canary-neg-europe-west1",
        "lb-api-neg-europe-west1",
        "lb-armor",
        "lb-certificate",
        "lb-http-proxy",
        "lb-http-rule",
        "lb-https-proxy",
        "lb-https-rule",
        "lb-redirect-map",
        "lb-url-map",
      ]);
      for (const c of children) assert.equal(c.parent, "lb", c.name);
      // Autonamed (no `name` input): replacements create before they delete, without name clashes.
      for (const c of children) assert.equal(c.inputs.name, undefined, c.name);
    });

    it("a serverless NEG for the service, and one for its canary tag", () => {
      assert.deepEqual(inputs(r, "lb-api-neg-europe-west1"), {
        project: "proj-test",
        region: "europe-west1",
        networkEndpointType: "SERVERLESS",
        cloudRun: { service: "api" },
        description: "Cloud Run api in europe-west1.",
      });
      assert.deepEqual(inputs(r, "lb-api-canary-neg-europe-west1"), {
        project: "proj-test",
        region: "europe-west1",
        networkEndpointType: "SERVERLESS",
        cloudRun: { service: "api", tag: "canary" },
        description: "Cloud Run api (tag canary) in europe-west1.",
      });
    });

    it("backend services: global, EXTERNAL_MANAGED, Cloud Armor, logging, no health check", () => {
      for (const [name, neg, release] of [
        ["lb-api-backend", "lb-api-neg-europe-west1", "stable"],
        ["lb-api-canary-backend", "lb-api-canary-neg-europe-west1", "canary"],
      ]) {
        assert.deepEqual(inputs(r, name), {
          project: "proj-test",
          description: `api (${release}) behind the prod load balancer.`,
          loadBalancingScheme: "EXTERNAL_MANAGED",
          protocol: "HTTPS",
          backends: [{ group: `${neg}-id` }],
          securityPolicy: "lb-armor-id",
          logConfig: { enable: true, sampleRate: 1 },
        });
      }
    });

    it("the Cloud Armor policy from config", () => {
      const policy = inputs(r, "lb-armor");
      assert.equal(policy.type, "CLOUD_ARMOR");
      assert.deepEqual(policy.labels, LABELS);
      assert.deepEqual(
        policy.rules.map((x: Json) => [x.priority, x.action, x.match.expr?.expression ?? x.match]),
        [
          [1000, "deny(403)", "evaluatePreconfiguredWaf('sqli-v33-stable', {'sensitivity': 2})"],
          [1010, "deny(403)", "evaluatePreconfiguredWaf('xss-v33-stable', {'sensitivity': 2})"],
          [2000, "throttle", EVERYONE],
          [2147483647, "allow", EVERYONE],
        ],
      );
      assert.deepEqual(policy.rules[2].rateLimitOptions, {
        enforceOnKey: "IP",
        conformAction: "allow",
        exceedAction: "deny(429)",
        rateLimitThreshold: { count: 300, intervalSec: 60 },
      });
      assert.ok(policy.rules.slice(0, 3).every((x: Json) => x.preview === false));
    });

    it("one managed certificate for every domain, on the HTTPS proxy", () => {
      assert.deepEqual(inputs(r, "lb-certificate"), {
        project: "proj-test",
        type: "MANAGED",
        managed: { domains: ["api.example.com", "www.example.com"] },
      });
      assert.deepEqual(inputs(r, "lb-https-proxy"), {
        project: "proj-test",
        urlMap: "lb-url-map-id",
        sslCertificates: ["lb-certificate-id"],
      });
    });

    it("the URL map routes the hosts, and the canary header to the canary backend", () => {
      assert.deepEqual(inputs(r, "lb-url-map"), {
        project: "proj-test",
        description: "Routes each host to its service; unknown hosts go to api.",
        defaultService: "lb-api-backend-id",
        hostRules: [{ hosts: ["api.example.com", "www.example.com"], pathMatcher: "api" }],
        pathMatchers: [
          {
            name: "api",
            defaultService: "lb-api-backend-id",
            routeRules: [
              {
                priority: 1,
                matchRules: [
                  {
                    prefixMatch: "/",
                    headerMatches: [{ headerName: "X-Orchestra-Release", exactMatch: "canary" }],
                  },
                ],
                service: "lb-api-canary-backend-id",
              },
            ],
          },
        ],
      });
    });

    it("HTTP on port 80 redirects to HTTPS on 443, both on one address", () => {
      assert.deepEqual(inputs(r, "lb-redirect-map"), {
        project: "proj-test",
        description: "Redirects every HTTP request to HTTPS.",
        defaultUrlRedirect: {
          httpsRedirect: true,
          redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT",
          stripQuery: false,
        },
      });
      assert.deepEqual(inputs(r, "lb-http-proxy"), { project: "proj-test", urlMap: "lb-redirect-map-id" });
      assert.deepEqual(inputs(r, "lb-address"), {
        project: "proj-test",
        addressType: "EXTERNAL",
        ipVersion: "IPV4",
        labels: LABELS,
      });
      for (const [rule, port, proxy] of [
        ["lb-https-rule", "443", "lb-https-proxy-id"],
        ["lb-http-rule", "80", "lb-http-proxy-id"],
      ]) {
        assert.deepEqual(inputs(r, rule), {
          project: "proj-test",
          loadBalancingScheme: "EXTERNAL_MANAGED",
          ipProtocol: "TCP",
          portRange: port,
          ipAddress: "lb-address-id",
          target: proxy,
          labels: LABELS,
        });
      }
    });

    it("exports the address, each service's URL and the canary header", () => {
      const out = r.outputs.loadBalancer as Json;
      assert.match(out.ipAddress, /^203\.0\.113\.\d+$/);
      assert.deepEqual(out.urls, { api: "https://api.example.com" });
      assert.equal(out.canaryHeader, "X-Orchestra-Release: canary");
    });
  });

  it("without a canary: no canary NEG, backend or route", async () => {
    const r = await renderWithConfig(
      "prod",
      baseConfig(
        { allowUnauthenticated: true },
        { [KEY]: { services: { api: { domains: ["api.example.com"] } } } },
      ),
    );
    assert.deepEqual(
      ofType(r, "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup").map((x) => x.name),
      ["lb-api-neg-europe-west1"],
    );
    assert.deepEqual(
      ofType(r, "gcp:compute/backendService:BackendService").map((x) => x.name),
      ["lb-api-backend"],
    );
    assert.deepEqual(inputs(r, "lb-url-map").pathMatchers, [
      { name: "api", defaultService: "lb-api-backend-id" },
    ]);
  });

  describe("across regions (its own program)", () => {
    let r: RenderedStack;
    before(async () => {
      const args = {
        project: "proj-test",
        stack: "prod",
        labels: { team: "orchestra" },
        config: {
          services: [
            { name: "web", domains: ["example.com"] },
            { name: "api", domains: ["api.example.com"] },
          ],
          armor: { rateLimit: { requestsPerMinute: 600 }, owasp: [], sensitivity: 1, preview: true },
        },
        backends: [
          { service: "api", regions: ["europe-west1", "us-central1"], hasCanary: true },
          { service: "web", regions: ["europe-west1", "asia-northeast1"], hasCanary: false },
        ],
      };
      r = await renderStack({
        dir: ROOT,
        stack: "prod",
        program: path.join(ROOT, "tests", "support", "loadBalancerProgram.ts"),
        config: { flat: { "lbtest:args": JSON.stringify(args) } },
      });
    });

    it("one NEG per service, release and region, each depending on the Cloud Run services", () => {
      const negs = ofType(r, "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup");
      assert.deepEqual(
        negs.map((n) => [n.name, n.inputs.region, n.inputs.cloudRun]),
        [
          ["edge-web-neg-europe-west1", "europe-west1", { service: "web" }],
          ["edge-web-neg-asia-northeast1", "asia-northeast1", { service: "web" }],
          ["edge-api-neg-europe-west1", "europe-west1", { service: "api" }],
          ["edge-api-neg-us-central1", "us-central1", { service: "api" }],
          ["edge-api-canary-neg-europe-west1", "europe-west1", { service: "api", tag: "canary" }],
          ["edge-api-canary-neg-us-central1", "us-central1", { service: "api", tag: "canary" }],
        ],
      );
      const dependsOn = r.outputs.dependsOn as Record<string, string[]>;
      for (const n of negs) assert.deepEqual(dependsOn[n.name], ["run"], n.name);
    });

    it("each backend service lists the NEGs of all its regions", () => {
      assert.deepEqual(inputs(r, "edge-web-backend").backends, [
        { group: "edge-web-neg-europe-west1-id" },
        { group: "edge-web-neg-asia-northeast1-id" },
      ]);
      assert.deepEqual(inputs(r, "edge-api-canary-backend").backends, [
        { group: "edge-api-canary-neg-europe-west1-id" },
        { group: "edge-api-canary-neg-us-central1-id" },
      ]);
    });

    it("the first configured service takes unknown hosts; preview with no OWASP rules keeps throttle and allow", () => {
      const map = inputs(r, "edge-url-map");
      assert.equal(map.defaultService, "edge-web-backend-id");
      assert.deepEqual(
        map.hostRules.map((h: Json) => h.pathMatcher),
        ["web", "api"],
      );
      const rules = inputs(r, "edge-armor").rules as Json[];
      assert.deepEqual(
        rules.map((x) => [x.action, x.preview]),
        [
          ["throttle", true],
          ["allow", undefined],
        ],
      );
      assert.deepEqual(inputs(r, "edge-certificate").managed, {
        domains: ["example.com", "api.example.com"],
      });
      assert.deepEqual(r.outputs.urls, { web: "https://example.com", api: "https://api.example.com" });
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
