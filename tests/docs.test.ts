import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { servicePlan } from "../model/release/servicePlan";
import { formatIssues } from "../config/errors";
import { readStackConfig } from "../render/stackFile";
import { baseConfig, ROOT, validate } from "./support/render";
import { docBlock, fencedBlocks } from "./support/docs";

/** The canary example of docs/canary-and-rollout.md: a full service with a pinned stable revision. */
const CANARY_EXAMPLE = "pinned by `orchestra canary start`";

describe("docs examples", () => {
  it("the canary example is a valid config whose pinned revision is the real stable revision", () => {
    const example = docBlock(CANARY_EXAMPLE, "yaml");
    assert.ok(example, "the docs show a canary example");
    const services = parse(example)["ai-orchestra:services"];
    const flat = {
      ...baseConfig(),
      "gcp:project": "ai-orchestra-prod",
      "ai-orchestra:services": JSON.stringify(services),
    };
    const result = validate("prod", flat);
    assert.ok(result.ok, result.ok ? "" : formatIssues("prod", result.issues));
    const api = result.config.services[0];
    const unpinned = servicePlan(result.config, {
      ...api,
      canary: undefined,
      stable: { image: api.stable.image },
    });
    assert.equal(api.stable.revision, unpinned.plan?.templateRevision);
    assert.deepEqual(
      servicePlan(result.config, api).plan?.traffic.map((t) => [t.tag, t.percent]),
      [
        ["stable", 90],
        ["canary", 10],
      ],
    );
  });

  it("the README's canary in brief is the canary example, abridged", () => {
    const brief = fencedBlocks("README.md").find((b) => b.lang === "yaml" && b.text.includes("canary:"));
    assert.ok(brief, "README shows a canary");
    const full = parse(docBlock(CANARY_EXAMPLE, "yaml")!)["ai-orchestra:services"];
    const short = parse(brief.text)["ai-orchestra:services"];
    for (const [name, service] of Object.entries<Record<string, Record<string, unknown>>>(short))
      for (const [section, keys] of Object.entries(service))
        for (const key of Object.keys(keys))
          assert.ok(key in (full[name]?.[section] ?? {}), `${name}.${section}.${key} is in the full example`);
    assert.equal(short.api.canary.percent, full.api.canary.percent);
  });

  it("the config error example is what a typo prints", () => {
    const shown = docBlock("nothing was declared", "");
    assert.ok(shown, "the docs show a config error");
    const result = validate("prod", baseConfig({ memroy: "1Gi" }));
    assert.ok(!result.ok);
    assert.equal(formatIssues("prod", result.issues).trim(), shown.trim());
  });

  it("the monitoring example is a valid config for the prod stack, once its secrets are set", () => {
    const example = docBlock("ai-orchestra:monitoring:\n  runbookUrl:", "yaml");
    assert.ok(example, "the docs show a monitoring example");
    const flat = {
      ...readStackConfig(ROOT, "prod").flat,
      "ai-orchestra:monitoring": JSON.stringify(parse(example)["ai-orchestra:monitoring"]),
      "ai-orchestra:slackToken": "xoxb-example",
      "ai-orchestra:pagerdutyServiceKey": "example-key",
    };
    const result = validate("prod", flat);
    assert.ok(result.ok, result.ok ? "" : formatIssues("prod", result.issues));
    assert.equal(result.config.monitoring.services.worker.alerts.latency.thresholdMs, 600000);
    assert.equal(result.config.monitoring.services.api.alerts.saturation.notify, "page");
  });

  it("the quick start and .ci/run agree on the install and test commands", () => {
    const quickStart = fencedBlocks("README.md").filter((b) => b.lang === "sh")[0]?.text ?? "";
    const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
    assert.match(quickStart, /npm ci && npx orchestra plan --stack dev/);
    assert.match(quickStart, /npm test/);
    assert.match(ci, /npm ci/);
    assert.match(ci, /npx orchestra plan --stack dev/);
    assert.match(ci, /npm test/);
  });
});
