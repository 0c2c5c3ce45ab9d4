import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { GlobalLoadBalancer, type GlobalLoadBalancerArgs } from "../../components/loadbalancer";
import type { LoadBalancerConfig } from "../../model/loadBalancer";
import { buildComponent, promiseOf, type Built } from "../support/components";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

const LABELS = { team: "orchestra", "managed-by": "pulumi", "pulumi-stack": "prod" };
const EVERYONE = { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } };
const NEG = "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup";

/** Stands in for the Cloud Run services the NEGs must wait for. */
class CloudRunStandIn extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:index:CloudRunStandIn", name, {});
    this.registerOutputs({});
  }
}

/** A balancer called `name` in prod, depending on a stand-in for the Cloud Run services. */
function build(
  name: string,
  config: LoadBalancerConfig,
  backends: GlobalLoadBalancerArgs["backends"],
): Promise<Built<GlobalLoadBalancer>> {
  return buildComponent(() => {
    const run = new CloudRunStandIn("run");
    return new GlobalLoadBalancer(
      name,
      { project: "proj-test", stack: "prod", labels: { team: "orchestra" }, config, backends },
      { dependsOn: [run] },
    );
  });
}

const ARMOR = { owasp: [], sensitivity: 1, rateLimit: { requestsPerMinute: 600 }, preview: false } as const;

describe("GlobalLoadBalancer (built alone)", () => {
  describe("one service with a canary, in one region", () => {
    let b: Built<GlobalLoadBalancer>;
    const inputs = (name: string) => b.byName(name).inputs as Json;
    before(async () => {
      b = await build(
        "lb",
        {
          services: [{ name: "api", domains: ["api.example.com", "www.example.com"] }],
          armor: {
            owasp: ["sqli", "xss"],
            sensitivity: 2,
            rateLimit: { requestsPerMinute: 300 },
            preview: false,
          },
        },
        [{ service: "api", regions: ["europe-west1"], hasCanary: true }],
      );
    });

    it("declares every resource under the component, autonamed", () => {
      const children = b.resources.filter((x) => x.type.startsWith("gcp:compute/"));
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
      // No `name` input: replacements create before they delete, without name clashes.
      for (const c of children) assert.equal(c.inputs.name, undefined, c.name);
    });

    it("a serverless NEG for the service, and one for its canary tag", () => {
      assert.deepEqual(inputs("lb-api-neg-europe-west1"), {
        project: "proj-test",
        region: "europe-west1",
        networkEndpointType: "SERVERLESS",
        cloudRun: { service: "api" },
        description: "Cloud Run api in europe-west1.",
      });
      assert.deepEqual(inputs("lb-api-canary-neg-europe-west1"), {
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
        assert.deepEqual(inputs(name), {
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

    it("the Cloud Armor policy from the armor settings", () => {
      const policy = inputs("lb-armor");
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
      assert.deepEqual(inputs("lb-certificate"), {
        project: "proj-test",
        type: "MANAGED",
        managed: { domains: ["api.example.com", "www.example.com"] },
      });
      assert.deepEqual(inputs("lb-https-proxy"), {
        project: "proj-test",
        urlMap: "lb-url-map-id",
        sslCertificates: ["lb-certificate-id"],
      });
    });

    it("the URL map routes the hosts, and the canary header to the canary backend", () => {
      assert.deepEqual(inputs("lb-url-map"), {
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
      assert.deepEqual(inputs("lb-redirect-map"), {
        project: "proj-test",
        description: "Redirects every HTTP request to HTTPS.",
        defaultUrlRedirect: {
          httpsRedirect: true,
          redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT",
          stripQuery: false,
        },
      });
      assert.deepEqual(inputs("lb-http-proxy"), { project: "proj-test", urlMap: "lb-redirect-map-id" });
      assert.deepEqual(inputs("lb-address"), {
        project: "proj-test",
        addressType: "EXTERNAL",
        ipVersion: "IPV4",
        labels: LABELS,
      });
      for (const [rule, port, proxy] of [
        ["lb-https-rule", "443", "lb-https-proxy-id"],
        ["lb-http-rule", "80", "lb-http-proxy-id"],
      ]) {
        assert.deepEqual(inputs(rule), {
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

    it("exports the address, each service's URL and the canary header", async () => {
      assert.match(await promiseOf(b.value.ipAddress), /^203\.0\.113\.\d+$/);
      assert.deepEqual(b.value.urls, { api: "https://api.example.com" });
      assert.equal(b.value.canaryHeader, "X-Orchestra-Release: canary");
    });
  });

  it("without a canary: no canary NEG, backend or route", async () => {
    const b = await build("lb", { services: [{ name: "api", domains: ["api.example.com"] }], armor: ARMOR }, [
      { service: "api", regions: ["europe-west1"], hasCanary: false },
    ]);
    assert.deepEqual(
      b.ofType(NEG).map((x) => x.name),
      ["lb-api-neg-europe-west1"],
    );
    assert.deepEqual(
      b.ofType("gcp:compute/backendService:BackendService").map((x) => x.name),
      ["lb-api-backend"],
    );
    assert.deepEqual(b.byName("lb-url-map").inputs.pathMatchers, [
      { name: "api", defaultService: "lb-api-backend-id" },
    ]);
  });

  describe("across regions", () => {
    let b: Built<GlobalLoadBalancer>;
    const inputs = (name: string) => b.byName(name).inputs as Json;
    before(async () => {
      b = await build(
        "edge",
        {
          services: [
            { name: "web", domains: ["example.com"] },
            { name: "api", domains: ["api.example.com"] },
          ],
          armor: { rateLimit: { requestsPerMinute: 600 }, owasp: [], sensitivity: 1, preview: true },
        },
        [
          { service: "api", regions: ["europe-west1", "us-central1"], hasCanary: true },
          { service: "web", regions: ["europe-west1", "asia-northeast1"], hasCanary: false },
        ],
      );
    });

    it("one NEG per service, release and region, each depending on the Cloud Run services", () => {
      const negs = b.ofType(NEG);
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
      for (const n of negs) assert.deepEqual(n.dependsOn, ["run"], n.name);
      // Only the NEGs wait: the rest of the balancer does not need Cloud Run.
      assert.equal(b.byName("edge-web-backend").dependsOn, undefined);
    });

    it("each backend service lists the NEGs of all its regions", () => {
      assert.deepEqual(inputs("edge-web-backend").backends, [
        { group: "edge-web-neg-europe-west1-id" },
        { group: "edge-web-neg-asia-northeast1-id" },
      ]);
      assert.deepEqual(inputs("edge-api-canary-backend").backends, [
        { group: "edge-api-canary-neg-europe-west1-id" },
        { group: "edge-api-canary-neg-us-central1-id" },
      ]);
    });

    it("the first configured service takes unknown hosts; preview with no OWASP rules keeps throttle and allow", () => {
      const map = inputs("edge-url-map");
      assert.equal(map.defaultService, "edge-web-backend-id");
      assert.deepEqual(
        map.hostRules.map((h: Json) => h.pathMatcher),
        ["web", "api"],
      );
      const rules = inputs("edge-armor").rules as Json[];
      assert.deepEqual(
        rules.map((x) => [x.action, x.preview]),
        [
          ["throttle", true],
          ["allow", undefined],
        ],
      );
      assert.deepEqual(inputs("edge-certificate").managed, {
        domains: ["example.com", "api.example.com"],
      });
      assert.deepEqual(b.value.urls, { web: "https://example.com", api: "https://api.example.com" });
    });
  });
});
