import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { acquireLock } from "../../cli/rollout/state";
import {
  CLI,
  cleanupTempProjects,
  cliEnv,
  describeRun,
  makeTempProject,
  type CliResult,
} from "../support/cliHarness";

const WORKER_IMAGE = `europe-west1-docker.pkg.dev/ai-orchestra-prod/orchestra/worker@sha256:${"1".repeat(64)}`;

/**
 * The locks between processes: two on one stack take turns or the second is refused, and a stack file
 * whose folder cannot take a lock is refused for a user who cannot write there.
 */
describe("two processes at once on one stack", function () {
  this.timeout(600_000);
  after(() => cleanupTempProjects());

  it("two canary commands run at once on one stack file: both edits land, every time", async () => {
    const project = makeTempProject();
    const rounds = 8;
    for (let round = 0; round < rounds; round++) {
      project.write("prod", fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.prod.yaml"), "utf8"));
      const [set, start] = await Promise.all([
        project.runAsync("canary", "set", "api", "30", "--stack", "prod"),
        project.runAsync("canary", "start", "worker", "--image", WORKER_IMAGE, "--stack", "prod"),
      ]);
      assert.equal(set.status, 0, describeRun(set));
      assert.equal(start.status, 0, describeRun(start));
      const text = project.read("prod");
      assert.match(text, /percent: 30 # raise with/, `round ${round}: the set was lost`);
      assert.ok(text.includes(`image: ${WORKER_IMAGE}`), `round ${round}: the start was lost`);
      assert.ok(!fs.existsSync(`${project.stackFile("prod")}.lock`), "the lock is released");
    }
  });

  it("refuses a second rollout of a stack while the lock is held (exit 2), leaving the file alone", async () => {
    const p = makeTempProject();
    const before = p.read("staging");
    const release = acquireLock(p.dir, "staging", "worker");
    let r;
    try {
      // Not blocking this process: the holder keeps its lock fresh, as a running rollout does. A blocked
      // holder stops refreshing it, and a child slower than LOCK_STALE_MS (a loaded machine) takes it over.
      r = await p.runAsync(
        "rollout",
        "api",
        "--stack",
        "staging",
        "--image",
        "repo@sha256:" + "1".repeat(64),
      );
    } finally {
      release();
    }
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^refused: Another rollout holds stack "staging" \\(pid ${process.pid}, service worker`,
        "m",
      ),
    );
    assert.equal(p.read("staging"), before);
  });

  it("a stack file in a folder the user cannot write: one line naming the folder and the fix, nothing changed", () => {
    const project = makeTempProject();
    const before = project.read("prod");
    fs.chmodSync(project.dir, 0o555);
    try {
      // As root, permissions do not apply: run as nobody, for whom the folder is read-only.
      const asUser =
        process.getuid?.() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
      const [cmd, ...args] = [
        ...asUser,
        process.execPath,
        CLI,
        "canary",
        "set",
        "api",
        "30",
        "--stack",
        "prod",
      ];
      const env = cliEnv();
      const r = spawnSync(cmd, args, { cwd: project.dir, env, encoding: "utf8", timeout: 180_000 });
      const result: CliResult = { status: r.status, stdout: r.stdout, stderr: r.stderr };
      assert.equal(r.status, 1, describeRun(result));
      assert.equal(
        r.stderr,
        `error: Pulumi.prod.yaml was not changed: it could not be locked (EACCES on ${project.stackFile("prod")}.lock); ` +
          `make the folder writable (chmod u+w ${project.dir}), or run as its owner, then run the command again.\n`,
      );
    } finally {
      fs.chmodSync(project.dir, 0o755);
    }
    assert.equal(project.read("prod"), before);
    assert.deepEqual(
      fs.readdirSync(project.dir).filter((f) => !/^Pulumi(\.\w+)?\.yaml$/.test(f)),
      [],
    );
  });
});
