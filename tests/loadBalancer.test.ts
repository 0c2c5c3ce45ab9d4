import { strict as assert } from "node:assert";
import fc from "fast-check";
import { parse } from "yaml";
import {
  armorRules,
  balancerPlan,
  CANARY_HEADER,
  owaspPriority,
  PRIORITIES,
  urlMapRouting,
  wafRuleName,
} from "../components/loadbalancer";
import { MAX_NAME, shortName } from "../components/loadbalancer/names";
import type { ConfigIssue } from "../config/errors";
import { hostnameProblem, LOAD_BALANCER_DEFAULTS } from "../config/loadBalancer";
import {
  OWASP_RULES,
  servicesBehindBalancer,
  type LoadBalancerConfig,
  type OwaspRule,
} from "../model/loadBalancer";
import { readStackConfig } from "../render/stackFile";
import { baseConfig, digest, ROOT, validate } from "./support/render";
import { docBlock, readDoc } from "./support/docs";

const KEY = "ai-orchestra:loadBalancer";
const armor = (over: Partial<LoadBalancerConfig["armor"]> = {}): LoadBalancerConfig["armor"] => ({
  rateLimit: { requestsPerMinute: 600 },
  owasp: LOAD_BALANCER_DEFAULTS.owasp,
  sensitivity: 1,
  preview: false,
  ...over,
});

/** A prod config with three public services; `lb` is the raw `ai-orchestra:loadBalancer`. */
function withBalancer(
  lb: unknown,
  services: Record<string, Record<string, unknown>> = {},
): Record<string, string> {
  const flat = baseConfig({ allowUnauthenticated: true });
  const repo = (s: string) => `europe-west1-docker.pkg.dev/proj-test/orchestra/${s}`;
  const declared = JSON.parse(flat["ai-orchestra:services"]) as Record<string, unknown>;
  for (const name of ["web", "worker"]) {
    declared[name] = {
      repository: repo(name),
      stable: { image: `${repo(name)}@${digest(name)}` },
      allowUnauthenticated: true,
      ...services[name],
    };
  }
  return {
    ...flat,
    "ai-orchestra:services": JSON.stringify(declared),
    [KEY]: typeof lb === "string" ? lb : JSON.stringify(lb),
  };
}

function issuesOf(flat: Record<string, string>): ConfigIssue[] {
  const r = validate("prod", flat);
  return r.ok ? [] : [...r.issues];
}
function onlyIssue(flat: Record<string, string>): ConfigIssue {
  const issues = issuesOf(flat);
  assert.equal(issues.length, 1, JSON.stringify(issues, null, 2));
  assert.match(issues[0].message, /\nFix: /);
  return issues[0];
}
function resolved(flat: Record<string, string>) {
  const r = validate("prod", flat);
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.issues, null, 2));
  return r;
}

