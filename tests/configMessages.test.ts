import { strict as assert } from "node:assert";
import type { ConfigIssue } from "../config/errors";
import { formatIssues } from "../config/errors";
import { baseConfig, validate } from "./support/render";

/** Credentials built at run time, so that no scanner mistakes the test for a leak. */
const SLACK = `xoxb-${"1".repeat(12)}-${"a".repeat(24)}`;
const OPENAI = `sk-proj-${"b".repeat(32)}`;

function textOf(flat: Record<string, string>, stack = "prod"): { issues: ConfigIssue[]; text: string } {
  const result = validate(stack, flat);
  assert.equal(result.ok, false, "expected the config to be rejected");
  const issues = result.ok ? [] : [...result.issues];
  return { issues, text: formatIssues(stack, issues) };
}

const SLACK_CHANNEL = { type: "slack", channel: "#alerts" };

describe("config errors: secrets are never echoed", () => {
  it("hides a credential under a mistyped key, and names what it looks like", () => {
    const { text } = textOf(baseConfig({}, { "ai-orchestra:slackTokn": SLACK }));
    assert.match(text, /ai-orchestra:slackTokn = \[redacted: looks like a Slack token\]/);
    assert.match(text, /did you mean `ai-orchestra:slackToken`/);
    assert.ok(!text.includes(SLACK));
  });

  it("hides any value of a key that a typo would have made a secret", () => {
    const { text } = textOf(baseConfig({}, { "ai-orchestra:pagerdutyServiceKy": "0123456789abcdef" }));
    assert.match(text, /pagerdutyServiceKy = \[redacted: a secret\]/);
    assert.ok(!text.includes("0123456789abcdef"));
  });

  it("hides a GitHub secret written `secret:` instead of `secure:`", () => {
    const { text } = textOf(
      baseConfig({}, { "ai-orchestra:githubSecrets": { DEPLOY_HOOK: { secret: "plain-words-here" } } }),
    );
    assert.match(
      text,
      /githubSecrets\.DEPLOY_HOOK = \[redacted: a secret\]\n {4}must be a secret value: `secret:` is not Pulumi's key/,
    );
    assert.ok(!text.includes("plain-words-here"));
  });

  it("refuses a key pasted as a Secret Manager id, which would name resources, without printing it", () => {
    const { issues, text } = textOf(baseConfig({ secretEnv: { OPENAI_API_KEY: { secret: OPENAI } } }));
    assert.equal(issues.length, 1);
    assert.equal(issues[0].path, "ai-orchestra:services.api.secretEnv.OPENAI_API_KEY.secret");
    assert.match(text, /looks like a credential, not the id of a Secret Manager secret/);
    assert.match(text, /gcloud secrets create/);
    assert.ok(!text.includes(OPENAI));
  });
});

