import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  cleanupTempProjects,
  describeRun,
  makeTempProject,
  stackTraceLines,
  SUGGESTIONS,
  type CliResult,
  type RunOptions,
  type TempProject,
} from "../support/cliHarness";
import { runInProcess } from "../support/inProcessCli";
import {
  cleanupToolDirs,
  closedPort,
  expirationHeader,
  makeGitProject,
  makeStubTools,
  readLog,
  startFakeGitHub,
  type FakeGitHub,
} from "../support/toolsHarness";

/**
 * End to end: doctor, auth, preview/up, diff, history, suggestions and completion through the CLI's
 * `main`, against a fake GitHub API on 127.0.0.1, stub pulumi/docker executables and temp git
 * repositories. Most runs take turns inside this process (support/inProcessCli.ts), which spares
 * each the CLI's start-up; the two that depend on the process boundary get a real process.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function expectExit(r: CliResult, code: number): void {
  assert.equal(r.status, code, `expected exit ${code}\n${describeRun(r)}`);
}

function expectClean(r: CliResult): void {
  assert.deepEqual(stackTraceLines(r.stderr), [], `stack trace printed\n${describeRun(r)}`);
}

// Fake tokens, built at run time and short: they must not look like real ones.
const fake = (prefix: string, name: string) => `${prefix}_FAKE${name}`;
const T = {
  classic: fake("ghp", "classicfull"),
  classicNoWorkflow: fake("ghp", "noworkflow"),
  fine: fake("github_pat", "finegrained"),
  app: fake("ghs", "installation"),
  expired: fake("ghp", "expired"),
  expiring: fake("ghp", "expiring"),
  revoked: fake("ghp", "revoked"),
  limited: fake("ghp", "ratelimited"),
};

describe("orchestra tools (end to end)", function () {
  this.timeout(300_000);

  let github: FakeGitHub;
  const stubs = makeStubTools();
  const noPulumi = makeStubTools({ pulumi: false });
  const results: Record<string, CliResult> = {};
  const logs: Record<string, string> = {};
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-history-"));
  let gitProject: ReturnType<typeof makeGitProject>;
  let worktreesAfter: string;
  // The render child's loader cache, which must stay empty: each diff renders a fresh worktree.
  const diffCache = path.join(stateDir, "swc-cache");

  before(async () => {
    const resetIn10Min = String(Math.floor(Date.now() / 1000) + 600);
    github = await startFakeGitHub({
      [T.classic]: {
        headers: {
          "x-oauth-scopes": "repo, workflow, read:org",
          "github-authentication-token-expiration": expirationHeader(90),
        },
      },
      [T.classicNoWorkflow]: { headers: { "x-oauth-scopes": "repo" } },
      [T.fine]: {
        headers: { "github-authentication-token-expiration": expirationHeader(60) },
        probes: {
          "/repos/acme/infra/actions/secrets/public-key": {
            status: 403,
            headers: { "x-accepted-github-permissions": "secrets=read" },
          },
        },
      },
      [T.app]: { body: { total_count: 3, repositories: [] } },
      [T.expired]: {
        headers: {
          "x-oauth-scopes": "repo, workflow",
          "github-authentication-token-expiration": expirationHeader(-2),
        },
      },
      [T.expiring]: {
        headers: {
          "x-oauth-scopes": "repo, workflow",
          "github-authentication-token-expiration": expirationHeader(5.5),
        },
      },
      [T.limited]: {
        status: 403,
        body: { message: "API rate limit exceeded" },
        headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": resetIn10Min },
      },
    });
    const api = { GITHUB_API_URL: github.url };
    const unreachable = {
      GITHUB_API_URL: `http://127.0.0.1:${await closedPort()}/api/v3`,
      GITHUB_TOKEN: T.classic,
    };
    const project = makeTempProject();
    const program = makeTempProject({ program: true });
    const broken = makeTempProject({
      stacks: { prod: (t) => t.replace("        percent: 10 #", "        percent: 150 #") },
    });
    gitProject = makeGitProject({ program: true, branch: "feature" });
    gitProject.write(
      "prod",
      gitProject.read("prod").replace("        percent: 10 #", "        percent: 25 #"),
    );
    // On main, pushed to a remote, then one commit that only this clone has.
    const aheadProject = makeGitProject({ program: true });
    const remote = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-remote-"));
    aheadProject.git("init", "--quiet", "--bare", remote);
    aheadProject.git("remote", "add", "origin", remote);
    aheadProject.git("push", "--quiet", "-u", "origin", "main");
    aheadProject.git("commit", "--quiet", "--allow-empty", "-m", "local only");
    // Each token check remembers the expiry in its state folder: a folder of its own keeps the others' hints apart.
    const ownState = () => fs.mkdtempSync(path.join(stateDir, "run-"));
    const auth = (token: string | undefined, ...args: string[]) =>
      inProcess(
        project,
        { env: { ...api, GITHUB_TOKEN: token, ORCHESTRA_STATE_DIR: ownState() } },
        "auth",
        "check",
        ...args,
      );
    const inProcess = (p: TempProject, options: RunOptions, ...args: string[]) =>
      runInProcess(p.dir, args, options);
    const withStubs = (name: string, env: Record<string, string | undefined> = {}) => {
      logs[name] = stubs.logFile();
      return { env: { PATH: stubs.path, HOME: project.dir, STUB_PULUMI_LOG: logs[name], ...env } };
    };

    // Through a process of their own: stdin, and pulumi's exit code leaving orchestra's. They finish
    // before the runs in this process start, which change this process's environment.
    const spawned: Record<string, Promise<CliResult>> = {
      login: project.runWith({ input: `${T.classic}\n` }, "auth", "login"),
      previewExit: program.runWith(
        withStubs("previewExit", { STUB_PULUMI_EXIT: "3" }),
        "preview",
        "--stack",
        "dev",
      ),
    };
    for (const [name, run] of Object.entries(spawned)) results[name] = await run;

    const runs: Record<string, Promise<CliResult>> = {
      classic: auth(T.classic, "--json"),
      classicText: auth(T.classic),
      noWorkflow: auth(T.classicNoWorkflow, "--for", "workflows"),
      noWorkflowSecrets: auth(T.classicNoWorkflow, "--for", "secrets", "--json"),
      fine: auth(T.fine, "--repo", "acme/infra", "--json"),
      fineNoRepo: auth(T.fine, "--for", "environments", "--json"),
      app: auth(T.app, "--repo", "acme/infra", "--for", "environments", "--json"),
      expired: auth(T.expired),
      expiring: inProcess(
        project,
        { env: { ...api, ...SUGGESTIONS, GITHUB_TOKEN: T.expiring, ORCHESTRA_STATE_DIR: ownState() } },
        "auth",
        "check",
        "--json",
      ),
      expiringLater: auth(T.expiring, "--warn-days", "3", "--json"),
      revoked: auth(T.revoked),
      limited: auth(T.limited, "--json"),
      unreachable: inProcess(
        project,
        { env: { ...unreachable, ORCHESTRA_STATE_DIR: ownState() } },
        "auth",
        "check",
      ),
      noToken: inProcess(project, { env: { GITHUB_TOKEN: undefined } }, "auth", "check"),
      ghToken: inProcess(project, { env: { ...api, GH_TOKEN: T.classic } }, "auth", "check", "--json"),
      badPurpose: auth(T.classic, "--for", "everything"),

      doctor: inProcess(
        project,
        withStubs("doctor", { GITHUB_TOKEN: T.fine, ...SUGGESTIONS }),
        "doctor",
        "--json",
      ),
      doctorText: inProcess(project, withStubs("doctorText"), "doctor"),
      doctorBroken: inProcess(
        broken,
        withStubs("doctorBroken", { STUB_PULUMI_LOGGED_OUT: "1" }),
        "doctor",
        "--json",
      ),

      preview: inProcess(
        program,
        withStubs("preview"),
        "preview",
        "--stack",
        "dev",
        "--",
        "--diff",
        "--refresh",
      ),
      previewLoggedOut: inProcess(
        program,
        withStubs("previewLoggedOut", { STUB_PULUMI_LOGGED_OUT: "1" }),
        "preview",
        "-s",
        "dev",
      ),
      previewNoPulumi: inProcess(
        program,
        { env: { PATH: noPulumi.path, HOME: project.dir } },
        "preview",
        "--stack",
        "dev",
      ),
      upProd: inProcess(gitProject, withStubs("upProd"), "up", "--stack", "prod"),
      upProdAllowed: inProcess(
        gitProject,
        withStubs("upProdAllowed"),
        "up",
        "--stack",
        "prod",
        "--allow-dirty",
        "--allow-branch",
        "--allow-unpushed",
        "--",
        "--yes",
      ),
      upProdUnpushed: inProcess(aheadProject, withStubs("upProdUnpushed"), "up", "--stack", "prod"),
      upStaging: inProcess(
        gitProject,
        withStubs("upStaging", { ...SUGGESTIONS }),
        "up",
        "--stack",
        "staging",
      ),

      diff: inProcess(gitProject, { env: { ...SUGGESTIONS } }, "diff", "--stack", "prod"),
      diffMarkdown: inProcess(gitProject, {}, "diff", "--stack", "prod", "--base", "main", "--markdown"),
      diffJson: inProcess(
        gitProject,
        { env: { SWC_NODE_CACHE_DIR: diffCache } },
        "diff",
        "--stack",
        "dev",
        "--json",
      ),
      diffBadRef: inProcess(gitProject, {}, "diff", "--stack", "prod", "--base", "no-such-ref"),

      completionBash: inProcess(project, {}, "completion", "bash"),
      completionZsh: inProcess(project, {}, "completion", "zsh"),
      completionFish: inProcess(project, {}, "completion", "fish"),
      typo: inProcess(project, {}, "doctr"),
      help: inProcess(project, { env: { ...SUGGESTIONS } }, "--help"),
      helpAuthCheck: inProcess(project, {}, "auth", "check", "--help"),
    };
    const names = Object.keys(runs);
    const done = await Promise.all(Object.values(runs));
    names.forEach((n, i) => (results[n] = done[i]));
    worktreesAfter = gitProject.git("worktree", "list");

    // History: its own state folder, in order.
    const own = { env: { ORCHESTRA_STATE_DIR: path.join(stateDir, "history") } };
    await inProcess(project, own, "canary", "status", "--stack", "prod");
    await inProcess(project, own, "plna", `--token=${T.classic}`, T.fine);
    results.history = await inProcess(project, own, "history", "--json");
    results.historyText = await inProcess(project, own, "history", "--limit", "1");
  });

  after(async () => {
    await github?.close();
    cleanupTempProjects();
    cleanupToolDirs();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it("never prints a token, in any output", () => {
    for (const [name, r] of Object.entries(results))
      for (const token of Object.values(T))
        assert.ok(
          !r.stdout.includes(token) && !r.stderr.includes(token),
          `${name} printed a token\n${describeRun(r)}`,
        );
  });

  describe("auth check", () => {
    it("honours GITHUB_API_URL (Enterprise prefix) and names a classic token's kind, user, scopes and expiry", () => {
      const r = results.classic;
      expectExit(r, 0);
      const out = JSON.parse(r.stdout) as Json;
      assert.equal(out.ok, true);
      assert.deepEqual(out.token.scopes, ["repo", "workflow", "read:org"]);
      assert.equal(out.token.kind, "classic");
      assert.equal(out.token.source, "GITHUB_TOKEN");
      assert.equal(out.token.identity, "octo-fake");
      assert.equal(out.apiUrl, github.url);
      assert.deepEqual(
        out.checks.map((c: Json) => `${c.id} ${c.status}`),
        ["token ok", "expiry ok", "for-secrets ok", "for-workflows ok", "for-environments ok"],
      );
      assert.ok(github.requests.includes("GET /user"));
      assert.match(out.recommendations[0], /GitHub App/);
    });

    it("prints text checks and recommends a GitHub App for CI", () => {
      expectExit(results.classicText, 0);
      assert.match(
        results.classicText.stdout,
        /^ {2}ok {4}for-workflows +can commit files under \.github\/workflows/m,
      );
      assert.match(results.classicText.stdout, /tip: For CI, use a GitHub App installation token/);
    });

    it("fails a classic token without the workflow scope for workflows, naming the fix", () => {
      const r = results.noWorkflow;
      expectExit(r, 1);
      assert.match(
        r.stdout,
        /FAIL {2}for-workflows +cannot commit files under \.github\/workflows: missing scope workflow/,
      );
      assert.match(r.stdout, /fix: add the `workflow` scope/);
      assert.match(r.stdout, /warn {2}expiry +no expiry date/);
      expectClean(r);
    });

    it("passes the same token for secrets (repo is enough)", () => {
      expectExit(results.noWorkflowSecrets, 0);
      const out = JSON.parse(results.noWorkflowSecrets.stdout) as Json;
      assert.deepEqual(
        out.checks.map((c: Json) => c.id),
        ["token", "expiry", "for-secrets"],
      );
    });

    it("fails a fine-grained token whose probe names the missing permission (X-Accepted-GitHub-Permissions)", () => {
      const r = results.fine;
      expectExit(r, 1);
      const out = JSON.parse(r.stdout) as Json;
      assert.equal(out.token.kind, "fine-grained");
      assert.equal(out.token.scopes, null);
      const byId = Object.fromEntries(out.checks.map((c: Json) => [c.id, c]));
      assert.equal(byId["for-secrets"].status, "fail");
      assert.match(
        byId["for-secrets"].detail,
        /actions\/secrets\/public-key.*refused \(403\); it needs secrets: read/,
      );
      assert.equal(byId["for-environments"].status, "ok");
      assert.ok(github.requests.includes("GET /repos/acme/infra/actions/secrets/public-key"));
    });

    it("warns when a fine-grained token has no repository to be probed on", () => {
      expectExit(results.fineNoRepo, 0);
      const out = JSON.parse(results.fineNoRepo.stdout) as Json;
      const check = out.checks.find((c: Json) => c.id === "for-environments");
      assert.equal(check.status, "warn");
      assert.match(check.fix, /--repo OWNER\/NAME/);
    });

    it("checks an app installation token (ghs_) without calling GET /user", () => {
      const r = results.app;
      expectExit(r, 0);
      const out = JSON.parse(r.stdout) as Json;
      assert.equal(out.token.kind, "app-installation");
      assert.match(out.token.identity, /app installation with access to 3 repositories/);
      assert.ok(github.requests.includes("GET /installation/repositories"));
      assert.deepEqual(out.recommendations, []);
    });

    it("fails an expired token", () => {
      expectExit(results.expired, 1);
      assert.match(results.expired.stdout, /FAIL {2}expiry +expired on \d{4}-\d{2}-\d{2}/);
    });

    it("warns within 14 days of expiry (exit 0), suggests rotating on stderr, and --warn-days moves the window", () => {
      const r = results.expiring;
      expectExit(r, 0);
      const expiry = (JSON.parse(r.stdout) as Json).checks.find((c: Json) => c.id === "expiry");
      assert.equal(expiry.status, "warn");
      assert.match(expiry.detail, /in 5 days/);
      assert.match(r.stderr, /next: your GitHub token expires in 5 days: rotate it/);
      const later = (JSON.parse(results.expiringLater.stdout) as Json).checks.find(
        (c: Json) => c.id === "expiry",
      );
      assert.equal(later.status, "ok");
    });

    it("explains 401, the rate limit and an unreachable API, each with exit 1", () => {
      expectExit(results.revoked, 1);
      assert.match(results.revoked.stderr, /401 Bad credentials: the token is invalid, revoked or expired/);
      expectExit(results.limited, 1);
      const limited = JSON.parse(results.limited.stdout) as Json;
      assert.equal(limited.error.kind, "rate-limited");
      assert.match(limited.error.message, /rate limit .* used up until \d{4}-\d{2}-\d{2}T/);
      assert.ok(limited.error.resetAt);
      expectExit(results.unreachable, 1);
      assert.match(
        results.unreachable.stderr,
        /Cannot reach the GitHub API at http:\/\/127\.0\.0\.1:\d+\/api\/v3 \(ECONNREFUSED\)/,
      );
      for (const r of [results.revoked, results.limited, results.unreachable]) expectClean(r);
    });

    it("reads GH_TOKEN, and says what to do without any token", () => {
      expectExit(results.ghToken, 0);
      assert.equal((JSON.parse(results.ghToken.stdout) as Json).token.source, "GH_TOKEN");
      expectExit(results.noToken, 1);
      assert.match(
        results.noToken.stderr,
        /No GitHub token: set GITHUB_TOKEN \(or GH_TOKEN\), or store one with `orchestra auth login`/,
      );
    });

    it("rejects an unknown purpose as a usage error", () => {
      expectExit(results.badPurpose, 2);
      assert.match(results.badPurpose.stderr, /Allowed choices are secrets, workflows, environments, all/);
    });
  });

  describe("auth login", () => {
    it("without a keyring stores nothing, exits 1 and explains the Pulumi secret instead", () => {
      const r = results.login;
      expectExit(r, 1);
      assert.match(r.stderr, /No OS keyring to keep the token in .*; nothing was stored/);
      assert.match(r.stderr, /pulumi config set --secret github:token --stack STACK/);
      assert.equal(r.stdout, "");
    });
  });

  describe("doctor", () => {
    it("--json reports every check; stub pulumi and docker answer, no ADC, token kind named", () => {
      const r = results.doctor;
      expectExit(r, 0);
      const out = JSON.parse(r.stdout) as Json;
      assert.equal(out.ok, true);
      const status = Object.fromEntries(out.checks.map((c: Json) => [c.id, c.status]));
      assert.deepEqual(status, {
        node: "ok",
        "pulumi-cli": "ok",
        "pulumi-login": "ok",
        "gcloud-adc": "warn",
        docker: "ok",
        "github-token": "ok",
        git: "warn",
        // Valid, but no stack file names its KMS secrets provider yet: CI would need a passphrase.
        "stack-dev": "warn",
        "stack-prod": "warn",
        "stack-staging": "warn",
      });
      const byId = Object.fromEntries(out.checks.map((c: Json) => [c.id, c]));
      for (const stack of ["dev", "staging", "prod"]) {
        assert.match(byId[`stack-${stack}`].detail, /names no secrets provider/);
        assert.match(
          byId[`stack-${stack}`].fix,
          new RegExp(`change-secrets-provider "gcpkms://.*" -s ${stack}`),
        );
      }
      assert.match(byId["pulumi-cli"].detail, /v3\.999\.0-stub/);
      assert.match(byId["pulumi-login"].detail, /logged in as stub-user to gs:\/\/stub-state/);
      assert.match(byId["github-token"].detail, /fine-grained personal access token from GITHUB_TOKEN/);
      assert.match(byId["gcloud-adc"].fix, /gcloud auth application-default login/);
      assert.deepEqual(readLog(logs.doctor).sort(), ["version", "whoami --json"]);
    });

    it("prints ok/warn lines with fixes", () => {
      expectExit(results.doctorText, 0);
      assert.match(results.doctorText.stdout, /^ {2}warn {2}github-token +no GitHub token/m);
      assert.match(results.doctorText.stdout, /fix: `orchestra auth login`/);
      assert.match(results.doctorText.stdout, /Ready\./);
    });

    it("exits 1 when a stack file is invalid, and warns about a missing Pulumi login", () => {
      const r = results.doctorBroken;
      expectExit(r, 1);
      const out = JSON.parse(r.stdout) as Json;
      const byId = Object.fromEntries(out.checks.map((c: Json) => [c.id, c]));
      assert.equal(byId["stack-prod"].status, "fail");
      assert.match(byId["stack-prod"].detail, /canary\.percent = 150/);
      assert.equal(byId["pulumi-login"].status, "warn");
      assert.match(byId["pulumi-login"].fix, /pulumi login/);
    });
  });

  describe("preview and up", () => {
    it("preview runs pulumi preview -s STACK with the arguments after --, after the checks", () => {
      expectExit(results.preview, 0);
      // The checks may run in either order; pulumi preview runs once, after both.
      const log = readLog(logs.preview);
      assert.deepEqual([...log.slice(0, -1)].sort(), ["version", "whoami --json"]);
      assert.equal(log[log.length - 1], "preview -s dev --diff --refresh");
      assert.match(results.preview.stderr, /\$ pulumi preview -s dev --diff --refresh/);
    });

    it("propagates pulumi's exit code", () => {
      expectExit(results.previewExit, 3);
    });

    it("does not run pulumi when it is missing or not logged in", () => {
      expectExit(results.previewNoPulumi, 1);
      assert.match(results.previewNoPulumi.stderr, /pulumi preview was not run: a required check failed/);
      assert.match(results.previewNoPulumi.stderr, /FAIL {2}pulumi-cli/);
      expectExit(results.previewLoggedOut, 1);
      assert.match(results.previewLoggedOut.stderr, /FAIL {2}pulumi-login +not logged in/);
      assert.ok(!readLog(logs.previewLoggedOut).some((l) => l.startsWith("preview")));
    });

    it("up on prod refuses a dirty tree and a branch other than the default, without running pulumi up", () => {
      const r = results.upProd;
      expectExit(r, 1);
      assert.match(r.stderr, /pulumi up -s prod was not run:/);
      assert.match(
        r.stderr,
        /1 uncommitted change \(Pulumi\.prod\.yaml\): commit or stash them, or pass --allow-dirty/,
      );
      assert.match(r.stderr, /the branch is feature, not the default branch main: .* or pass --allow-branch/);
      assert.match(
        r.stderr,
        /feature has no upstream, so whether this commit was pushed cannot be told: push it/,
      );
      assert.ok(!readLog(logs.upProd).some((l) => l.startsWith("up")));
      expectClean(r);
    });

    it("up on prod refuses a commit the upstream does not have: push first", () => {
      const r = results.upProdUnpushed;
      expectExit(r, 1);
      // The refusal is all there is after the checks' warnings: clean and pushed is all it asks.
      assert.equal(
        r.stderr.slice(r.stderr.indexOf("error: ")),
        "error: pulumi up -s prod was not run:\n  - main is 1 commit ahead of origin/main: push first (git push), so that what is deployed is what was pushed, or pass --allow-unpushed\n",
      );
      assert.ok(!readLog(logs.upProdUnpushed).some((l) => l.startsWith("up")));
    });

    it("up on prod runs with --allow-dirty --allow-branch --allow-unpushed; other stacks are not guarded", () => {
      expectExit(results.upProdAllowed, 0);
      assert.ok(readLog(logs.upProdAllowed).includes("up -s prod --yes"));
      expectExit(results.upStaging, 0);
      assert.ok(readLog(logs.upStaging).includes("up -s staging"));
    });
  });

  describe("diff", () => {
    it("renders the base and the working tree and shows the traffic split change first", () => {
      const r = results.diff;
      expectExit(r, 0);
      const out = r.stdout;
      assert.match(out, /^Stack prod: merge-base with main \([0-9a-f]{10}\) → working tree/);
      assert.match(out, /Traffic\n {2}api: stable 90% \/ canary 10% {2}→ {2}stable 75% \/ canary 25%/);
      assert.match(
        out,
        /~ api-service {2}gcp:cloudrunv2\/service:Service\n {6}traffics\[0\]\.percent: 90 → 75\n {6}traffics\[1\]\.percent: 10 → 25/,
      );
      assert.ok(out.indexOf("Traffic") < out.indexOf("Changed"), "traffic comes first");
      assert.match(out, /\d+ resources unchanged/);
    });

    it("--markdown writes a pull-request comment with the split table first", () => {
      const r = results.diffMarkdown;
      expectExit(r, 0);
      assert.match(r.stdout, /^### orchestra diff: stack `prod`/);
      assert.match(r.stdout, /\| api \| stable 90% \/ canary 10% \| \*\*stable 75% \/ canary 25%\*\* \|/);
      assert.match(r.stdout, /`traffics\[1\]\.percent`: `10` → `25`/);
      // A canary step moves no always-on cost: the cost section is one line, before the resources.
      assert.match(
        r.stdout,
        /#### Monthly cost\n\nNo change in the always-on baseline \(\$[\d,]+\.\d\d a month\)\./,
      );
      assert.ok(r.stdout.indexOf("#### Monthly cost") < r.stdout.indexOf("#### Resources"));
    });

    it("--json for an unchanged stack; the temporary worktrees are gone and left nothing in the loader's cache", () => {
      expectExit(results.diffJson, 0);
      const out = JSON.parse(results.diffJson.stdout) as Json;
      assert.equal(out.stack, "dev");
      assert.deepEqual([out.traffic, out.added, out.removed, out.changed], [[], [], [], []]);
      assert.ok(out.unchanged > 0);
      assert.deepEqual(out.cost.changes, []);
      assert.equal(out.cost.beforeUsd, out.cost.afterUsd);
      assert.equal(out.cost.complete, true);
      assert.equal(worktreesAfter.trim().split("\n").length, 1, worktreesAfter);
      assert.deepEqual(fs.existsSync(diffCache) ? fs.readdirSync(diffCache) : [], []);
    });

    it("a base that is not a commit is a usage error", () => {
      expectExit(results.diffBadRef, 2);
      assert.match(results.diffBadRef.stderr, /"no-such-ref" is not a commit/);
    });

    it("suggests the next step from the project: the uncommitted stack edit", () => {
      assert.match(
        results.diff.stderr,
        /next: Pulumi\.prod\.yaml has uncommitted changes: commit them and open a pull request/,
      );
      assert.match(
        results.upStaging.stderr,
        /next: Pulumi\.prod\.yaml has uncommitted changes: preview them with `orchestra preview --stack prod`/,
      );
    });
  });

  describe("history, suggestions, completion", () => {
    it("records every invocation with its exit code and redacts secrets; --json stays pure JSON", () => {
      expectExit(results.history, 0);
      const out = JSON.parse(results.history.stdout) as Json;
      assert.equal(out.file, path.join(stateDir, "history", "history.jsonl"));
      assert.deepEqual(
        out.entries.map((e: Json) => [e.command, e.exitCode]),
        [
          ["canary status", 0],
          ["plna", 2],
        ],
      );
      assert.deepEqual(out.entries[1].args, ["plna", "--token=[redacted]", "[redacted]"]);
      assert.ok(!fs.readFileSync(out.file, "utf8").includes("FAKE"));
      expectExit(results.historyText, 0);
      assert.match(
        results.historyText.stdout,
        /^ {2}TIME \(UTC\) +EXIT +COMMAND\n {2}\d{4}-\d{2}-\d{2} [\d:]{8} +0 +orchestra history --json\n$/,
      );
    });

    it("after a read command, the next step goes to stderr: a canary at a percent can be bumped or promoted", () => {
      const r = results.doctor;
      assert.match(
        r.stderr,
        /next: the worker canary on dev takes 20%: bump it with `orchestra canary set worker 50 --stack dev`, or `orchestra canary promote worker --stack dev`/,
      );
      assert.doesNotThrow(() => JSON.parse(r.stdout));
    });

    it("--help lists the new commands, and auth check --help its flags", () => {
      expectExit(results.help, 0);
      for (const c of ["doctor", "auth", "diff", "preview", "up", "history", "completion", "plan", "canary"])
        assert.match(results.help.stdout, new RegExp(`^  ${c}\\b`, "m"), c);
      expectExit(results.helpAuthCheck, 0);
      for (const flag of [
        "--for <purpose>",
        "--repo <owner/name>",
        "--warn-days <n>",
        "--json",
        "GITHUB_API_URL",
      ])
        assert.ok(results.helpAuthCheck.stdout.includes(flag), flag);
      assert.equal(results.help.stderr, "", "no suggestion after --help");
    });

    it("a mistyped command gets did you mean", () => {
      expectExit(results.typo, 2);
      assert.match(results.typo.stderr, /unknown command 'doctr'\n\(Did you mean doctor\?\)/);
    });

    it("bash completion completes commands, subcommands and stacks", () => {
      expectExit(results.completionBash, 0);
      const script = results.completionBash.stdout;
      const complete = (...words: string[]) => {
        // --noprofile --norc: the script alone, not the machine's shell set-up, which bash reads from
        // ~/.bashrc when its stdin is a socket (Node's pipes are) and SHLVL is unset.
        const r = spawnSync(
          "bash",
          [
            "--noprofile",
            "--norc",
            "-c",
            `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _orchestra; echo "\${COMPREPLY[*]}"`,
          ],
          { cwd: gitProject.dir, encoding: "utf8" },
        );
        return r.stdout.trim().split(" ").sort();
      };
      assert.deepEqual(complete("orchestra", "d"), ["diff", "doctor"]);
      assert.deepEqual(complete("orchestra", "canary", "s"), ["set", "start", "status"]);
      assert.deepEqual(complete("orchestra", "auth", "check", "--f"), ["--for"]);
      assert.deepEqual(complete("orchestra", "diff", "--stack", ""), ["dev", "prod", "staging"]);
      assert.deepEqual(complete("orchestra", "auth", "check", "--for", ""), [
        "all",
        "environments",
        "secrets",
        "workflows",
      ]);
      assert.deepEqual(complete("orchestra", "completion", "z"), ["zsh"]);
      // A service named like a command is an argument, not a command path.
      assert.deepEqual(complete("orchestra", "canary", "set", "up", "--st"), ["--stack"]);
      expectExit(results.completionZsh, 0);
      assert.match(results.completionZsh.stdout, /bashcompinit/);
      expectExit(results.completionFish, 2);
    });
  });
});
