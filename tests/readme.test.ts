import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { servicePlan } from "../model/release/servicePlan";
import { formatIssues } from "../config/errors";
import { readStackConfig } from "../render/stackFile";
import { baseConfig, ROOT, validate } from "./support/render";

const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

/** The fenced blocks of one language ("" for none), in order. */
function blocks(lang: string): string[] {
  const found: string[] = [];
  let current: string[] | undefined;
  let currentLang = "";
  for (const line of README.split("\n")) {
    const fence = /^```(\S*)\s*$/.exec(line);
    if (fence && current === undefined) {
      current = [];
      currentLang = fence[1];
    } else if (fence && current !== undefined) {
      if (currentLang === lang) found.push(current.join("\n"));
      current = undefined;
    } else current?.push(line);
  }
  return found;
}

describe("README examples", () => {
  it("the canary example is a valid config whose pinned revision is the real stable revision", () => {
    const services = parse(blocks("yaml")[0])["ai-orchestra:services"];
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

  it("the config error example is what a typo prints", () => {
    const shown = blocks("").find((b) => b.includes("nothing was declared"));
    assert.ok(shown, "README shows a config error");
    const result = validate("prod", baseConfig({ memroy: "1Gi" }));
    assert.ok(!result.ok);
    assert.equal(formatIssues("prod", result.issues).trim(), shown.trim());
  });

  it("the monitoring example is a valid config for the prod stack, once its secrets are set", () => {
    const example = blocks("yaml").find((b) => b.includes("ai-orchestra:monitoring"));
    assert.ok(example, "README shows a monitoring example");
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
    const quickStart = blocks("sh")[0];
    const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
    assert.match(quickStart, /npm ci && npx orchestra plan --stack dev/);
    assert.match(quickStart, /npm test/);
    assert.match(ci, /npm ci/);
    assert.match(ci, /npx orchestra plan --stack dev/);
    assert.match(ci, /npm test/);
  });
});
