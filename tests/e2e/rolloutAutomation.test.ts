import * as assert from "node:assert/strict";
import { cleanScannerEnv } from "../support/cleanScanner";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AutomationPulumiDriver } from "../../cli/rollout/automation";
import { WorkDir } from "../../cli/rollout/workDir";
import { loadValidStack } from "../../cli/stackEditor";
import { servicePlan } from "../../model/release/servicePlan";
import { CLI, REPO_ROOT } from "../support/cliHarness";
import { FakeCloudRunAdmin } from "../support/fakeCloudRunAdmin";
import { tempProjectDir } from "../support/rolloutHarness";

/**
 * A `pulumi` stand-in that behaves like the CLI where the work folder matters: it finds Pulumi.yaml by
 * walking up from its working directory, reads `Pulumi.<stack>.yaml` beside it, and answers `stack
 * output` with what the last `up` applied. It logs each call as JSON to $STUB_LOG.
 */
const STUB = `#!/usr/bin/env node
const fs = require("fs"), path = require("path");
const args = process.argv.slice(2);
const stack = args[args.indexOf("--stack") + 1];
let dir = process.cwd();
while (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) dir = path.dirname(dir);
const stackFile = path.join(dir, "Pulumi." + stack + ".yaml");
const applied = path.join(process.env.STUB_STATE, "applied.yaml");
fs.appendFileSync(process.env.STUB_LOG, JSON.stringify({ args, cwd: process.cwd(), stackFile }) + "\\n");
if (args[0] === "version") console.log(process.env.STUB_VERSION || "v3.248.0");
else if (args[0] === "whoami" && process.env.STUB_LOGGED_OUT) {
  console.error("error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions");
  process.exit(255);
} else if (args[0] === "whoami") {
  console.log(JSON.stringify({ user: "ci", url: process.env.STUB_BACKEND || "gs://ai-orchestra-pulumi-state" }));
} else if (args[0] === "stack" && args[1] === "select" && process.env.STUB_NO_STACK) {
  console.error("error: no stack named '" + stack + "' found");
  process.exit(255);
} else if (args[0] === "up" && process.env.STUB_UP_FAILS) {
  console.log("Updating (" + stack + ")\\n\\nDiagnostics:\\n  gcp:cloudrunv2:Service (api-europe-west1):\\n" +
    "    error: 1 error occurred:\\n    \\t* Error waiting to update Service: Error code 9, message: Revision 'api-x' is not ready and cannot serve traffic.\\n\\n" +
    "  pulumi:pulumi:Stack (ai-orchestra-" + stack + "):\\n    error: update failed\\n");
  console.error("error: update failed");
  process.exit(255);
}
else if (args[0] === "up" && process.env.STUB_HANG_FIRST_UP && !fs.existsSync(applied + ".hung")) {
  // Like the CLI on Ctrl-C: cancel the update and fail.
  fs.writeFileSync(applied + ".hung", "");
  console.log("Updating (" + stack + ")");
  const keepAlive = setInterval(() => undefined, 1000);
  process.on("SIGINT", () => {
    clearInterval(keepAlive);
    console.error("error: update canceled");
    process.exit(255);
  });
} else if (args[0] === "up") {
  fs.copyFileSync(stackFile, applied);
  console.log("Updating (" + stack + ")\\n     pulumi:pulumi:Stack ai-orchestra-" + stack + " running");
} else if (args[0] === "stack" && args[1] === "output") {
  const text = fs.readFileSync(applied, "utf8");
  const percent = Number((/percent: (\\d+)/.exec(text) || [])[1]);
  console.log(JSON.stringify({ serviceEndpoints: { api: { revision: "api-rev", appliedPercent: percent } } }));
} else if (args[0] === "stack" && args[1] === "history") console.log("[]");
`;

