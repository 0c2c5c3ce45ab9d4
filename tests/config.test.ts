import { strict as assert } from "node:assert";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ConfigIssue } from "../config/errors";
import { formatIssues } from "../config/errors";
import { parseImageRef } from "../model/imageRef";
import { baseConfig, digest, REPO, ROOT, validate } from "./support/render";

const STABLE = `${REPO}@${digest("stable")}`;
const CANARY = {
  image: `${REPO}@${digest("c")}`,
  revision: "api-0123456789-0zmkgc",
  percent: 5,
  phase: "serving",
};

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
        canary: { ...CANARY, percent: 150 },
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
        api: { repository: REPO, canary: { ...CANARY, image: STABLE } },
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
      const issue = onlyIssue(baseConfig({ canary: { ...CANARY, image: `${REPO}-other@${digest("x")}` } }));
      assert.equal(issue.path, "ai-orchestra:services.api.canary.image");
      assert.match(issue.message, /not in this service's repository/);
    });

    it("refuses a canary that is the stable image", () => {
      assert.match(
        onlyIssue(baseConfig({ canary: { ...CANARY, image: STABLE } })).message,
        /nothing to compare/,
      );
    });

    it("refuses the old `rolledBack` key, naming the keys a canary has", () => {
      const issue = onlyIssue(baseConfig({ canary: { ...CANARY, rolledBack: true } }));
      assert.equal(issue.path, "ai-orchestra:services.api.canary.rolledBack");
      assert.match(issue.message, /`phase`/);
    });

    it("refuses a canary without the revision name and phase `orchestra canary start` writes", () => {
      const issues = issuesOf(baseConfig({ canary: { image: CANARY.image, percent: CANARY.percent } }));
      assert.deepEqual(
        issues.map((i) => i.path),
        ["ai-orchestra:services.api.canary.revision", "ai-orchestra:services.api.canary.phase"],
      );
      assert.match(issues[0].message, /orchestra canary start/);
      assert.match(issues[1].message, /staged, serving, rolled-back/);
    });

    it("allows a pinned stable revision without a canary (promote keeps it), but only of this service", () => {
      assert.ok(validate("prod", baseConfig({ stable: { image: STABLE, revision: "api-abc" } })).ok);
      const other = baseConfig({ stable: { image: STABLE, revision: "web-abc" } });
      assert.match(onlyIssue(other).message, /must start with the service name/);
    });

    it("while a canary exists, both revisions must be reproducible from the settings; an edit mid-canary is refused", () => {
      const stableOnly = validate("prod", baseConfig());
      assert.ok(stableOnly.ok);
      // A canary written by hand without the stable pin: the error names the revision to pin.
      const issues = issuesOf(baseConfig({ canary: CANARY }));
      assert.deepEqual(
        issues.map((i) => i.path),
        ["ai-orchestra:services.api.stable.revision", "ai-orchestra:services.api.canary.revision"],
      );
      assert.equal(issues[0].hasValue, false);
      const stable = /add `revision: (api-[0-9a-f]{10})`/.exec(issues[0].message)?.[1];
      assert.ok(stable, issues[0].message);
      // The canary's name must be an attempt of its own template: the error names the content part.
      const content = /would make (api-[0-9a-f]{10})-<attempt>/.exec(issues[1].message)?.[1];
      assert.ok(content, issues[1].message);
      const pinned = {
        stable: { image: STABLE, revision: stable },
        canary: { ...CANARY, revision: `${content}-0zmkgc` },
      };
      assert.ok(validate("prod", baseConfig(pinned)).ok);

      // Memory edited while the canary runs: both pins were built from the old settings.
      const edited = issuesOf(baseConfig({ ...pinned, memory: "1Gi" }));
      assert.deepEqual(
        edited.map((i) => i.path),
        ["ai-orchestra:services.api.stable.revision", "ai-orchestra:services.api.canary.revision"],
      );
      for (const issue of edited) {
        assert.match(issue.message, /a setting changed while the canary runs/);
        assert.match(issue.message, /Fix: undo the settings change, finish the canary first/);
      }
      // Once rolled back, only stable must be reproducible: the canary revision is no longer rendered.
      const rolledBack = { ...pinned, canary: { ...pinned.canary, phase: "rolled-back" } };
      assert.ok(validate("prod", baseConfig(rolledBack)).ok);
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
