import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { DEFAULT_CANARY_PERCENT } from "../model/canary/lifecycle";
import type { RenderedStack } from "../render/renderStack";
import { buildProgram } from "../cli/main";
import { completionTree } from "../cli/completion/scripts";
import { formatDiffMarkdown, formatDiffText, showValue } from "../cli/diff/format";
import { shortImage } from "../model/imageRef";
import { diffStacks, hasChanges, inputChanges, secretChanges } from "../cli/diff/stackDiff";
import { secureValues } from "../render/stackFile";
import { pulumiRunChecks, satisfiesMinimum, stackForBranch, type DoctorFacts } from "../cli/doctor/evaluate";
import { assessToken } from "../cli/github/assess";
import {
  expiryStatus,
  missingScopes,
  parseAcceptedPermissions,
  parseExpiration,
  parseScopes,
  repoFromRemote,
  tokenKind,
} from "../cli/github/token";
import type { ApiFacts } from "../cli/github/tokenCheck";
import { redactArgs } from "../cli/history/redact";
import { credentialKind } from "../model/secrets";
import { upRefusals } from "../cli/pulumi/guard";
import { nextCanaryPercent, nextStep } from "../cli/suggest/nextStep";
import { liveCanaries, readProjectState } from "../cli/suggest/projectState";
import { tokenFingerprint, writeTokenMemo } from "../cli/history/stateDir";

/** The pure decisions behind doctor, auth, diff, up, history and suggestions, called directly. */

const fake = (prefix: string) => `${prefix}_FAKE`;
const NOW = new Date("2026-11-24T12:00:00Z");
const days = (n: number) => new Date(NOW.getTime() + n * 86_400_000);

describe("GitHub token decisions", () => {
  it("names the kind from the prefix", () => {
    assert.deepEqual(
      ["ghp", "github_pat", "gho", "ghu", "ghs", "ghr", "xyz"].map((p) => tokenKind(fake(p))),
      ["classic", "fine-grained", "oauth", "app-user", "app-installation", "refresh", "unknown"],
    );
  });

  it("parses scopes, accepted permissions and the expiration header", () => {
    assert.deepEqual(parseScopes("repo, workflow,  read:org"), ["repo", "workflow", "read:org"]);
    assert.deepEqual(parseScopes(""), []);
    assert.deepEqual(parseAcceptedPermissions("contents=read; secrets=read, metadata=read"), [
      ["contents: read"],
      ["secrets: read", "metadata: read"],
    ]);
    assert.equal(parseExpiration("2027-08-05 06:20:31 UTC")?.toISOString(), "2027-08-05T06:20:31.000Z");
    assert.equal(parseExpiration("2027-08-05 08:20:31 +0200")?.toISOString(), "2027-08-05T06:20:31.000Z");
    assert.equal(parseExpiration("soon"), undefined);
    assert.equal(parseExpiration(undefined), undefined);
  });

  it("workflow is its own scope; repo is needed for secrets and environments", () => {
    assert.deepEqual(missingScopes(["repo"], ["repo", "workflow"]), ["workflow"]);
    assert.deepEqual(missingScopes(["public_repo", "workflow"], ["repo", "workflow"]), ["repo"]);
    assert.deepEqual(missingScopes(["repo", "workflow"], ["repo", "workflow"]), []);
  });

  it("expiry: none, ok, expiring inside the window, expired", () => {
    assert.deepEqual(expiryStatus(undefined, NOW), { state: "never" });
    assert.equal(expiryStatus(days(30), NOW).state, "ok");
    assert.equal(expiryStatus(days(13.5), NOW).state, "expiring");
    assert.equal(expiryStatus(days(13.5), NOW, 7).state, "ok");
    assert.equal(expiryStatus(days(-0.01), NOW).state, "expired");
  });

  it("finds owner/name in https, ssh and Enterprise remotes", () => {
    assert.equal(repoFromRemote("https://github.com/acme/infra.git"), "acme/infra");
    assert.equal(repoFromRemote("git@github.com:acme/infra.git\n"), "acme/infra");
    assert.equal(repoFromRemote("ssh://git@ghe.example.com:2222/acme/infra"), "acme/infra");
    assert.equal(repoFromRemote("not a url"), undefined);
  });

  const facts = (over: Partial<ApiFacts> = {}): ApiFacts => ({
    apiUrl: "https://api.github.com",
    identity: "octo",
    probes: [],
    ...over,
  });
  const statusOf = (a: ReturnType<typeof assessToken>) =>
    Object.fromEntries(a.checks.map((c) => [c.id, c.status]));

  it("assesses a classic token by its scopes, per purpose", () => {
    const a = assessToken({
      kind: "classic",
      source: "GITHUB_TOKEN",
      facts: facts({ scopes: ["repo"], expiresAt: days(40) }),
      purposes: ["secrets", "workflows"],
      now: NOW,
      warnDays: 14,
    });
    assert.deepEqual(statusOf(a), {
      token: "ok",
      expiry: "ok",
      "for-secrets": "ok",
      "for-workflows": "fail",
    });
    assert.match(a.recommendations[0], /GitHub App/);
  });

  it("Actions' GITHUB_TOKEN can never write workflows", () => {
    const a = assessToken({
      kind: "app-installation",
      source: "GITHUB_TOKEN",
      facts: facts(),
      purposes: ["workflows"],
      repo: "acme/infra",
      now: NOW,
      warnDays: 14,
      inActions: true,
    });
    assert.equal(statusOf(a)["for-workflows"], "fail");
  });

  it("a refresh token fails: it cannot call the API", () => {
    const a = assessToken({
      kind: "refresh",
      source: "GH_TOKEN",
      facts: facts(),
      purposes: [],
      now: NOW,
      warnDays: 14,
    });
    assert.equal(statusOf(a)["token-kind"], "fail");
  });
});

