import * as assert from "node:assert/strict";
import { cleanupTempProjects, makeTempProject as tempProject, type TempProject } from "./support/cliHarness";
import { runInProcess } from "./support/inProcessCli";

/** `orchestra ...args` in `p`, inside this process; the lock between processes is checked on a spawned run. */
const run = (p: TempProject, ...args: string[]) => runInProcess(p.dir, args);

describe("orchestra rollout (command line)", () => {
  after(cleanupTempProjects);
  it("--help lists every option and the exit codes", async () => {
    const r = await run(tempProject(), "rollout", "--help");
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
      "--ready-timeout",
      "--max-failed-reads",
      "--budget",
      "--margins",
      "--detect",
      "--no-baseline",
      "--expected-requests",
      "--with-baseline",
    ])
      assert.ok(r.stdout.includes(flag), flag);
    const help = r.stdout.replace(/\s+/g, " ");
    assert.match(
      help,
      /Exit codes: 0 promoted, 1 rolled back or interrupted, 2 refused before any change \(usage, preflight, lock, nothing to resume\), 3 failed with state to check/,
    );
    assert.match(help, /130 interrupted by Ctrl-C \(SIGINT\), 143 by SIGTERM/);
  });

  const STAGING_API = "europe-west1-docker.pkg.dev/ai-orchestra-staging/orchestra/api";

  it("--dry-run prints the plan and changes nothing", async () => {
    const p = tempProject();
    const before = p.read("staging");
    const r = await run(
      p,
      "rollout",
      "api",
      "--stack",
      "staging",
      "--image",
      `${STAGING_API}@sha256:${"1".repeat(64)}`,
      "--dry-run",
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /stage +start the canary staged \(no traffic\), pulumi up, wait up to 5m/);
    assert.match(r.stdout, /step 1 +5%: set percent, pulumi up, verify live/);
    assert.match(
      r.stdout,
      /promote europe-west1-docker\.pkg\.dev\/ai-orchestra-staging\/orchestra\/api@sha256/,
    );
    assert.match(r.stdout, /judgment +per region, .*false-rollback budget 0\.01 for the whole rollout/);
    // What the defaults can detect at the default 1,000 canary requests an interval, per comparing step.
    assert.match(
      r.stdout,
      /detects +at 1000 canary requests per interval at 5%, .*: 5%: x\d+\.\d \/ x\d+\.\d, 25%: .*, 50%: /,
    );
    assert.equal(p.read("staging"), before);
    const quiet = await run(
      p,
      "rollout",
      "api",
      "--stack",
      "staging",
      "--image",
      `${STAGING_API}@sha256:${"1".repeat(64)}`,
      "--dry-run",
      "--expected-requests",
      "50",
    );
    const ratio = (out: string) => Number(/5%: x([\d.]+) \//.exec(out)?.[1]);
    assert.ok(ratio(quiet.stdout) > ratio(r.stdout), "less traffic, larger smallest detectable regression");
  });

  it("--dry-run refuses (exit 2, nothing changed) what the run would refuse before it starts", async () => {
    const p = tempProject();
    const before = { staging: p.read("staging"), prod: p.read("prod") };
    const dry = (stack: string, ...args: string[]) =>
      run(p, "rollout", "api", "--stack", stack, ...args, "--dry-run");
    const refused = (r: Awaited<ReturnType<typeof dry>>, why: RegExp) => {
      assert.equal(r.status, 2, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout + r.stderr, why);
      assert.doesNotMatch(r.stdout, /step 1/);
    };
    refused(
      await dry("staging"),
      /refused +Service "api" has no canary to continue: give --image to start one\./,
    );
    refused(
      await dry(
        "staging",
        "--image",
        `europe-west1-docker.pkg.dev/elsewhere/orchestra/api@sha256:${"1".repeat(64)}`,
      ),
      /would not accept it\.[^]*canary\.image = [^\n]*\n +is not in this service's repository/,
    );
    // Prod has a running canary: the same image continues it, another is refused until it ends.
    refused(
      await dry(
        "prod",
        "--image",
        `europe-west1-docker.pkg.dev/ai-orchestra-prod/orchestra/api@sha256:${"2".repeat(64)}`,
      ),
      /already has a canary/,
    );
    // The report is the rollout's last write: a folder that cannot be created is found out first.
    refused(
      await dry("prod", "--report", "Pulumi.yaml/reports/r"),
      /--report .*Pulumi\.yaml\/reports\/r: .*Pulumi\.yaml is a file, so the folder .* cannot be created/,
    );
    const planned = await dry("prod", "--report", "new-folder/r");
    assert.equal(planned.status, 0, "a missing folder is created at the end");
    // Prod's api streams: its latency guard is on time to first token.
    assert.match(planned.stdout, /guards {4}5xx ratio <= 0\.05, time to first token p95 <= \d+ ms/);
    assert.deepEqual({ staging: p.read("staging"), prod: p.read("prod") }, before);
  });

  it("--dry-run refuses a tag where the stack requires a digest (prod)", async () => {
    const p = tempProject();
    const r = await run(
      p,
      "rollout",
      "worker",
      "--stack",
      "prod",
      "--image",
      "europe-west1-docker.pkg.dev/ai-orchestra-prod/orchestra/worker:v2",
      "--dry-run",
    );
    assert.equal(r.status, 2, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /canary\.image = ".*worker:v2"\n +must be pinned by digest in prod/);
  });

  it("--dry-run --with-baseline plans the baseline's apply before the canary's, and the steps it runs beside", async () => {
    const p = tempProject();
    const image = `${STAGING_API}@sha256:${"1".repeat(64)}`;
    const r = await run(
      p,
      "rollout",
      "api",
      "--stack",
      "staging",
      "--image",
      image,
      "--with-baseline",
      "--dry-run",
    );
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout.replace(/\s+/g, " ");
    assert.match(
      out,
      /stage start the canary staged with a baseline .*pulumi up for the baseline, then for the canary/,
    );
    assert.match(out, /note Steps 50%, 100% run without the baseline/);
    const resumed = await run(
      p,
      "rollout",
      "api",
      "--stack",
      "staging",
      "--resume",
      "--with-baseline",
      "--dry-run",
    );
    assert.equal(resumed.status, 2);
    assert.match(
      resumed.stderr,
      /--resume continues the recorded rollout, baseline or not: leave out --with-baseline/,
    );
  });

  it("--dry-run shows the steps the guardrail leaves out and those a running canary skips (prod: at 10%, max 80%)", async () => {
    const p = tempProject();
    const before = p.read("prod");
    const r = await run(p, "rollout", "api", "--stack", "prod", "--dry-run");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /continue +the running canary \(at 10%\)/);
    assert.match(r.stdout, /step 1 +25%: /);
    assert.match(r.stdout, /step 2 +50%: /);
    assert.doesNotMatch(r.stdout, /step 3/);
    assert.match(
      r.stdout,
      /note +Step 100% left out: this stack allows a canary at most 80% \(policy\.maxCanaryPercent\)/,
    );
    assert.match(
      r.stdout,
      /note +Step 5% skipped: the canary already serves 10%, and the rollout never lowers it\./,
    );
    assert.equal(p.read("prod"), before);
    const above = await run(p, "rollout", "api", "--stack", "prod", "--steps", "90,100", "--dry-run");
    assert.equal(above.status, 0, above.stderr);
    assert.match(above.stdout, /step 1 +10%: /);
    assert.match(
      above.stdout,
      /note +No requested step is left: the canary is verified at its current 10%, then promoted\./,
    );
  });

  it("a malformed --steps or --interval is a usage error (exit 2)", async () => {
    const p = tempProject();
    assert.equal(
      (await run(p, "rollout", "api", "--stack", "staging", "--steps", "50,25", "--dry-run")).status,
      2,
    );
    assert.equal(
      (await run(p, "rollout", "api", "--stack", "staging", "--interval", "10", "--dry-run")).status,
      2,
    );
    // Parsed by commander, before the stack file is even read: zero, negative and fractional counts too.
    for (const bad of [
      ["--interval", "0s"],
      ["--max-p95", "-3"],
      ["--max-intervals", "1.5"],
    ]) {
      const r = await run(p, "rollout", "api", "--stack", "nope", ...bad, "--dry-run");
      assert.equal(r.status, 2, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`option '${bad[0]} <[a-z]+>' argument '${bad[1].replace(".", "\\.")}' is invalid`),
      );
    }
  });
});
