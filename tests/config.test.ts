import { strict as assert } from "node:assert";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ConfigIssue } from "../config/errors";
import { formatIssues } from "../config/errors";
import { parseImageRef } from "../model/imageRef";
import { baseConfig, digest, REPO, ROOT, validate } from "./support/render";

const STABLE = `${REPO}@${digest("stable")}`;

function issuesOf(flat: Record<string, string>, stack = "prod"): ConfigIssue[] {
  const result = validate(stack, flat);
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : [...result.issues];
}

function onlyIssue(flat: Record<string, string>, stack = "prod"): ConfigIssue {
  const issues = issuesOf(flat, stack);
  assert.equal(issues.length, 1, JSON.stringify(issues, null, 2));
  return issues[0];
}

describe("stack config validation", () => {
  it("accepts the minimal config and fills prod defaults", () => {
    const result = validate("prod", baseConfig());
    assert.ok(result.ok);
    const api = result.config.services[0];
    assert.deepEqual(
      {
        cpu: api.cpu,
        memory: api.memory,
        scaling: api.scaling,
        deletionProtection: api.deletionProtection,
        port: api.port,
      },
      {
        cpu: "1",
        memory: "512Mi",
        scaling: { minInstances: 1, maxInstances: 10, concurrency: 80 },
        deletionProtection: true,
        port: 8080,
      },
    );
  });

  it("names the key path, the bad value, what is allowed and the fix", () => {
    const issue = onlyIssue(
      baseConfig({
        stable: { image: STABLE, revision: "api-0" },
        canary: { image: `${REPO}@${digest("c")}`, percent: 150 },
      }),
    );
    assert.equal(issue.path, "ai-orchestra:services.api.canary.percent");
    assert.equal(issue.value, 150);
    assert.match(issue.message, /at most 100/);
    assert.match(issue.message, /\nFix: /);
    const text = formatIssues("prod", [issue]);
    assert.match(text, /Stack "prod" has 1 config error; nothing was declared\./);
    assert.match(text, /ai-orchestra:services\.api\.canary\.percent = 150/);
  });

  it("reports every error at once", () => {
    const issues = issuesOf(baseConfig({ memory: "lots", scaling: { minInstances: -1 }, ingress: "public" }));
    assert.deepEqual(issues.map((i) => i.path).sort(), [
      "ai-orchestra:services.api.ingress",
      "ai-orchestra:services.api.memory",
      "ai-orchestra:services.api.scaling.minInstances",
    ]);
  });

  describe("typos", () => {
    it("suggests the service setting that was meant", () => {
      const issue = onlyIssue(baseConfig({ memroy: "1Gi" }));
      assert.equal(issue.path, "ai-orchestra:services.api.memroy");
      assert.equal(issue.value, "1Gi");
      assert.match(issue.message, /did you mean `memory`\?/);
    });

    it("suggests the top-level key that was meant", () => {
      const flat = baseConfig();
      flat["ai-orchestra:label"] = flat["ai-orchestra:labels"];
      delete flat["ai-orchestra:labels"];
      assert.match(onlyIssue(flat).message, /did you mean `ai-orchestra:labels`\?/);
    });

    it("checks gcp: keys against the provider's own config", () => {
      const issue = onlyIssue(baseConfig({}, { "gcp:regoin": "europe-west1" }));
      assert.equal(issue.path, "gcp:regoin");
      assert.match(issue.message, /did you mean `gcp:region`\?/);
    });

    it("flags a misspelt namespace", () => {
      const issue = onlyIssue(baseConfig({}, { "ai-orchestr:environment": "prod" }));
      assert.match(issue.message, /did you mean `ai-orchestra:environment`\?/);
    });

    it("lists the known keys when nothing is close", () => {
      assert.match(onlyIssue(baseConfig({ zzzzzzzz: 1 })).message, /known keys are .*`repository`/);
    });
  });

  describe("releases", () => {
    it("refuses a canary on a service with no stable release, and says why", () => {
      const flat = baseConfig();
      flat["ai-orchestra:services"] = JSON.stringify({
        api: { repository: REPO, canary: { image: STABLE, percent: 10 } },
      });
      const issue = onlyIssue(flat);
      assert.equal(issue.path, "ai-orchestra:services.api.stable");
      assert.match(issue.message, /no stable release/);
      assert.match(issue.message, /Fix: deploy the first release as stable/);
    });

    it("requires digests in prod and staging, and only warns in dev", () => {
      const tagged = { stable: { image: `${REPO}:v1` } };
      for (const env of ["prod", "staging"]) {
        const issue = onlyIssue(baseConfig(tagged, { "ai-orchestra:environment": env }), env);
        assert.equal(issue.path, "ai-orchestra:services.api.stable.image");
        assert.match(issue.message, /pinned by digest/);
      }
      const dev = validate("dev", baseConfig(tagged, { "ai-orchestra:environment": "dev" }));
      assert.ok(dev.ok);
      assert.match(dev.warnings.join("\n"), /is a tag, not a digest/);
    });

    it("refuses images from another repository", () => {
      const issue = onlyIssue(baseConfig({ canary: { image: `${REPO}-other@${digest("x")}`, percent: 5 } }));
      assert.equal(issue.path, "ai-orchestra:services.api.canary.image");
      assert.match(issue.message, /not in this service's repository/);
    });

    it("refuses a canary that is the stable image", () => {
      assert.match(
        onlyIssue(baseConfig({ canary: { image: STABLE, percent: 5 } })).message,
        /nothing to compare/,
      );
    });

    it("refuses a rolled-back canary that still has traffic", () => {
      const issue = onlyIssue(
        baseConfig({ canary: { image: `${REPO}@${digest("c")}`, percent: 5, rolledBack: true } }),
      );
      assert.equal(issue.path, "ai-orchestra:services.api.canary.percent");
    });

    it("refuses a pinned stable revision without a canary, or for another service", () => {
      assert.match(
        onlyIssue(baseConfig({ stable: { image: STABLE, revision: "api-abc" } })).message,
        /there is no canary/,
      );
      const other = baseConfig({
        stable: { image: STABLE, revision: "web-abc" },
        canary: { image: `${REPO}@${digest("c")}`, percent: 5 },
      });
      assert.match(onlyIssue(other).message, /must start with the service name/);
    });

    it("requires the stable revision pinned while a canary runs, and names the one to pin", () => {
      const stableOnly = validate("prod", baseConfig());
      assert.ok(stableOnly.ok);
      const issue = onlyIssue(baseConfig({ canary: { image: `${REPO}@${digest("c")}`, percent: 5 } }));
      assert.equal(issue.path, "ai-orchestra:services.api.stable.revision");
      assert.equal(issue.hasValue, false);
      const named = /add `revision: (api-[0-9a-f]{10})`/.exec(issue.message)?.[1];
      assert.ok(named, issue.message);
      // The named revision is the one the stable-only service is serving now.
      const pinned = baseConfig({
        stable: { image: STABLE, revision: named },
        canary: { image: `${REPO}@${digest("c")}`, percent: 5 },
      });
      assert.ok(validate("prod", pinned).ok);
    });

    it("allows local builds in dev only", () => {
      const build = { stable: { build: { context: "../app" } } };
      assert.ok(validate("dev", baseConfig(build, { "ai-orchestra:environment": "dev" })).ok);
      assert.match(onlyIssue(baseConfig(build)).message, /only allowed in dev stacks/);
    });
  });

  describe("service settings", () => {
    it("enforces Cloud Run's memory-per-CPU limit", () => {
      const issue = onlyIssue(baseConfig({ memory: "10Gi" }));
      assert.equal(issue.path, "ai-orchestra:services.api.cpu");
      assert.match(issue.message, /at least 4/);
      assert.ok(validate("prod", baseConfig({ memory: "10Gi", cpu: 4 })).ok);
      assert.ok(validate("prod", baseConfig({ memory: "8Gi", cpu: 2 })).ok, "8Gi is not more than 8Gi");
      assert.match(onlyIssue(baseConfig({ memory: "1Gi", cpu: 6 })).message, /at least 4Gi for 6 CPUs/);
    });

    it("rejects reserved and duplicated environment variables", () => {
      assert.match(onlyIssue(baseConfig({ env: { PORT: "1" } })).message, /set by Cloud Run itself/);
      assert.match(
        onlyIssue(baseConfig({ env: { A: "1" }, secretEnv: { A: { secret: "a" } } })).message,
        /also a plain `env`/,
      );
    });

    it("rejects service names Cloud Run cannot use or tag", () => {
      const flat = baseConfig();
      flat["ai-orchestra:services"] = JSON.stringify({
        "a-service-name-that-is-far-too-long-for-tags": { repository: REPO },
      });
      const issue = onlyIssue(flat);
      assert.match(issue.message, /at most 40 characters/);
    });

    it("rejects min instances above max", () => {
      assert.match(
        onlyIssue(baseConfig({ scaling: { minInstances: 5, maxInstances: 2 } })).message,
        /must not exceed/,
      );
    });

    it("requires gcp:project and gcp:region", () => {
      const flat = baseConfig();
      delete flat["gcp:project"];
      const issue = onlyIssue(flat);
      assert.equal(issue.path, "gcp:project");
      assert.equal(issue.hasValue, false);
      assert.match(issue.message, /pulumi config set gcp:project/);
    });
  });

  describe("image references", () => {
    it("splits repository, tag and digest", () => {
      assert.deepEqual(parseImageRef(`${REPO}:v1@${digest("a")}`), {
        repository: REPO,
        tag: "v1",
        digest: digest("a"),
      });
      assert.deepEqual(parseImageRef(`${REPO}`), { repository: REPO });
      assert.equal(parseImageRef("UPPER/case"), undefined);
      assert.equal(parseImageRef(`${REPO}@sha256:short`), undefined);
    });
  });
});

describe("the program with a bad config", () => {
  it("stops with a RunError (printed without a stack trace) before declaring anything", async () => {
    const declared: string[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          declared.push(args.name);
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call: (args) => args.inputs,
      },
      "ai-orchestra",
      "prod",
      false,
    );
    pulumi.runtime.setAllConfig(baseConfig({ memroy: "1Gi" }));
    delete require.cache[path.join(ROOT, "index.ts")];
    await assert.rejects(
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program, loaded afresh
      async () => require(path.join(ROOT, "index.ts")),
      (err: Error) =>
        pulumi.RunError.isInstance(err) &&
        /services\.api\.memroy/.test(err.message) &&
        /did you mean `memory`/.test(err.message),
    );
    assert.deepEqual(declared, []);
  });
});