describe("doctor and up decisions", () => {
  it("compares Node.js versions with the engines range", () => {
    assert.ok(satisfiesMinimum("20.19.0", ">=20.19"));
    assert.ok(satisfiesMinimum("22.1.0", ">=20.19"));
    assert.ok(!satisfiesMinimum("20.18.9", ">=20.19"));
    assert.ok(!satisfiesMinimum("18.20.0", ">=20.19"));
  });

  it("maps branches to stacks", () => {
    const stacks = ["dev", "staging", "prod"];
    assert.equal(stackForBranch("main", "main", stacks), "prod");
    assert.equal(stackForBranch("trunk", "trunk", stacks), "prod");
    assert.equal(stackForBranch("release/1.2", "main", stacks), "staging");
    assert.equal(stackForBranch("feature/x", "main", stacks), "dev");
    assert.equal(stackForBranch("feature/x", "main", ["prod"]), undefined);
  });

  it("preview/up require the CLI, its login and an existing, valid stack file", () => {
    const ran = { missing: false, code: 0, stdout: "v3.0.0", stderr: "" };
    const facts: DoctorFacts = {
      node: { version: "20.19.0", required: ">=20.19" },
      pulumiVersion: ran,
      pulumiWhoami: { ...ran, stdout: '{"user":"u","url":"gs://b"}' },
      adc: { file: "/none", exists: false, fromEnv: false },
      docker: ran,
      git: {},
      stacks: [{ stack: "prod", warnings: 0 }],
    };
    const failed = (stack: string, f = facts) =>
      pulumiRunChecks(f, stack)
        .filter((c) => c.status === "fail")
        .map((c) => c.id);
    assert.deepEqual(failed("prod"), []);
    assert.deepEqual(failed("nope"), ["stack-nope"]);
    assert.deepEqual(
      failed("prod", {
        ...facts,
        pulumiVersion: { ...ran, missing: true, code: null },
        pulumiWhoami: undefined,
      }),
      ["pulumi-cli"],
    );
    assert.deepEqual(failed("prod", { ...facts, pulumiWhoami: { ...ran, code: 255 } }), ["pulumi-login"]);
  });

  it("guards only prod: clean tree and default branch unless allowed", () => {
    const base = {
      stack: "prod",
      environment: "prod",
      branch: "main",
      defaultBranch: "main",
      dirty: [],
      upstream: { upstream: "origin/main", ahead: 0 },
      allowUnpushed: false,
    };
    assert.deepEqual(upRefusals({ ...base, allowDirty: false, allowBranch: false }), []);
    assert.equal(
      upRefusals({ ...base, dirty: ["a"], branch: "x", allowDirty: false, allowBranch: false }).length,
      2,
    );
    assert.deepEqual(
      upRefusals({ ...base, dirty: ["a"], branch: "x", allowDirty: true, allowBranch: true }),
      [],
    );
    assert.deepEqual(
      upRefusals({ ...base, environment: "dev", dirty: ["a"], allowDirty: false, allowBranch: false }),
      [],
    );
    assert.match(
      upRefusals({ ...base, dirty: undefined, allowDirty: false, allowBranch: false })[0],
      /not a git repository/,
    );
  });

  it("refuses to deploy prod from a commit its upstream lacks, or with no upstream, unless allowed", () => {
    const base = {
      stack: "prod",
      environment: "prod",
      branch: "main",
      defaultBranch: "main",
      dirty: [],
      allowDirty: false,
      allowBranch: false,
      allowUnpushed: false,
    };
    assert.deepEqual(upRefusals({ ...base, upstream: { upstream: "origin/main", ahead: 2 } }), [
      "main is 2 commits ahead of origin/main: push first (git push), so that what is deployed is what was pushed, or pass --allow-unpushed",
    ]);
    assert.deepEqual(upRefusals({ ...base, upstream: undefined }), [
      "main has no upstream, so whether this commit was pushed cannot be told: push it (git push -u origin main), or pass --allow-unpushed",
    ]);
    assert.deepEqual(
      upRefusals({ ...base, upstream: { upstream: "origin/main", ahead: 2 }, allowUnpushed: true }),
      [],
    );
    assert.deepEqual(upRefusals({ ...base, environment: "dev", upstream: undefined }), []);
  });
});

