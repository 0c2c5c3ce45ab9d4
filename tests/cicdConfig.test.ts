import { strict as assert } from "node:assert";
import { formatIssues } from "../config/errors";
import { baseConfig, validate } from "./support/render";

const cicd = (extra: Record<string, unknown> = {}) => ({
  github: {
    owner: "ai-orchestra",
    ownerId: 1001,
    infraRepository: { name: "infra", id: 2001 },
    appId: 3001,
  },
  reviewers: { teams: [42] },
  ...extra,
});

/** The formatted errors of a prod config with the given extra keys. */
function errors(extra: Record<string, unknown>, service: Record<string, unknown> = {}): string {
  const result = validate("prod", baseConfig(service, extra));
  assert.ok(!result.ok, "the config is refused");
  return formatIssues("prod", result.issues);
}

describe("CI/CD config", () => {
  it("fills in the schema's defaults", () => {
    const result = validate("prod", baseConfig({}, { "ai-orchestra:cicd": cicd() }));
    assert.ok(result.ok, result.ok ? "" : formatIssues("prod", result.issues));
    assert.deepEqual(result.config.cicd, {
      owner: "ai-orchestra",
      ownerId: 1001,
      infraRepository: { name: "infra", id: 2001 },
      defaultBranch: "main",
      appId: 3001,
      ownsRepositorySettings: false,
      reviewers: { teams: [42], users: [] },
      applications: {},
      registry: { repository: "orchestra", keepVersions: 10, deleteUntaggedAfterDays: 7 },
      // The first service with public ingress, tested at `/`.
      perf: { service: "api", path: "/", p95Ms: 500, errorRate: 0.01, vus: 5, duration: "30s" },
      secretNames: [],
      manageDeliveryAppKey: false,
    });
  });

  it("reports a bad value in a service once, not again as an unknown service under cicd", () => {
    const result = validate(
      "prod",
      baseConfig(
        { memory: "64Mi" },
        {
          "ai-orchestra:cicd": cicd({
            ownsRepositorySettings: true,
            applications: { api: { name: "api", id: 5 } },
            perf: { service: "api" },
          }),
        },
      ),
    );
    assert.ok(!result.ok);
    assert.deepEqual(
      result.issues.map((i) => i.path),
      ["ai-orchestra:services.api.memory"],
    );
  });

  it("treats Pulumi.yaml's empty defaults as not configured", () => {
    const result = validate(
      "prod",
      baseConfig(
        {},
        {
          "ai-orchestra:cicd": "{}",
          "ai-orchestra:githubSecrets": "{}",
          "ai-orchestra:deliveryAppPrivateKey": "",
        },
      ),
    );
    assert.ok(result.ok && result.config.cicd === undefined);
  });

  it("requires environment reviewers in prod", () => {
    const text = errors({ "ai-orchestra:cicd": cicd({ reviewers: undefined }) });
    assert.match(
      text,
      /x ai-orchestra:cicd\.reviewers \(missing\)\n {4}must name at least one team or user in prod/,
    );
    assert.match(text, /Fix: add `reviewers: \{teams: \[\{slug: TEAM, id: TEAM_ID\}\]\}`/);
  });

  it("refuses repository names or owners instead of numeric ids", () => {
    const text = errors({
      "ai-orchestra:cicd": cicd({ github: { ...cicd().github, ownerId: "ai-orchestra" } }),
    });
    assert.match(
      text,
      /x ai-orchestra:cicd\.github\.ownerId = "ai-orchestra"\n {4}must be the numeric id of the owner\.\n {4}Fix: `gh api orgs\/OWNER --jq \.id` prints it\./,
    );
  });

  it("lists application repositories only in the stack that owns repository-wide settings", () => {
    const text = errors({ "ai-orchestra:cicd": cicd({ applications: { api: { name: "api", id: 4001 } } }) });
    assert.match(text, /x ai-orchestra:cicd\.applications\.api = \{"name":"api","id":4001\}/);
    assert.match(
      text,
      /Fix: move `applications` to the stack with `ownsRepositorySettings: true` \(prod\)\./,
    );
    const unknown = errors({
      "ai-orchestra:cicd": cicd({
        ownsRepositorySettings: true,
        applications: { web: { name: "web", id: 4001 } },
      }),
    });
    assert.match(
      unknown,
      /ai-orchestra:cicd\.applications\.web .*\n {4}is not a service of this stack; services are `api`\./,
    );
  });

  it("load-tests only a service reachable from the internet", () => {
    const text = errors({ "ai-orchestra:cicd": cicd({ perf: { service: "api" } }) }, { ingress: "internal" });
    assert.match(
      text,
      /x ai-orchestra:cicd\.perf\.service = "api"\n {4}must be a service of this stack with ingress `all`.*candidates: none\./,
    );
  });

  it("accepts reviewers as bare ids or with their names, and resolves both to ids", () => {
    const result = validate(
      "prod",
      baseConfig(
        {},
        {
          "ai-orchestra:cicd": cicd({
            github: { ...cicd().github, appSlug: "orchestra-delivery" },
            reviewers: {
              teams: [42, { slug: "platform", id: 43 }],
              users: [{ login: "octocat", id: 583231 }],
            },
          }),
        },
      ),
    );
    assert.ok(result.ok, result.ok ? "" : formatIssues("prod", result.issues));
    assert.deepEqual(result.config.cicd?.reviewers, { teams: [42, 43], users: [583231] });
  });

  it("names a reviewer entry that is neither an id nor {slug|login, id}, with the fix", () => {
    const text = errors({
      "ai-orchestra:cicd": cicd({
        reviewers: { teams: [{ slug: "platform" }], users: [{ name: "octocat", id: 1 }] },
      }),
    });
    assert.match(text, /ai-orchestra:cicd\.reviewers\.teams\.0/);
    assert.match(text, /ai-orchestra:cicd\.reviewers\.users\.0/);
    assert.match(text, /orchestra cicd ids --stack STACK --write/);
  });

  it("gives every bad value its key path and a fix", () => {
    const result = validate(
      "prod",
      baseConfig(
        {},
        {
          "ai-orchestra:cicd": {
            github: { owner: "bad owner!", ownerId: -1, infraRepository: { name: 7, id: 1.5 }, appId: "x" },
            reviewers: { teams: ["platform"] },
            registry: { repository: "Bad_Repo", keepVersions: 0, deleteUntaggedAfterDays: "week" },
            stateBucket: "gs://bucket",
            secretsKey: "state",
            perf: { path: "healthz", p95Ms: 0, errorRate: 5, vus: 1000, duration: "30" },
          },
        },
      ),
    );
    assert.ok(!result.ok);
    assert.ok(result.issues.length >= 14, `${result.issues.length} issues`);
    for (const issue of result.issues) {
      assert.match(issue.path, /^ai-orchestra:cicd\.[a-zA-Z.0-9]+$/);
      assert.match(issue.message, /\nFix: /, `${issue.path}: ${issue.message}`);
    }
  });

  it("suggests the key a typo meant, inside the CI/CD block too", () => {
    const text = errors({ "ai-orchestra:cicd": cicd({ ownsRepositorySetting: true }) });
    assert.match(
      text,
      /x ai-orchestra:cicd\.ownsRepositorySetting = true\n {4}is not a known key\.\n {4}Fix: did you mean `ownsRepositorySettings`\?/,
    );
  });

  it("checks secret names without ever printing a secret's value", () => {
    const text = errors({
      "ai-orchestra:cicd": cicd(),
      "ai-orchestra:githubSecrets": { "slack-webhook": "s3cr3t-value" },
    });
    assert.match(
      text,
      /ai-orchestra:githubSecrets\.slack-webhook \(the key\)\n {4}is not a valid key: must be a GitHub secret name/,
    );
    assert.ok(!text.includes("s3cr3t-value"));
  });

  it("refuses secrets with nowhere to write them", () => {
    const text = errors({
      "ai-orchestra:githubSecrets": { SLACK: "x" },
      "ai-orchestra:deliveryAppPrivateKey": "pem",
    });
    assert.match(
      text,
      /x ai-orchestra:githubSecrets = \[redacted: a secret\]\n {4}is set, but `ai-orchestra:cicd` is not/,
    );
    assert.match(
      text,
      /x ai-orchestra:deliveryAppPrivateKey = \[redacted: a secret\]\n {4}is set, but `ai-orchestra:cicd` is not/,
    );
    assert.ok(!text.includes("pem"));
  });

  it("writes the App's key only from the owning stack", () => {
    const text = errors({ "ai-orchestra:cicd": cicd(), "ai-orchestra:deliveryAppPrivateKey": "pem-text" });
    assert.match(
      text,
      /x ai-orchestra:deliveryAppPrivateKey = \[redacted: a secret\]\n {4}is only written by the stack that owns/,
    );
    assert.ok(!text.includes("pem-text"));
  });
});
