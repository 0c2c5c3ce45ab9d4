import * as assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { RULE_IDS, RULES, UNKNOWN, type PolicyResource, type RuleContext } from "../policy/rules";
import { evaluate, runRule } from "../policy/rules/run";
import { plainSecretConfig, unpinnedActions } from "../policy/rules/security";
import { resolvePolicy } from "../config/policy";
import { baseConfig, validate } from "./support/render";
import { docBlock, readDoc } from "./support/docs";

const DIGEST = `europe-west1-docker.pkg.dev/p/orchestra/api@sha256:${"a".repeat(64)}`;
const SHA = "0123456789abcdef0123456789abcdef01234567";

const ctx: RuleContext = {
  stack: "prod",
  environment: "prod",
  maxCanaryPercent: 50,
  publicServices: ["api"],
  plainSecretConfig: [],
};

function service(overrides: Record<string, unknown> = {}, template: Record<string, unknown> = {}) {
  return {
    type: "gcp:cloudrunv2/service:Service",
    name: "api-service",
    props: {
      name: "api",
      ingress: "INGRESS_TRAFFIC_ALL",
      scaling: { minInstanceCount: 1 },
      template: {
        scaling: { maxInstanceCount: 10 },
        containers: [{ image: DIGEST, envs: [{ name: "LOG_LEVEL", value: "info" }] }],
        ...template,
      },
      traffics: [
        { tag: "stable", percent: 90, revision: "api-1" },
        { tag: "canary", percent: 10, revision: "api-2" },
      ],
      ...overrides,
    },
  } satisfies PolicyResource;
}

const rule = (id: string) => {
  const found = RULES.find((r) => r.id === id);
  if (!found) throw new Error(`no rule ${id}`);
  return found;
};
const check = (id: string, resources: PolicyResource[], c: RuleContext = ctx) =>
  runRule(rule(id), resources, c);
const messages = (id: string, resources: PolicyResource[], c: RuleContext = ctx) =>
  check(id, resources, c).violations.map((v) => v.message);

const invoker = (member: string, name = "api"): PolicyResource => ({
  type: "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
  name: `${name}-invoker`,
  props: { name, role: "roles/run.invoker", member },
});

const observed = (name: string, severity = "CRITICAL"): PolicyResource[] => [
  {
    type: "gcp:monitoring/dashboard:Dashboard",
    name: `${name}-dashboard`,
    props: {
      dashboardJson: JSON.stringify({
        mosaicLayout: { tiles: [{ filter: `resource.label."service_name"="${name}"` }] },
      }),
    },
  },
  {
    type: "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig",
    name: `${name}-uptime`,
    props: { userLabels: { service: name } },
  },
  {
    type: "gcp:monitoring/alertPolicy:AlertPolicy",
    name: `${name}-errors`,
    props: { severity, userLabels: { service: name } },
  },
];