describe("history and suggestions", () => {
  it("redacts secret options and anything shaped like a token", () => {
    assert.deepEqual(
      redactArgs([
        "auth",
        "--token",
        "abc",
        "--password=x",
        "--stack",
        "prod",
        `${fake("ghp")}1234`,
        "https://u:p@host/x",
      ]),
      [
        "auth",
        "--token",
        "[redacted]",
        "--password=[redacted]",
        "--stack",
        "prod",
        "[redacted]",
        "https://[redacted]@host/x",
      ],
    );
  });

  it("redacts every credential shape the guardrails know, and -c/--config values of secret keys", () => {
    const slack = `xoxb-${"1".repeat(12)}-${"a".repeat(24)}`;
    const openai = `sk-proj-${"b".repeat(32)}`;
    const aws = `AKIA${"C".repeat(16)}`;
    const recorded = redactArgs([
      "preview",
      "--stack",
      "dev",
      "--",
      "-c",
      `ai-orchestra:slackToken=${"plain".repeat(4)}`,
      `--config=ai-orchestra:pagerdutyServiceKey=${"d".repeat(32)}`,
      `-cai-orchestra:githubSecrets.DEPLOY_KEY=${"e".repeat(16)}`,
      "-c",
      "ai-orchestra:environment=dev",
      `--message=uses ${openai}`,
      aws,
      slack,
    ]);
    assert.deepEqual(recorded, [
      "preview",
      "--stack",
      "dev",
      "--",
      "-c",
      "ai-orchestra:slackToken=[redacted]",
      "--config=ai-orchestra:pagerdutyServiceKey=[redacted]",
      "-cai-orchestra:githubSecrets.DEPLOY_KEY=[redacted]",
      "-c",
      "ai-orchestra:environment=dev",
      "--message=uses [redacted]",
      "[redacted]",
      "[redacted]",
    ]);
    // The guardrails and the history share one list: every shape the policy flags is redacted here.
    for (const value of [slack, openai, aws]) assert.ok(credentialKind(value), value);
    assert.equal(credentialKind("postgres://app:pw@db:5432/x"), "a password in a URL");
    assert.equal(credentialKind("https://example.com/a@b"), undefined);
  });

  it("after a command failed on one stack, no step for another stack nor the failed command again", () => {
    const canaries = [{ stack: "dev", service: "worker", percent: 20 }];
    const state = { dirtyStacks: ["prod", "dev"], canaries };
    assert.equal(nextStep({ command: "preview", stack: "dev", exitCode: 1 }, state), undefined);
    assert.equal(nextStep({ command: "preview", stack: "staging", exitCode: 255 }, state), undefined);
    assert.match(
      nextStep({ command: "canary set", stack: "dev", exitCode: 1 }, state) ?? "",
      /Pulumi\.dev\.yaml has uncommitted changes: preview them with `orchestra preview --stack dev`/,
    );
    // A success still points at the most useful step anywhere.
    assert.match(
      nextStep({ command: "preview", stack: "staging", exitCode: 0 }, state) ?? "",
      /orchestra preview --stack prod/,
    );
  });

  it("the expiry hint is about the token in use now, in hours when under a day", () => {
    const inv = { command: "plan", exitCode: 0 };
    const state = { dirtyStacks: [], canaries: [] };
    assert.match(nextStep(inv, { ...state, tokenDaysLeft: 0.3 }) ?? "", /expires in 7 hours: rotate/);
    assert.match(nextStep(inv, { ...state, tokenDaysLeft: 0.01 }) ?? "", /expires within the hour: rotate/);
    assert.match(nextStep(inv, { ...state, tokenDaysLeft: 1.5 }) ?? "", /expires in 1 day: rotate/);

    const saved = process.env.ORCHESTRA_STATE_DIR;
    process.env.ORCHESTRA_STATE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-memo-"));
    try {
      const now = new Date("2026-05-01T00:00:00Z");
      writeTokenMemo({
        checkedAt: now.toISOString(),
        kind: "classic",
        source: "GITHUB_TOKEN",
        expiresAt: "2026-05-03T12:00:00Z",
        fingerprint: tokenFingerprint("ghp_FAKEchecked"),
      });
      assert.equal(readProjectState(undefined, now, "ghp_FAKEchecked").tokenDaysLeft, 2.5);
      assert.equal(readProjectState(undefined, now, "ghp_FAKEanother").tokenDaysLeft, undefined);
      assert.equal(readProjectState(undefined, now, undefined).tokenDaysLeft, undefined);
      const memo = fs.readFileSync(
        path.join(process.env.ORCHESTRA_STATE_DIR, "last-token-check.json"),
        "utf8",
      );
      assert.ok(!memo.includes("FAKEchecked"));
    } finally {
      fs.rmSync(process.env.ORCHESTRA_STATE_DIR, { recursive: true, force: true });
      process.env.ORCHESTRA_STATE_DIR = saved;
    }
  });

  it("suggests rotating a token first, then previewing an edit, then bumping or promoting a canary", () => {
    const canaries = [{ stack: "prod", service: "api", percent: 20 }];
    const inv = { command: "canary status", exitCode: 0 };
    assert.match(
      nextStep(inv, { dirtyStacks: ["prod"], canaries, tokenDaysLeft: 3 }) ?? "",
      /expires in 3 days: rotate/,
    );
    assert.match(nextStep(inv, { dirtyStacks: ["prod"], canaries, tokenDaysLeft: -1 }) ?? "", /has expired/);
    assert.match(nextStep(inv, { dirtyStacks: ["prod"], canaries }) ?? "", /orchestra preview --stack prod/);
    assert.match(
      nextStep({ command: "preview", stack: "prod", exitCode: 0 }, { dirtyStacks: ["prod"], canaries }) ?? "",
      /commit them and open a pull request/,
    );
    assert.match(
      nextStep(inv, { dirtyStacks: [], canaries }) ?? "",
      /canary set api 50 --stack prod.*canary promote api/,
    );
    assert.match(
      nextStep(inv, { dirtyStacks: [], canaries: [{ stack: "prod", service: "api", percent: 80 }] }) ?? "",
      /promote it with `orchestra canary promote api --stack prod`/,
    );
    assert.equal(nextStep(inv, { dirtyStacks: [], canaries: [] }), undefined);
    assert.deepEqual([0, 5, 10, 50, 80, 100].map(nextCanaryPercent), [5, 20, 20, 80, undefined, undefined]);
  });

  it("reads live canaries from the raw services config, skipping dark, staged and rolled-back ones", () => {
    const services = JSON.stringify({
      api: { canary: { percent: 10, phase: "serving" } },
      dark: { canary: { percent: 0, phase: "serving" } },
      staged: { canary: { percent: 10, phase: "staged" } },
      back: { canary: { percent: 10, phase: "rolled-back" } },
      plain: {},
    });
    assert.deepEqual(liveCanaries("prod", services), [{ stack: "prod", service: "api", percent: 10 }]);
    assert.deepEqual(liveCanaries("prod", "not json"), []);
  });
});

