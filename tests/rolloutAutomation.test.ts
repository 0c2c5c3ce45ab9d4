import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AutomationPulumiDriver } from "../cli/rollout/automation";
import { WorkDir } from "../cli/rollout/workDir";
import { CLI, REPO_ROOT } from "./support/cliHarness";
import { tempProjectDir } from "./support/rolloutHarness";

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
if (args[0] === "version") console.log("v3.248.0");
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
      const r = spawnSync(process.execPath, ["--require", require.resolve("tsx/cjs"), "-e", script], {
        cwd: w.path,
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
      const seen = JSON.parse(r.stdout) as { fn: string; mirrored: number; real: number };
      assert.equal(seen.fn, "function");
      assert.equal(seen.mirrored, 0, "no module is loaded under the work folder's path");
      assert.ok(seen.real > 0);
    } finally {
      w.dispose();
    }
  });

  it("the orchestra command: Ctrl-C on a terminal (the whole process group) cancels the up, rolls back, exits 130", async () => {
    const original = fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8");
    const image = `europe-west1-docker.pkg.dev/ai-orchestra-staging/orchestra/api@sha256:${"1".repeat(64)}`;
    // Its own process group, as a shell gives a foreground job: the group signal reaches node and pulumi.
    const p = spawn(process.execPath, [CLI, "rollout", "api", "--stack", "staging", "--image", image], {
      cwd: dir,
      detached: true,
      env: {
        ...process.env,
        STUB_HANG_FIRST_UP: "1",
        NO_COLOR: "1",
        ORCHESTRA_NO_SUGGESTIONS: "1",
        ORCHESTRA_STATE_DIR: state,
      },
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
    assert.match(stderr, /Interrupted: returning to the last verified step/);
    assert.match(stdout, /Rolling back: Interrupted before any step was verified\./);
    const text = fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8");
    assert.notEqual(text, original);
    assert.match(text, /rolledBack: true/);
    assert.equal(fs.readFileSync(path.join(state, "applied.yaml"), "utf8"), text, "the rollback was applied");
    const report = JSON.parse(fs.readFileSync(path.join(dir, "rollout-report.json"), "utf8")) as {
      final: string;
    };
    assert.equal(report.final, "rolled back");
  });
});