describe("load balancer", () => {
  describe("Cloud Armor rules", () => {
    it("deny(403) per OWASP rule set at the sensitivity, then a per-IP throttle, then the default allow", () => {
      const rules = armorRules(armor({ owasp: ["sqli", "xss"], sensitivity: 2 }));
      assert.deepEqual(rules[0], {
        priority: 1000,
        action: "deny(403)",
        description: "OWASP CRS 3.3 sqli, sensitivity 2",
        preview: false,
        match: { expr: { expression: "evaluatePreconfiguredWaf('sqli-v33-stable', {'sensitivity': 2})" } },
      });
      assert.equal(rules[1].priority, 1010);
      assert.deepEqual(rules[2], {
        priority: 2000,
        action: "throttle",
        description: "At most 600 requests a minute per client IP",
        preview: false,
        match: { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } },
        rateLimitOptions: {
          enforceOnKey: "IP",
          conformAction: "allow",
          exceedAction: "deny(429)",
          rateLimitThreshold: { count: 600, intervalSec: 60 },
        },
      });
      assert.deepEqual(rules[3], {
        priority: 2147483647,
        action: "allow",
        description: "Default: allow",
        match: { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } },
      });
    });

    it("names every rule set as Cloud Armor's CRS 3.3 stable channel", () => {
      assert.deepEqual(
        OWASP_RULES.map(wafRuleName),
        OWASP_RULES.map((r) => `${r}-v33-stable`),
      );
      assert.ok(OWASP_RULES.includes("methodenforcement") && OWASP_RULES.includes("nodejs"));
    });

    it("in preview, every rule but the default allow only logs", () => {
      const rules = armorRules(armor({ preview: true }));
      assert.ok(rules.slice(0, -1).every((r) => r.preview === true));
      assert.equal(rules.at(-1)?.preview, undefined);
    });

    it("for any OWASP subset, sensitivity and rate: priorities are unique, ordered, and stable per rule", () => {
      fc.assert(
        fc.property(
          fc.subarray([...OWASP_RULES]),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 1_000_000 }),
          fc.boolean(),
          (owasp, sensitivity, requestsPerMinute, preview) => {
            const rules = armorRules(
              armor({ owasp, sensitivity: sensitivity as 1, rateLimit: { requestsPerMinute }, preview }),
            );
            const priorities = rules.map((r) => r.priority as number);
            assert.equal(new Set(priorities).size, priorities.length);
            assert.deepEqual(
              [...priorities].sort((a, b) => a - b),
              priorities,
            );
            assert.equal(rules.length, owasp.length + 2);
            // WAF rules before the throttle: its conform action `allow` ends evaluation.
            const throttle = rules.findIndex((r) => r.action === "throttle");
            assert.equal(throttle, owasp.length);
            assert.equal(priorities.at(-1), PRIORITIES.default);
            owasp.forEach((rule, i) => assert.equal(priorities[i], owaspPriority(rule as OwaspRule)));
            for (const r of rules)
              assert.ok(String(r.description).length <= 64, "Cloud Armor: descriptions <= 64");
          },
        ),
      );
    });
  });

  describe("URL map routing", () => {
    const services = [
      { name: "web", domains: ["www.example.com", "example.com"], hasCanary: false },
      { name: "api", domains: ["api.example.com"], hasCanary: true },
    ];
    const routing = urlMapRouting(services, (s, release) => `${s}/${release}`);

    it("sends unknown hosts to the first service's stable backend", () => {
      assert.equal(routing.defaultService, "web/stable");
    });

    it("has one host rule and path matcher per service", () => {
      assert.deepEqual(routing.hostRules, [
        { hosts: ["www.example.com", "example.com"], pathMatcher: "web" },
        { hosts: ["api.example.com"], pathMatcher: "api" },
      ]);
      assert.deepEqual(routing.pathMatchers[0], { name: "web", defaultService: "web/stable" });
    });

    it("routes the canary header to the canary backend, only while there is a canary", () => {
      assert.deepEqual(CANARY_HEADER, { name: "X-Orchestra-Release", value: "canary" });
      assert.deepEqual(routing.pathMatchers[1], {
        name: "api",
        defaultService: "api/stable",
        routeRules: [
          {
            priority: 1,
            matchRules: [
              {
                prefixMatch: "/",
                headerMatches: [{ headerName: "X-Orchestra-Release", exactMatch: "canary" }],
              },
            ],
            service: "api/canary",
          },
        ],
      });
    });
  });

  describe("resource plan", () => {
    const config: LoadBalancerConfig = {
      services: [
        { name: "api", domains: ["api.example.com"] },
        { name: "web", domains: ["www.example.com"] },
      ],
      armor: armor(),
    };

    it("declares a NEG per service and region, and canary NEGs on the canary tag", () => {
      const plan = balancerPlan("lb", config, [
        { service: "web", regions: ["europe-west1"], hasCanary: false },
        { service: "api", regions: ["europe-west1", "us-central1"], hasCanary: true },
      ]);
      assert.deepEqual(
        plan.services.map((s) => s.name),
        ["api", "web"],
        "config order, not backend order",
      );
      assert.deepEqual(plan.domains, ["api.example.com", "www.example.com"]);
      assert.deepEqual(
        plan.backends.map((b) => [b.name, b.release, b.negs.map((n) => [n.name, n.region, n.tag])]),
        [
          [
            "lb-api-backend",
            "stable",
            [
              ["lb-api-neg-europe-west1", "europe-west1", undefined],
              ["lb-api-neg-us-central1", "us-central1", undefined],
            ],
          ],
          [
            "lb-api-canary-backend",
            "canary",
            [
              ["lb-api-canary-neg-europe-west1", "europe-west1", "canary"],
              ["lb-api-canary-neg-us-central1", "us-central1", "canary"],
            ],
          ],
          ["lb-web-backend", "stable", [["lb-web-neg-europe-west1", "europe-west1", undefined]]],
        ],
      );
    });

    it("refuses backends that do not match the config", () => {
      const web = { service: "web", regions: ["europe-west1"], hasCanary: false };
      assert.throws(() => balancerPlan("lb", config, [web]), /api is behind the balancer but has no backend/);
      assert.throws(
        () => balancerPlan("lb", config, [web, { service: "api", regions: [], hasCanary: false }]),
        /runs in no region/,
      );
      assert.throws(
        () => balancerPlan("lb", config, [web, { ...web, service: "cron" }]),
        /cron is not behind the balancer/,
      );
    });

    it("keeps every name within what autonaming leaves of Compute Engine's 63 characters", () => {
      const longest = "a".repeat(40);
      const plan = balancerPlan(
        "lb",
        { services: [{ name: longest, domains: ["x.example.com"] }], armor: armor() },
        [
          {
            service: longest,
            regions: ["northamerica-northeast1", "northamerica-northeast2"],
            hasCanary: true,
          },
        ],
      );
      const names = plan.backends.flatMap((b) => [b.name, ...b.negs.map((n) => n.name)]);
      assert.equal(new Set(names).size, names.length);
      for (const n of names) {
        assert.match(n, /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/);
        assert.ok(n.length <= MAX_NAME, n);
      }
      fc.assert(
        fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,100}[a-z0-9]$/), (full) => {
          const short = shortName(full);
          assert.ok(short.length <= MAX_NAME);
          assert.ok(!short.endsWith("-"));
          if (full.length <= MAX_NAME) assert.equal(short, full);
        }),
      );
    });
  });

  describe("config", () => {
    const lb = { services: { api: { domains: ["api.example.com"] } } };

    it("is absent when unset or `{}` (Pulumi.yaml's default)", () => {
      for (const flat of [baseConfig(), { ...baseConfig(), [KEY]: "{}" }]) {
        const r = resolved(flat);
        assert.equal(r.config.loadBalancer, undefined);
        assert.deepEqual(servicesBehindBalancer(r.config.loadBalancer), []);
      }
    });

    it("applies the defaults", () => {
      const r = resolved(withBalancer(lb));
      assert.deepEqual(r.config.loadBalancer, {
        services: [{ name: "api", domains: ["api.example.com"] }],
        armor: {
          rateLimit: { requestsPerMinute: 600 },
          owasp: [
            "sqli",
            "xss",
            "lfi",
            "rfi",
            "rce",
            "scannerdetection",
            "protocolattack",
            "sessionfixation",
          ],
          sensitivity: 1,
          preview: false,
        },
      });
      assert.ok(!r.warnings.some((w) => w.includes(KEY)), r.warnings.join("\n"));
    });

    it("puts the default service first, then the others by name, whatever the key order", () => {
      const r = resolved(
        withBalancer({
          defaultService: "web",
          services: {
            worker: { domains: ["w.example.com"] },
            api: { domains: ["a.example.com"] },
            web: { domains: ["example.com"] },
          },
          armor: {
            owasp: ["xss", "sqli"],
            sensitivity: 3,
            preview: true,
            rateLimit: { requestsPerMinute: 100 },
          },
        }),
      );
      assert.deepEqual(servicesBehindBalancer(r.config.loadBalancer), ["web", "api", "worker"]);
      assert.deepEqual(r.config.loadBalancer?.armor, {
        rateLimit: { requestsPerMinute: 100 },
        owasp: ["sqli", "xss"],
        sensitivity: 3,
        preview: true,
      });
    });

    it("warns when a service behind it refuses unauthenticated requests", () => {
      const r = resolved(
        withBalancer(
          { services: { worker: { domains: ["w.example.com"] } } },
          { worker: { allowUnauthenticated: false } },
        ),
      );
      assert.match(r.warnings.join("\n"), /services\.worker: .*does not allow unauthenticated/);
    });

    describe("errors", () => {
      it("an unknown service, with the nearest name", () => {
        const i = onlyIssue(withBalancer({ services: { apii: { domains: ["api.example.com"] } } }));
        assert.equal(i.path, `${KEY}.services.apii`);
        assert.match(i.message, /not a service of this stack \(api, web, worker\)/);
        assert.match(i.message, /did you mean `api`\?/);
      });

      it("a service whose ingress refuses load balancers", () => {
        const i = onlyIssue(
          withBalancer(
            { services: { worker: { domains: ["w.example.com"] } } },
            { worker: { ingress: "internal" } },
          ),
        );
        assert.equal(i.path, `${KEY}.services.worker`);
        assert.match(i.message, /internal-and-cloud-load-balancing/);
      });

      it("a domain claimed by two services, or twice by one", () => {
        const issues = issuesOf(
          withBalancer({
            defaultService: "api",
            services: {
              api: { domains: ["x.example.com", "x.example.com"] },
              web: { domains: ["x.example.com"] },
            },
          }),
        );
        assert.deepEqual(
          issues.map((i) => [i.path, i.value, i.message.split("\n")[0]]),
          [
            [`${KEY}.services.api.domains.1`, "x.example.com", "is listed twice."],
            [
              `${KEY}.services.web.domains.0`,
              "x.example.com",
              "is already a domain of `api`: the balancer routes each host name to one service.",
            ],
          ],
        );
      });

      for (const [domain, message] of [
        ["*.example.com", /wildcard/],
        ["API.example.com", /lowercase.*`api\.example\.com`/s],
        ["https://api.example.com", /without scheme/],
        ["api.example.com.", /must not end with a dot/],
        ["localhost", /fully qualified/],
        ["-api.example.com", /fully qualified/],
        ["10.0.0.1", /not an IP address/],
        [`${"a".repeat(64)}.example.com`, /at most 63 characters each/],
      ] as const) {
        it(`an invalid host name: ${domain.slice(0, 30)}`, () => {
          const i = onlyIssue(withBalancer({ services: { api: { domains: [domain] } } }));
          assert.equal(i.path, `${KEY}.services.api.domains.0`);
          assert.equal(i.value, domain);
          assert.match(i.message, message);
        });
      }

      it("accepts ordinary host names", () => {
        for (const d of ["api.ai-orchestra.example", "a.b.c.example.co.uk", "x1.example.io"])
          assert.equal(hostnameProblem(d), undefined, d);
      });

      it("more than 100 domains, the managed certificate's limit", () => {
        const domains = Array.from({ length: 101 }, (_, i) => `h${i}.example.com`);
        const i = onlyIssue(withBalancer({ services: { api: { domains } } }));
        assert.equal(i.path, `${KEY}.services`);
        assert.match(i.message, /101 domains; a Google-managed certificate covers at most 100/);
        resolved(withBalancer({ services: { api: { domains: domains.slice(0, 100) } } }));
      });

      it("an unknown OWASP rule, listing the allowed ones and the nearest", () => {
        const i = onlyIssue(withBalancer({ ...lb, armor: { owasp: ["sqli", "xxs"] } }));
        assert.equal(i.path, `${KEY}.armor.owasp.1`);
        assert.equal(i.value, "xxs");
        assert.match(i.message, /allowed: sqli, xss, lfi, rfi, rce, methodenforcement, .*nodejs/);
        assert.match(i.message, /did you mean `xss`\?/);
      });

      it("several services and no default service", () => {
        const i = onlyIssue(
          withBalancer({
            services: { web: { domains: ["example.com"] }, api: { domains: ["api.example.com"] } },
          }),
        );
        assert.equal(i.path, `${KEY}.defaultService`);
        assert.equal(i.hasValue, false);
        assert.match(i.message, /Fix: add `defaultService: api` \(one of api, web\)/);
      });

      it("a default service that is not behind the balancer", () => {
        const i = onlyIssue(withBalancer({ ...lb, defaultService: "apu" }));
        assert.equal(i.path, `${KEY}.defaultService`);
        assert.match(i.message, /did you mean `api`\?/);
      });

      for (const [what, raw, path, message] of [
        ["no services", { services: {} }, `${KEY}.services`, /at least one service/],
        [
          "no domains",
          { services: { api: { domains: [] } } },
          `${KEY}.services.api.domains`,
          /at least one host name/,
        ],
        ["sensitivity 0", { ...lb, armor: { sensitivity: 0 } }, `${KEY}.armor.sensitivity`, /at least 1/],
        ["sensitivity 5", { ...lb, armor: { sensitivity: 5 } }, `${KEY}.armor.sensitivity`, /at most 4/],
        [
          "a rate of 0",
          { ...lb, armor: { rateLimit: { requestsPerMinute: 0 } } },
          `${KEY}.armor.rateLimit.requestsPerMinute`,
          /at least 1/,
        ],
        [
          "a fractional rate",
          { ...lb, armor: { rateLimit: { requestsPerMinute: 1.5 } } },
          `${KEY}.armor.rateLimit.requestsPerMinute`,
          /whole number/,
        ],
        [
          "preview as a string",
          { ...lb, armor: { preview: "yes" } },
          `${KEY}.armor.preview`,
          /true or false/,
        ],
        ["a typo in a key", { ...lb, armour: {} }, `${KEY}.armour`, /did you mean `armor`\?/],
        ["a list", [], KEY, /must be an object/],
      ] as const) {
        it(what, () => {
          const i = onlyIssue(withBalancer(raw));
          assert.equal(i.path, path);
          assert.match(i.message, message);
        });
      }
    });
  });

  describe("stack files and docs", () => {
    it("prod puts api behind it at api.ai-orchestra.example, with the defaults", () => {
      const r = resolved(readStackConfig(ROOT, "prod").flat);
      assert.deepEqual(r.config.loadBalancer, {
        services: [{ name: "api", domains: ["api.ai-orchestra.example"] }],
        armor: {
          rateLimit: { requestsPerMinute: 600 },
          owasp: LOAD_BALANCER_DEFAULTS.owasp,
          sensitivity: 1,
          preview: false,
        },
      });
    });

    it("the docs example is valid for prod, and its defaults are the code's", () => {
      const page = readDoc("docs/load-balancer.md");
      const block = docBlock("ai-orchestra:loadBalancer:", "yaml");
      assert.ok(block, "the docs show a loadBalancer example");
      const flat = { ...readStackConfig(ROOT, "prod").flat, [KEY]: JSON.stringify(parse(block)[KEY]) };
      const r = resolved(flat);
      assert.deepEqual(r.config.loadBalancer?.armor, {
        rateLimit: { requestsPerMinute: LOAD_BALANCER_DEFAULTS.requestsPerMinute },
        owasp: LOAD_BALANCER_DEFAULTS.owasp,
        sensitivity: LOAD_BALANCER_DEFAULTS.sensitivity,
        preview: LOAD_BALANCER_DEFAULTS.preview,
      });
      const row = page.split("\n").find((l) => l.startsWith("| `armor.owasp`"));
      assert.ok(row?.includes(LOAD_BALANCER_DEFAULTS.owasp.join(", ")));
      assert.ok(page.includes(`${CANARY_HEADER.name}: ${CANARY_HEADER.value}`));
    });
  });
});