describe("diff of two rendered stacks", () => {
  const service = (percents: number[], image = "img@sha256:1") => ({
    type: "gcp:cloudrunv2/service:Service",
    name: "api-service",
    inputs: {
      name: "api",
      template: { containers: [{ image }], revision: "api-1" },
      traffics: percents.map((p, i) => ({
        tag: i === 0 ? "stable" : "canary",
        revision: `api-${i}`,
        percent: p,
      })),
      env: "[secret]",
    },
  });
  const stack = (...resources: RenderedStack["resources"]): RenderedStack => ({
    stack: "prod",
    resources,
    outputs: {},
    warnings: [],
  });
  const sa = {
    type: "gcp:serviceaccount/account:Account",
    name: "api-run",
    inputs: { accountId: "api-run" },
  };
  const extra = { type: "gcp:cloudrunv2/serviceIamMember:ServiceIamMember", name: "api-invoker", inputs: {} };

  it("puts the traffic split first and lists added, removed and changed resources with input paths", () => {
    const d = diffStacks(stack(service([90, 10]), sa), stack(service([75, 25], "img@sha256:2"), extra));
    assert.deepEqual(d.traffic, [
      {
        service: "api",
        before: [
          { tag: "stable", revision: "api-0", percent: 90 },
          { tag: "canary", revision: "api-1", percent: 10 },
        ],
        after: [
          { tag: "stable", revision: "api-0", percent: 75 },
          { tag: "canary", revision: "api-1", percent: 25 },
        ],
      },
    ]);
    assert.deepEqual(d.added, [{ type: extra.type, name: extra.name }]);
    assert.deepEqual(d.removed, [{ type: sa.type, name: sa.name }]);
    assert.deepEqual(
      d.changed[0].changes.map((c) => c.path),
      ["template.containers[0].image", "traffics[0].percent", "traffics[1].percent"],
    );
    const md = formatDiffMarkdown(d, { stack: "prod", base: "main", baseCommit: "abc", newStack: false });
    assert.ok(md.indexOf("#### Traffic") < md.indexOf("#### Resources"));
    assert.match(md, /\| api \| stable 90% \/ canary 10% \| \*\*stable 75% \/ canary 25%\*\* \|/);
  });

  it("a stack new at the base is all added; secrets stay redacted in changes", () => {
    const d = diffStacks(undefined, stack(service([100])));
    assert.equal(d.added.length, 1);
    assert.deepEqual(d.traffic[0].before, []);
    assert.deepEqual(inputChanges({ env: "[secret]", a: 1 }, { env: "[secret]", a: 2 }), [
      { path: "a", before: 1, after: 2 },
    ]);
  });
});