describe("guardrail rules", () => {
  it("public-invoker: allUsers only on a service declared public", () => {
    assert.deepEqual(messages("public-invoker", [invoker("allUsers")]), []);
    assert.deepEqual(
      messages("public-invoker", [invoker("serviceAccount:x@p.iam.gserviceaccount.com", "worker")]),
      [],
    );
    assert.deepEqual(messages("public-invoker", [invoker("allUsers", "worker")]), [
      "grants roles/run.invoker to allUsers on worker, which is not declared public.",
    ]);
    assert.equal(messages("public-invoker", [invoker("allAuthenticatedUsers", "worker")]).length, 1);
  });

  it("deletion-protection: only an explicit false fails (the provider's default is true)", () => {
    assert.deepEqual(messages("deletion-protection", [service()]), []);
    assert.deepEqual(messages("deletion-protection", [service({ deletionProtection: true })]), []);
    assert.deepEqual(messages("deletion-protection", [service({ deletionProtection: false })]), [
      "api has deletionProtection: false in prod.",
    ]);
  });

  it("min-instances: at least one warm instance on the service; no scaling block means 0", () => {
    assert.deepEqual(messages("min-instances", [service()]), []);
    assert.equal(messages("min-instances", [service({ scaling: { minInstanceCount: 0 } })]).length, 1);
    assert.equal(messages("min-instances", [service({ scaling: undefined })]).length, 1);
    // A revision's own minimum is not the service's: it would keep every tagged revision warm.
    const onRevision = service({ scaling: undefined }, { scaling: { minInstanceCount: 1 } });
    assert.equal(messages("min-instances", [onRevision]).length, 1);
  });

  it("image-digest: every container by digest", () => {
    assert.deepEqual(messages("image-digest", [service()]), []);
    const tagged = service(
      {},
      { containers: [{ image: "europe-west1-docker.pkg.dev/p/orchestra/api:latest" }] },
    );
    assert.deepEqual(messages("image-digest", [tagged]), [
      "api runs europe-west1-docker.pkg.dev/p/orchestra/api:latest, a tag: what runs can change without a deploy.",
    ]);
  });

  it("canary-percent: the canary tag within the stack's maximum", () => {
    assert.deepEqual(messages("canary-percent", [service()]), []);
    const big = service({
      traffics: [
        { tag: "stable", percent: 40 },
        { tag: "canary", percent: 60 },
      ],
    });
    const found = check("canary-percent", [big]).violations;
    assert.deepEqual(
      found.map((v) => [v.message, v.fix]),
      [
        [
          "api's canary takes 60% of traffic; this stack allows at most 50%.",
          "`orchestra canary promote api --stack prod`, or `orchestra canary set api 50 --stack prod`.",
        ],
      ],
    );
  });

  it("service-observability: a dashboard, an uptime check when reachable, a paging alert in prod", () => {
    assert.deepEqual(
      messages("service-observability", [service(), invoker("allUsers"), ...observed("api")]),
      [],
    );
    assert.deepEqual(messages("service-observability", [service(), invoker("allUsers")]), [
      "api is missing a dashboard, an uptime check, an alert policy that pages (severity CRITICAL).",
    ]);
    // Ticket-only alerts page nobody: fine in dev, not in prod.
    const ticketsOnly = [service(), invoker("allUsers"), ...observed("api", "WARNING")];
    assert.equal(messages("service-observability", ticketsOnly).length, 1);
    assert.deepEqual(messages("service-observability", ticketsOnly, { ...ctx, environment: "dev" }), []);
    // A private service needs no uptime check: checkers could not reach it.
    const privateService = [
      service({ ingress: "INGRESS_TRAFFIC_INTERNAL_ONLY" }),
      ...observed("api").slice(0, 1),
    ];
    assert.deepEqual(messages("service-observability", [...privateService, observed("api")[2]]), []);
    // The overview dashboard selects several services with one_of(...): it is no service's dashboard.
    const overview: PolicyResource = {
      type: "gcp:monitoring/dashboard:Dashboard",
      name: "overview",
      props: {
        dashboardJson: JSON.stringify({ f: 'resource.label."service_name"=one_of("api", "worker")' }),
      },
    };
    assert.equal(
      messages("service-observability", [
        service(),
        invoker("allUsers"),
        overview,
        ...observed("api").slice(1),
      ]).length,
      1,
    );
  });

  it("balancer-ingress: a service a serverless NEG routes to takes traffic only through the balancer", () => {
    const neg = (service: string, region: string): PolicyResource => ({
      type: "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup",
      name: `lb-${service}-neg-${region}`,
      props: { networkEndpointType: "SERVERLESS", region, cloudRun: { service } },
    });
    const inRegion = (location: string, ingress: string) => ({
      ...service({ location, ingress }),
      name: `api-${location}-service`,
    });
    const lb = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER";
    assert.deepEqual(
      messages("balancer-ingress", [inRegion("europe-west1", lb), neg("api", "europe-west1")]),
      [],
    );
    assert.deepEqual(
      messages("balancer-ingress", [
        inRegion("europe-west1", lb),
        inRegion("europe-west4", "INGRESS_TRAFFIC_ALL"),
        neg("api", "europe-west1"),
        neg("api", "europe-west4"),
      ]),
      [
        "api in europe-west4 is behind the load balancer but its ingress is INGRESS_TRAFFIC_ALL: requests can reach its run.app URL around Cloud Armor.",
      ],
    );
    // Not behind the balancer (no NEG, or a NEG in another region): any ingress.
    assert.deepEqual(
      messages("balancer-ingress", [
        inRegion("us-central1", "INGRESS_TRAFFIC_ALL"),
        neg("api", "europe-west1"),
      ]),
      [],
    );
    // Behind the balancer and public: reachable, so an uptime check is required.
    const observedNoUptime = observed("api").filter((r) => !r.type.includes("uptime"));
    assert.deepEqual(
      messages("service-observability", [
        inRegion("europe-west1", lb),
        neg("api", "europe-west1"),
        invoker("allUsers"),
        ...observedNoUptime,
      ]),
      ["api is missing an uptime check."],
    );
  });

  it("no-service-account-keys: any key fails", () => {
    assert.deepEqual(messages("no-service-account-keys", [service()]), []);
    const key = { type: "gcp:serviceaccount/key:Key", name: "ci-key", props: { serviceAccountId: "ci" } };
    assert.equal(messages("no-service-account-keys", [key]).length, 1);
  });

  it("pinned-actions: every action in a committed workflow by commit SHA", () => {
    const file = (content: string): PolicyResource => ({
      type: "github:index/repositoryFile:RepositoryFile",
      name: "api-ci",
      props: { file: ".github/workflows/ci.yml", content },
    });
    const pinned = `jobs:\n  a:\n    steps:\n      - uses: actions/checkout@${SHA} # v5\n      - uses: ./.github/actions/local\n`;
    assert.deepEqual(messages("pinned-actions", [file(pinned)]), []);
    assert.deepEqual(
      unpinnedActions("steps:\n  - uses: actions/checkout@v5\n  - uses: 'some/action@main'\n"),
      ["actions/checkout@v5", "some/action@main"],
    );
    assert.equal(messages("pinned-actions", [file("    - uses: docker/build-push-action@v6\n")]).length, 1);
  });

  it("no-plaintext-secrets: env values, GitHub variables and workflow files hold no credential", () => {
    assert.deepEqual(messages("no-plaintext-secrets", [service()]), []);
    const leaky = service(
      {},
      { containers: [{ image: DIGEST, envs: [{ name: "API_TOKEN", value: "abc" }] }] },
    );
    assert.deepEqual(messages("no-plaintext-secrets", [leaky]), [
      "api's env API_TOKEN (container 0) is named like a secret but has a plain value.",
    ]);
    const slack = service(
      {},
      { containers: [{ image: DIGEST, envs: [{ name: "HOOK", value: "xoxb-1234567890-abcdef" }] }] },
    );
    assert.deepEqual(messages("no-plaintext-secrets", [slack]), [
      "api's env HOOK (container 0) is a Slack token in plain text.",
    ]);
    const fromSecretManager = service(
      {},
      {
        containers: [
          { image: DIGEST, envs: [{ name: "API_TOKEN", valueSource: { secretKeyRef: { secret: "t" } } }] },
        ],
      },
    );
    assert.deepEqual(messages("no-plaintext-secrets", [fromSecretManager]), []);
    const variable = (variableName: string, value: string): PolicyResource => ({
      type: "github:index/actionsVariable:ActionsVariable",
      name: variableName,
      props: { variableName, value },
    });
    assert.deepEqual(
      messages("no-plaintext-secrets", [variable("GCP_PROJECT_PROD", "ai-orchestra-prod")]),
      [],
    );
    assert.equal(messages("no-plaintext-secrets", [variable("DEPLOY", `ghp_${"x".repeat(36)}`)]).length, 1);
  });

  it("secret-config: secret keys and credential-shaped values in the stack file are secure:", () => {
    const standIn = "[stand-in]";
    assert.deepEqual(
      plainSecretConfig(
        { "ai-orchestra:slackToken": standIn, "ai-orchestra:githubSecrets": JSON.stringify({ A: standIn }) },
        ["ai-orchestra:slackToken", "ai-orchestra:githubSecrets"],
        standIn,
      ),
      [],
    );
    assert.deepEqual(
      plainSecretConfig(
        {
          "ai-orchestra:slackToken": "xoxb-1234567890-abc",
          "ai-orchestra:githubSecrets": JSON.stringify({ A: "plain" }),
          "ai-orchestra:labels": JSON.stringify({ note: `ghp_${"y".repeat(36)}` }),
        },
        [],
        standIn,
      ),
      [
        { key: "ai-orchestra:slackToken", why: "is a secret set in plain text" },
        { key: "ai-orchestra:githubSecrets.A", why: "is a secret set in plain text" },
        { key: "ai-orchestra:labels.note", why: "holds a GitHub token in plain text" },
      ],
    );
    const found = messages("secret-config", [], {
      ...ctx,
      plainSecretConfig: [{ key: "ai-orchestra:slackToken", why: "is a secret set in plain text" }],
    });
    assert.deepEqual(found, [
      "Pulumi.prod.yaml: ai-orchestra:slackToken is a secret set in plain text; it is in git for anyone to read.",
    ]);
  });

  describe("values unknown during a preview", () => {
    it("skip the rule for that resource and say why, for sentinels and missing required values alike", () => {
      const unknownImage = service({}, { containers: [{ image: UNKNOWN }] });
      const out = check("image-digest", [unknownImage]);
      assert.deepEqual(out.violations, []);
      assert.deepEqual(out.skipped, [
        {
          rule: "image-digest",
          resource: "api-service",
          reason: "skipped: template.containers.0.image is unknown until the update runs",
        },
      ]);
      const missing = service({ template: undefined });
      assert.match(check("image-digest", [missing]).skipped[0].reason, /template\.containers is unknown/);
      const unknownScaling = service({ scaling: UNKNOWN });
      assert.match(
        check("min-instances", [unknownScaling]).skipped[0].reason,
        /scaling\.minInstanceCount is unknown/,
      );
      const noStackFile = check("secret-config", [], { ...ctx, plainSecretConfig: undefined });
      assert.match(noStackFile.skipped[0].reason, /stack file could not be read/);
    });

    it("never crash any rule, whatever is unknown", () => {
      const everythingUnknown: PolicyResource[] = [
        {
          type: "gcp:cloudrunv2/service:Service",
          name: "s",
          props: { name: UNKNOWN, template: UNKNOWN, traffics: UNKNOWN, deletionProtection: UNKNOWN },
        },
        {
          type: "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
          name: "i",
          props: { name: UNKNOWN, member: UNKNOWN },
        },
        { type: "gcp:monitoring/dashboard:Dashboard", name: "d", props: { dashboardJson: UNKNOWN } },
        {
          type: "github:index/repositoryFile:RepositoryFile",
          name: "f",
          props: { file: ".github/workflows/x.yml", content: UNKNOWN },
        },
        {
          type: "github:index/actionsVariable:ActionsVariable",
          name: "v",
          props: { variableName: "X", value: UNKNOWN },
        },
      ];
      const report = evaluate(RULES, everythingUnknown, ctx, resolvePolicy(undefined, "prod").levels);
      assert.deepEqual(report.violations, []);
      assert.ok(report.skipped.length >= 6, JSON.stringify(report.skipped));
    });
  });

  describe("levels", () => {
    it("mandatory in prod and staging, advisory in dev; overridable per rule", () => {
      assert.equal(resolvePolicy(undefined, "prod").levels["image-digest"], "mandatory");
      assert.equal(resolvePolicy(undefined, "staging").levels["image-digest"], "mandatory");
      assert.equal(resolvePolicy(undefined, "dev").levels["image-digest"], "advisory");
      const custom = resolvePolicy(
        { enforcement: "advisory", rules: { "canary-percent": "disabled" } },
        "prod",
      );
      assert.equal(custom.levels["min-instances"], "advisory");
      assert.equal(custom.levels["canary-percent"], "disabled");
      assert.equal(resolvePolicy(undefined, "prod").maxCanaryPercent, 80);
      assert.equal(resolvePolicy({ maxCanaryPercent: 30 }, "prod").maxCanaryPercent, 30);
    });

    it("a mandatory violation fails the report, an advisory one does not; prod-only rules skip elsewhere", () => {
      const bad = [service({ deletionProtection: false })];
      assert.equal(evaluate(RULES, bad, ctx, resolvePolicy(undefined, "prod").levels).failed, true);
      const asDev = evaluate(
        RULES,
        bad,
        { ...ctx, environment: "dev" },
        resolvePolicy(undefined, "dev").levels,
      );
      assert.deepEqual(
        asDev.violations.filter((v) => v.rule === "deletion-protection"),
        [],
      );
      const advisory = evaluate(RULES, bad, ctx, resolvePolicy({ enforcement: "advisory" }, "prod").levels);
      assert.equal(advisory.failed, false);
      assert.equal(advisory.violations.find((v) => v.rule === "deletion-protection")?.level, "advisory");
    });
  });
});

