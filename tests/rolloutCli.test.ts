import * as assert from "node:assert/strict";
import { acquireLock } from "../cli/rollout/state";
import { cleanupTempProjects, makeTempProject as tempProject } from "./support/cliHarness";

describe("orchestra rollout (command line)", () => {
  after(cleanupTempProjects);
  it("--help lists every option and the exit codes", () => {
    const r = tempProject().run("rollout", "--help");
    assert.equal(r.status, 0);
    for (const flag of [
      "--stack",
      "--image",
      "--steps",
      "--interval",
      "--resume",
      "--dry-run",
      "--report",
      "--max-p95",
    ])
      assert.ok(r.stdout.includes(flag), flag);
    assert.match(r.stdout, /Exit codes: 0 promoted, 1 rolled back/);
  });

  it("--dry-run prints the plan and changes nothing", () => {
    const p = tempProject();
    const before = p.read("staging");
    const r = p.run(
      "rollout",
      "api",
      "--stack",
      "staging",
      "--image",
      "repo@sha256:" + "1".repeat(64),
      "--dry-run",
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /step 1 +5%: set percent, pulumi up/);
    assert.match(r.stdout, /promote repo@sha256/);
    assert.equal(p.read("staging"), before);
  });

  it("a malformed --steps or --interval is a usage error (exit 2)", () => {
    const p = tempProject();
    assert.equal(p.run("rollout", "api", "--stack", "staging", "--steps", "50,25", "--dry-run").status, 2);
    assert.equal(p.run("rollout", "api", "--stack", "staging", "--interval", "10", "--dry-run").status, 2);
    // Parsed by commander, before the stack file is even read: zero, negative and fractional counts too.
    for (const bad of [
      ["--interval", "0s"],
      ["--max-p95", "-3"],
      ["--max-intervals", "1.5"],
    ]) {
      const r = p.run("rollout", "api", "--stack", "nope", ...bad, "--dry-run");
      assert.equal(r.status, 2, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`option '${bad[0]} <[a-z]+>' argument '${bad[1].replace(".", "\\.")}' is invalid`),
      );
    }
  });

  it("refuses a second rollout of a stack while the lock is held (exit 1), leaving the file alone", () => {
    const p = tempProject();
    const before = p.read("staging");
    const release = acquireLock(p.dir, "staging", "worker");
    let r;
    try {
      r = p.run("rollout", "api", "--stack", "staging", "--image", "repo@sha256:" + "1".repeat(64));
    } finally {
      release();
    }
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`Another rollout holds stack "staging" \\(pid ${process.pid}, service worker`),
    );
    assert.equal(p.read("staging"), before);
  });
});