describe("diff: long values", () => {
  it("a dashboard change shows the paths that changed inside its JSON", () => {
    const tiles = (title: string) =>
      JSON.stringify({
        displayName: "api",
        mosaicLayout: {
          tiles: [{ widget: { title: "p95" } }, { widget: { title, xyChart: { dataSets: [] } } }],
        },
      });
    assert.deepEqual(
      inputChanges({ dashboardJson: tiles("errors") }, { dashboardJson: tiles("5xx ratio") }),
      [
        {
          path: "dashboardJson/mosaicLayout.tiles[1].widget.title",
          before: "errors",
          after: "5xx ratio",
        },
      ],
    );
  });

  it("plan and diff abbreviate a digest the same way", () => {
    const repo = "europe-west1-docker.pkg.dev/p/orchestra/api";
    const digest = `sha256:${"ab12".repeat(16)}`;
    const short = shortImage(`${repo}@${digest}`);
    assert.equal(short, "api@sha256:ab12ab12ab12");
    const shown = showValue(`${repo}@${digest}`);
    assert.equal(shown, `${repo}@sha256:ab12ab12ab12`);
    assert.ok(shown.endsWith(short.slice("api".length)));
  });
});

describe("diff: secure values", () => {
  const file = (slack: string, extra: Record<string, unknown> = {}) =>
    parse(
      [
        "config:",
        "  ai-orchestra:environment: prod",
        "  ai-orchestra:slackToken:",
        `    secure: ${slack}`,
        "  ai-orchestra:githubSecrets:",
        "    DEPLOY_HOOK:",
        "      secure: v1:hook",
        ...Object.entries(extra).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
      ].join("\n"),
    ).config as unknown;

  it("finds every secure: value by key path", () => {
    assert.deepEqual(
      [...secureValues(file("v1:old")).entries()],
      [
        ["ai-orchestra:slackToken", "v1:old"],
        ["ai-orchestra:githubSecrets.DEPLOY_HOOK", "v1:hook"],
      ],
    );
  });

  it("a rotated secret is a change, said without its value, where the render sees none", () => {
    const base = secureValues(file("v1:old"));
    const now = secureValues(file("v1:new", { "ai-orchestra:pagerdutyServiceKey": { secure: "v1:pd" } }));
    const secrets = secretChanges(base, now);
    assert.deepEqual(secrets, [
      { key: "ai-orchestra:pagerdutyServiceKey", change: "added" },
      { key: "ai-orchestra:slackToken", change: "changed" },
    ]);
    const rendered: RenderedStack = { stack: "prod", resources: [], outputs: {}, warnings: [] };
    const d = diffStacks(rendered, rendered, secrets);
    assert.ok(hasChanges(d));
    const header = { stack: "prod", base: "main", baseCommit: "abc", newStack: false };
    const text = formatDiffText(d, header);
    assert.doesNotMatch(text, /No changes/);
    assert.match(
      text,
      /Secrets \(2\)\n {2}~ ai-orchestra:pagerdutyServiceKey {2}secret added \(value not shown\)/,
    );
    assert.match(text, /~ ai-orchestra:slackToken {2}secret set again: the value may have changed/);
    assert.ok(!/v1:(old|new|pd)/.test(text));
    assert.match(
      formatDiffMarkdown(d, header),
      /#### Secrets\n\n.*\n- 🔑 `ai-orchestra:slackToken`: secret set again/,
    );
    assert.deepEqual(secretChanges(base, secureValues(file("v1:old"))), []);
  });
});

describe("command tree", () => {
  it("completion covers every command, and --help's canary default is the lifecycle's", () => {
    const paths = completionTree(buildProgram()).map((n) => n.path);
    for (const p of [
      "doctor",
      "auth check",
      "auth login",
      "diff",
      "preview",
      "up",
      "history",
      "completion",
      "canary set",
    ])
      assert.ok(paths.includes(p), p);
    const canary = buildProgram().commands.find((c) => c.name() === "canary");
    const start = canary?.commands.find((c) => c.name() === "start");
    assert.match(start?.helpInformation() ?? "", new RegExp(`\\(default ${DEFAULT_CANARY_PERCENT}\\)`));
  });
});