describe("the guardrails page (docs/guardrails.md)", () => {
  const page = readDoc("docs/guardrails.md");

  it("the policy example is a valid `ai-orchestra:policy`", () => {
    const block = docBlock("ai-orchestra:policy:", "yaml");
    assert.ok(block, "the docs show a policy example");
    const policy = resolvePolicy(
      (parseYaml(block) as Record<string, unknown>)["ai-orchestra:policy"],
      "prod",
    );
    assert.equal(policy.maxCanaryPercent, 50);
    assert.equal(policy.levels["min-instances"], "advisory");
    assert.equal(policy.levels["image-digest"], "mandatory");
  });

  it("the rules table lists every rule", () => {
    const listed = [...page.matchAll(/^\| `([a-z-]+)` +\|/gm)].map((m) => m[1]);
    assert.deepEqual(listed, [...RULE_IDS]);
  });
});

describe("ai-orchestra:policy in the stack config", () => {
  const issuesOf = (policy: unknown) => {
    const result = validate("prod", baseConfig({}, { "ai-orchestra:policy": policy }));
    return result.ok ? [] : result.issues.map((i) => i.path);
  };

  it("is optional, and resolves to the environment's defaults", () => {
    const result = validate("prod", baseConfig());
    assert.ok(result.ok);
    assert.equal(result.config.policy.enforcement, "mandatory");
    assert.equal(result.config.policy.maxCanaryPercent, 80);
  });

  it("refuses an unknown rule, a level that is not one, and a maximum outside 1-100, naming the key", () => {
    assert.deepEqual(issuesOf({ rules: { "no-such-rule": "advisory" } }), [
      "ai-orchestra:policy.rules.no-such-rule",
    ]);
    assert.deepEqual(issuesOf({ rules: { "image-digest": "warn" } }), [
      "ai-orchestra:policy.rules.image-digest",
    ]);
    assert.deepEqual(issuesOf({ maxCanaryPercent: 0 }), ["ai-orchestra:policy.maxCanaryPercent"]);
    assert.deepEqual(issuesOf({ enforcement: "disabled" }), ["ai-orchestra:policy.enforcement"]);
    assert.deepEqual(issuesOf({ maxCanary: 50 }).length, 1);
  });
});