describe("config errors: the right fix for the mistake", () => {
  it("one misnamed service adds no errors about the keys that name it", () => {
    const flat = baseConfig(
      {},
      {
        "ai-orchestra:cicd": {
          github: {
            owner: "acme",
            ownerId: 1,
            infraRepository: { name: "infra", id: 2 },
            appId: 3,
            appSlug: "acme-delivery",
          },
          ownsRepositorySettings: true,
          reviewers: { teams: [{ slug: "platform", id: 5 }] },
          applications: { api: { name: "api", id: 4 } },
          perf: { service: "api" },
        },
      },
    );
    const services = JSON.parse(flat["ai-orchestra:services"]) as Record<string, unknown>;
    flat["ai-orchestra:services"] = JSON.stringify({ Api: services.api });
    const { issues, text } = textOf(flat);
    assert.deepEqual(
      issues.map((i) => i.path),
      ["ai-orchestra:services.Api"],
    );
    // The key is what is wrong: it is not shown as if it were the value.
    assert.match(
      text,
      /x ai-orchestra:services\.Api \(the key\)\n {4}is not a valid key: must be a Cloud Run service name/,
    );
  });

  it("a reserved env name is about the key, under env or secretEnv, not its value", () => {
    const { issues, text } = textOf(
      baseConfig({ env: { PORT: "8080" }, secretEnv: { K_SERVICE: { secret: "k-service" } } }),
    );
    assert.deepEqual(issues.map((i) => i.path).sort(), [
      "ai-orchestra:services.api.env.PORT",
      "ai-orchestra:services.api.secretEnv.K_SERVICE",
    ]);
    assert.match(text, /env\.PORT \(the key\)\n {4}is set by Cloud Run itself/);
    assert.ok(!text.includes('"PORT"'));
  });

  it("unknown keys under a channel or policy.rules get the real known keys and a suggestion", () => {
    const channel = textOf(
      baseConfig(
        {},
        { "ai-orchestra:monitoring": { channels: { ops: { ...SLACK_CHANNEL, chanel: "#x" } } } },
      ),
    );
    assert.match(
      channel.text,
      /channels\.ops\.chanel = "#x"\n {4}is not a known key\.\n {4}Fix: did you mean `channel`\?/,
    );
    const email = textOf(
      baseConfig(
        {},
        { "ai-orchestra:monitoring": { channels: { ops: { type: "email", address: "a@b.co", zzz: 1 } } } },
      ),
    );
    assert.match(email.text, /known keys are `type`, `address`, `receives`\./);
    const rule = textOf(baseConfig({}, { "ai-orchestra:policy": { rules: { "image-digst": "advisory" } } }));
    assert.match(
      rule.text,
      /policy\.rules\.image-digst = "advisory"\n {4}is not a known key\.\n {4}Fix: did you mean `image-digest`\?/,
    );
  });

  it("a bad channel type is named as such; a missing one asks for the key", () => {
    const bad = textOf(
      baseConfig({}, { "ai-orchestra:monitoring": { channels: { ops: { type: "emial" } } } }),
    );
    assert.match(
      bad.text,
      /channels\.ops\.type = "emial"\n {4}must be email, slack or pagerduty\.\n {4}Fix: write `type: email`\./,
    );
    assert.ok(!bad.text.includes("add the `type` key"));
    const missing = textOf(
      baseConfig({}, { "ai-orchestra:monitoring": { channels: { ops: { address: "a@b.co" } } } }),
    );
    assert.match(missing.text, /Fix: add the `type` key\./);
  });

  it("a wrong environment suggests the one meant", () => {
    const { text } = textOf({ ...baseConfig(), "ai-orchestra:environment": "production" });
    assert.match(
      text,
      /environment = "production"\n {4}must be one of dev, staging, prod\.\n {4}Fix: write `prod`\./,
    );
    const missing = baseConfig();
    delete missing["ai-orchestra:environment"];
    assert.match(textOf(missing).text, /environment \(missing\)\n {4}is required/);
  });

  it("a bad label value gets the value to write, not 'lowercase it' when it is lowercase", () => {
    const { text } = textOf({
      ...baseConfig(),
      "ai-orchestra:labels": JSON.stringify({ a: "ai platform", b: "Team" }),
    });
    assert.match(text, /labels\.a = "ai platform"\n.*\n {4}Fix: write `ai-platform`\./);
    assert.match(text, /labels\.b = "Team"\n.*\n {4}Fix: write `team`\./);
  });

  it("a mapping under an unknown key is shown as YAML would hold it, not as escaped JSON", () => {
    const { text } = textOf(baseConfig({}, { "ai-orchestra:lables": { team: "x" } }));
    assert.match(text, /ai-orchestra:lables = \{"team":"x"\}/);
    assert.ok(!text.includes('\\"'));
  });

  it("an empty mapping is explained in stack-file terms, not zod's", () => {
    const { text } = textOf(baseConfig({ env: null, scaling: 5 }));
    assert.match(
      text,
      /env = null\n {4}is empty, but must be a mapping .*null in YAML\.\n {4}Fix: add its settings beneath it/,
    );
    assert.match(text, /scaling = 5\n {4}must be a mapping .*, not a number\./);
    assert.ok(!/Invalid input/.test(text), text);
  });
});