describe("rollout work folder and the Automation API driver (stub pulumi CLI)", function () {
  let dir: string;
  let bin: string;
  let state: string;
  let savedPath: string | undefined;
  beforeEach(() => {
    dir = tempProjectDir();
    fs.writeFileSync(path.join(dir, "index.ts"), "export {};\n");
    bin = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-stub-pulumi-"));
    state = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-stub-state-"));
    fs.writeFileSync(path.join(bin, "pulumi"), STUB, { mode: 0o755 });
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${process.env.PATH}`;
    process.env.STUB_LOG = path.join(state, "log");
    process.env.STUB_STATE = state;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    delete process.env.STUB_LOG;
    delete process.env.STUB_STATE;
    for (const d of [dir, bin, state]) fs.rmSync(d, { recursive: true, force: true });
  });

  it("mirrors the project: symlinks to every entry, a real copy of the stack file, removed on dispose", () => {
    const w = new WorkDir(dir, "staging");
    try {
      for (const entry of fs.readdirSync(dir)) {
        const p = path.join(w.path, entry);
        if (entry === "Pulumi.staging.yaml") assert.ok(!fs.lstatSync(p).isSymbolicLink());
        else assert.equal(fs.readlinkSync(p), path.join(dir, entry));
      }
      fs.writeFileSync(path.join(w.path, "Pulumi.staging.yaml"), "edited\n");
      assert.notEqual(fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8"), "edited\n");
      w.commit();
      assert.equal(fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8"), "edited\n");
    } finally {
      w.dispose();
    }
    assert.ok(!fs.existsSync(w.path));
    assert.ok(fs.existsSync(path.join(dir, "Pulumi.yaml")), "dispose removes links, not their targets");
  });

  it("LocalWorkspace runs pulumi in the work folder, so up applies the edited copy, not the project's file", async () => {
    const w = new WorkDir(dir, "staging");
    try {
      fs.writeFileSync(
        path.join(w.path, "Pulumi.staging.yaml"),
        fs.readFileSync(path.join(w.path, "Pulumi.staging.yaml"), "utf8") + "# percent: 42\n",
      );
      const lines: string[] = [];
      const outputs = await new AutomationPulumiDriver().up({
        stack: "staging",
        workDir: w.path,
        onOutput: (l) => lines.push(l),
      });
      assert.deepEqual(outputs.serviceEndpoints, { api: { revision: "api-rev", appliedPercent: 42 } });
      assert.match(lines.join(""), /Updating \(staging\)/);
      const calls = fs
        .readFileSync(path.join(state, "log"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { args: string[]; cwd: string; stackFile: string });
      const up = calls.find((c) => c.args[0] === "up");
      assert.ok(up, JSON.stringify(calls));
      assert.equal(fs.realpathSync(up.cwd), fs.realpathSync(w.path));
      assert.equal(fs.realpathSync(up.stackFile), fs.realpathSync(path.join(w.path, "Pulumi.staging.yaml")));
      assert.ok(up.args.includes("--stack") && up.args.includes("staging"));
      assert.deepEqual(
        calls.map((c) => c.args.slice(0, 2).join(" ")),
        ["version", "stack select", "up --yes", "stack output", "stack output", "stack history"],
      );
    } finally {
      w.dispose();
    }
  });

  it("Node loads the program's modules through the symlinks from their real paths", () => {
    const w = new WorkDir(REPO_ROOT, "staging");
    try {
      const script =
        `const m = require(${JSON.stringify(path.join(w.path, "model", "canary", "lifecycle"))});` +
        `const keys = Object.keys(require.cache);` +
        `console.log(JSON.stringify({ fn: typeof m.setCanaryPercent, mirrored: keys.filter((k) => k.startsWith(${JSON.stringify(w.path)})).length, real: keys.filter((k) => k.startsWith(${JSON.stringify(path.join(REPO_ROOT, "model"))})).length }));`;
      const r = spawnSync(
        process.execPath,
        ["--require", require.resolve("@swc-node/register"), "-e", script],
        {
          cwd: w.path,
          encoding: "utf8",
        },
      );
      assert.equal(r.status, 0, r.stderr);
      const seen = JSON.parse(r.stdout) as { fn: string; mirrored: number; real: number };
      assert.equal(seen.fn, "function");
      assert.equal(seen.mirrored, 0, "no module is loaded under the work folder's path");
      assert.ok(seen.real > 0);
    } finally {
      w.dispose();
    }
  });

  describe("preflight: what `pulumi up` needs, checked before anything changes", () => {
    const preflight = (env: Record<string, string | undefined> = {}) => {
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
      for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
      const done = new AutomationPulumiDriver({ PULUMI_CONFIG_PASSPHRASE: "x", ...env }).preflight({
        stack: "staging",
        dir,
        stateBucket: "ai-orchestra-pulumi-state",
      });
      return done.finally(() => {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      });
    };
    const calls = () =>
      fs
        .readFileSync(path.join(state, "log"), "utf8")
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { args: string[] }).args.slice(0, 2).join(" "));

    it("passes with the CLI, a login, a selectable stack and a passphrase; says what it found", async () => {
      const r = await preflight();
      assert.deepEqual(r.problems, []);
      assert.deepEqual(r.notes, [
        "Pulumi CLI v3.248.0",
        "logged in to gs://ai-orchestra-pulumi-state",
        "stack staging selected",
        "secrets by passphrase (PULUMI_CONFIG_PASSPHRASE)",
      ]);
      assert.deepEqual(calls(), ["version", "whoami --json", "stack select"]);
      // Selected in a mirror, removed afterwards: the user's selected stack for the project is untouched.
      const select = fs
        .readFileSync(path.join(state, "log"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { args: string[]; cwd: string })
        .find((c) => c.args[1] === "select");
      assert.ok(select && fs.realpathSync(dir) !== select.cwd && !fs.existsSync(select.cwd), select?.cwd);
    });

    it("no pulumi on PATH: one problem, nothing else run", async () => {
      process.env.PATH = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-empty-path-"));
      const r = await preflight();
      assert.deepEqual(r.problems, [
        {
          check: "pulumi-cli",
          reason: "the Pulumi CLI is not installed (no `pulumi` on PATH)",
          fix: "install it: https://www.pulumi.com/docs/install/ (in GitHub Actions: pulumi/actions or pulumi/setup-pulumi)",
        },
      ]);
    });

    it("a CLI older than the Automation API's minimum", async () => {
      const r = await preflight({ STUB_VERSION: "v3.1.0" });
      assert.match(r.problems[0]?.reason ?? "", /^Pulumi CLI v3\.1\.0 is older than 3\.2\.0/);
    });

    it("not logged in: the CLI's reason and the login with the stack's state bucket", async () => {
      const r = await preflight({ STUB_LOGGED_OUT: "1" });
      assert.deepEqual(r.problems, [
        {
          check: "pulumi-login",
          reason:
            "not logged in to a Pulumi backend (error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions)",
          fix: "`pulumi login gs://ai-orchestra-pulumi-state` (this stack's state bucket)",
        },
      ]);
      assert.deepEqual(calls(), ["version", "whoami --json"]);
    });

    it("a stack the backend does not know", async () => {
      const r = await preflight({ STUB_NO_STACK: "1" });
      assert.equal(r.problems.length, 1);
      assert.equal(r.problems[0].check, "pulumi-stack");
      assert.equal(
        r.problems[0].reason,
        "stack staging cannot be selected on gs://ai-orchestra-pulumi-state: error: no stack named 'staging' found",
      );
    });

    it("secrets: a passphrase backend needs PULUMI_CONFIG_PASSPHRASE(_FILE); a KMS provider or Pulumi Cloud does not", async () => {
      const none = await preflight({ PULUMI_CONFIG_PASSPHRASE: undefined });
      assert.equal(none.problems[0]?.check, "secrets-provider");
      assert.match(
        none.problems[0].reason,
        /^Pulumi\.staging\.yaml has no `secretsprovider:` and gs:\/\/ai-orchestra-pulumi-state keeps secrets by passphrase, but PULUMI_CONFIG_PASSPHRASE is not set$/,
      );
      const missingFile = await preflight({
        PULUMI_CONFIG_PASSPHRASE: undefined,
        PULUMI_CONFIG_PASSPHRASE_FILE: path.join(state, "nope"),
      });
      assert.match(
        missingFile.problems[0]?.reason ?? "",
        /PULUMI_CONFIG_PASSPHRASE_FILE names .*nope, which cannot be read/,
      );
      fs.writeFileSync(path.join(state, "pass"), "secret\n");
      const file = await preflight({
        PULUMI_CONFIG_PASSPHRASE: undefined,
        PULUMI_CONFIG_PASSPHRASE_FILE: path.join(state, "pass"),
      });
      assert.deepEqual(file.problems, []);
      const cloud = await preflight({
        PULUMI_CONFIG_PASSPHRASE: undefined,
        STUB_BACKEND: "https://api.pulumi.com",
      });
      assert.deepEqual(cloud.problems, []);
      assert.ok(cloud.notes.includes("secrets managed by https://api.pulumi.com"));
      fs.appendFileSync(
        path.join(dir, "Pulumi.staging.yaml"),
        "secretsprovider: gcpkms://projects/p/locations/global/keyRings/pulumi/cryptoKeys/state\n",
      );
      const kms = await preflight({ PULUMI_CONFIG_PASSPHRASE: undefined });
      assert.deepEqual(kms.problems, []);
      assert.ok(
        kms.notes.includes(
          "secrets provider gcpkms://projects/p/locations/global/keyRings/pulumi/cryptoKeys/state",
        ),
      );
    });
  });

  it("a failed up is one line: the resource's own error from the CLI's diagnostics, not the transcript", async () => {
    process.env.STUB_UP_FAILS = "1";
    const w = new WorkDir(dir, "staging");
    try {
      await assert.rejects(
        new AutomationPulumiDriver().up({ stack: "staging", workDir: w.path, onOutput: () => undefined }),
        (e: Error) => {
          assert.equal(
            e.message,
            "`pulumi up -s staging` failed: Error waiting to update Service: Error code 9, message: Revision 'api-x' is not ready and cannot serve traffic.",
          );
          assert.equal(e.cause?.constructor.name, "CommandError");
          return true;
        },
      );
      process.env.PATH = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-empty-path-"));
      await assert.rejects(
        new AutomationPulumiDriver().up({ stack: "staging", workDir: w.path, onOutput: () => undefined }),
        {
          message:
            "`pulumi stack select staging` failed: the Pulumi CLI is not installed (no `pulumi` on PATH): https://www.pulumi.com/docs/install/",
        },
      );
    } finally {
      delete process.env.STUB_UP_FAILS;
      w.dispose();
    }
  });

  describe("the orchestra command with the real drivers (stub pulumi, fake Cloud Run Admin API)", () => {
    let fake: FakeCloudRunAdmin;
    let stableRevision: string;
    beforeEach(async () => {
      fake = await FakeCloudRunAdmin.start();
      const { config } = loadValidStack(dir, "staging");
      stableRevision = servicePlan(
        config,
        config.services.find((s) => s.name === "api")!,
      ).plan!.templateRevision;
      fake.deploy("ai-orchestra-staging", "europe-west1", "api", {
        revision: stableRevision,
        traffic: [{ revision: stableRevision, percent: 100, tag: "stable" }],
        outcome: "ready",
      });
    });
    afterEach(() => fake.close());
    const image = `europe-west1-docker.pkg.dev/ai-orchestra-staging/orchestra/api@sha256:${"1".repeat(64)}`;
    const env = (extra: Record<string, string> = {}) => ({
      ...process.env,
      NO_COLOR: "1",
      ORCHESTRA_NO_SUGGESTIONS: "1",
      ORCHESTRA_STATE_DIR: state,
      ORCHESTRA_CLOUD_RUN_ENDPOINT: fake.url,
      PULUMI_CONFIG_PASSPHRASE: "test",
      ...cleanScannerEnv(),
      ...extra,
    });

    it("without the Pulumi CLI: refused (exit 2), nothing edited, the report says why", () => {
      const original = fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8");
      const empty = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-empty-path-"));
      const r = spawnSync(process.execPath, [CLI, "rollout", "api", "--stack", "staging", "--image", image], {
        cwd: dir,
        encoding: "utf8",
        env: env({ PATH: empty }),
      });
      assert.equal(r.status, 2, `${r.stdout}\n${r.stderr}`);
      assert.equal(fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8"), original);
      assert.ok(!fs.existsSync(path.join(dir, ".orchestra-rollout", "staging.api.state.json")));
      const report = JSON.parse(fs.readFileSync(path.join(dir, "rollout-report.json"), "utf8")) as {
        final: string;
        reason: string;
      };
      assert.equal(report.final, "refused");
      assert.equal(
        report.reason,
        "Preflight failed, nothing was changed: pulumi-cli: the Pulumi CLI is not installed (no `pulumi` on PATH). " +
          "Fix: install it: https://www.pulumi.com/docs/install/ (in GitHub Actions: pulumi/actions or pulumi/setup-pulumi).",
      );
      assert.match(r.stdout, /^refused: Preflight failed, nothing was changed: pulumi-cli: /m);
      assert.doesNotMatch(`${r.stdout}${r.stderr}`, /unexpected error|\n\s+at /i);
      assert.equal(fake.requests.length, 0, "Cloud Run is not read while Pulumi cannot run");
    });

    it("Ctrl-C on a terminal (the whole process group) cancels the up, rolls back, exits 130", async () => {
      const original = fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8");
      // Its own process group, as a shell gives a foreground job: the group signal reaches node and pulumi.
      const p = spawn(process.execPath, [CLI, "rollout", "api", "--stack", "staging", "--image", image], {
        cwd: dir,
        detached: true,
        env: env({ STUB_HANG_FIRST_UP: "1" }),
      });
      let stdout = "";
      let stderr = "";
      let sent = false;
      p.stderr.on("data", (d) => (stderr += d));
      p.stdout.on("data", (d) => {
        stdout += d;
        if (!sent && stdout.includes("pulumi: Updating (staging)")) {
          sent = true;
          process.kill(-(p.pid as number), "SIGINT");
        }
      });
      const code = await new Promise<number | null>((resolve) => p.on("close", (c) => resolve(c)));
      assert.equal(code, 130, `${stdout}\n${stderr}`);
      assert.match(
        stdout,
        /Preflight: Pulumi CLI v3\.248\.0; logged in to gs:\/\/ai-orchestra-pulumi-state; /,
      );
      assert.match(stderr, /Interrupted: returning to the last verified step/);
      assert.match(stdout, /Rolling back: Interrupted before any step was verified\./);
      assert.match(stdout, new RegExp(`Rolled back: Stable revision ${stableRevision} serves 100%`));
      const text = fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8");
      assert.notEqual(text, original);
      assert.match(text, /phase: rolled-back/);
      assert.equal(
        fs.readFileSync(path.join(state, "applied.yaml"), "utf8"),
        text,
        "the rollback was applied",
      );
      const report = JSON.parse(fs.readFileSync(path.join(dir, "rollout-report.json"), "utf8")) as {
        final: string;
      };
      assert.equal(report.final, "rolled back");
      assert.ok(fake.requests.some((q) => q.call === "getService"));
    });
  });
});
