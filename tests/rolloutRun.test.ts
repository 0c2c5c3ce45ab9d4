import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import type { RolloutFlags } from "../cli/commands/rollout";
import type { RevisionMetrics } from "../cli/rollout/analysis";
import type { RolloutReport } from "../cli/rollout/machine";
import { runRolloutCommand } from "../cli/rollout/run";
import { readState } from "../cli/rollout/state";
import { REPO_ROOT } from "./support/cliHarness";
import { serve, tempProjectDir } from "./support/rolloutHarness";
import { CANARY_REVISION, type StandInCloud } from "./support/rolloutOutputs";
import { rolloutFlags, standInRuntime, type StandInOptions } from "./support/rolloutRuntime";

const IMAGE =
  "europe-west1-docker.pkg.dev/ai-orchestra-staging/orchestra/api@sha256:1111111111111111111111111111111111111111111111111111111111111111";
const bounds = [50, 100, 200, 400, null] as unknown as number[];
const metricsOf = (requests: number, errors: number): RevisionMetrics => ({
  requests,
  errors,
  latency: { bounds, counts: [0.3, 0.5, 0.15, 0.05, 0].map((f) => Math.round(f * requests)) },
});

describe("orchestra rollout command: report files, step summary, progress, signals", function () {
  let dir: string;
  let cloud: StandInCloud;
  let smoke: Awaited<ReturnType<typeof serve>>;
  let metrics: Awaited<ReturnType<typeof serve>>;

  before(async () => {
    smoke = await serve((_req, res) => res.end("ok"));
    metrics = await serve((req, res) => {
      const revision = new URL(req.url ?? "/", "http://x").searchParams.get("revision");
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(revision === CANARY_REVISION ? metricsOf(2000, 20) : metricsOf(8000, 80)));
    });
  });
  after(async () => {
    await smoke.close();
    await metrics.close();
  });
  beforeEach(() => {
    dir = tempProjectDir();
    cloud = { regions: { "europe-west1": smoke.url } };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const stackFile = () => path.join(dir, "Pulumi.staging.yaml");
  const api = () => parse(fs.readFileSync(stackFile(), "utf8")).config["ai-orchestra:services"].api;
  const standIn = (extra: Partial<StandInOptions> = {}) =>
    standInRuntime({ dir, cwd: dir, cloud, metricsUrl: metrics.url, ...extra });
  const readReport = (base = "rollout-report") =>
    JSON.parse(fs.readFileSync(path.join(dir, `${base}.json`), "utf8")) as RolloutReport;

  it("writes the JSON and markdown reports: steps, timings, readiness, metrics, verdicts, final state", async () => {
    const s = standIn();
    const code = await runRolloutCommand("api", rolloutFlags({ image: IMAGE, report: "out/r" }), s.runtime);
    assert.equal(code, 0, s.stdout.text);
    const report = readReport("out/r");
    assert.equal(report.final, "promoted");
    assert.equal(report.image, IMAGE);
    assert.deepEqual(report.steps, [5, 25, 50, 100]);
    assert.deepEqual(
      report.records.map((r) => r.percent),
      [5, 25, 50, 100],
    );
    const first = report.records[0];
    assert.equal(first.startedAt, "2026-01-01T00:00:00.000Z");
    assert.equal(first.finishedAt, "2026-01-01T00:10:00.000Z");
    assert.deepEqual(first.regions, [
      { region: "europe-west1", latestReadyRevision: CANARY_REVISION, canaryPercent: 5, ok: true },
    ]);
    assert.deepEqual(first.analyses[0].window, {
      start: "2026-01-01T00:00:00.000Z",
      end: "2026-01-01T00:08:00.000Z",
    });
    const errorRatio = first.analyses[0].result.verdicts.find((v) => v.metric === "errorRatio");
    assert.equal(errorRatio?.outcome, "pass");
    assert.match(errorRatio?.explanation ?? "", /canary 1\.00% \(20\/2000\) vs stable 1\.00% \(80\/8000\)/);
    assert.match(first.decision ?? "", /^advance/);

    const md = fs.readFileSync(path.join(dir, "out/r.md"), "utf8");
    assert.match(md, /^## Rollout of api on staging: promoted\n/);
    assert.match(md, /- Steps: 5% → 25% → 50% → 100%/);
    assert.match(
      md,
      /### Step 5%\n\n- Started 2026-01-01T00:00:00\.000Z, verified 2026-01-01T00:10:00\.000Z/,
    );
    assert.match(
      md,
      /- Readiness of api-canary-rev: europe-west1 ready \(latest ready api-canary-rev, canary 5%\)/,
    );
    assert.match(md, /\| errorRatio \| pass \| 5xx ratio: canary 1\.00% \(20\/2000\)/);
    assert.match(md, /- Reason: Every step was verified and its analysis passed\./);
    assert.match(s.stdout.text, new RegExp(`Report: ${dir}/out/r\\.json, ${dir}/out/r\\.md`));
  });

  it("inside GitHub Actions appends the markdown to $GITHUB_STEP_SUMMARY, never overwriting it", async () => {
    const summary = path.join(dir, "summary.md");
    fs.writeFileSync(summary, "## Build\n\nearlier step\n");
    const env = { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary };
    assert.equal(await runRolloutCommand("api", rolloutFlags({ image: IMAGE }), standIn({ env }).runtime), 0);
    const md = fs.readFileSync(path.join(dir, "rollout-report.md"), "utf8");
    assert.equal(fs.readFileSync(summary, "utf8"), `## Build\n\nearlier step\n${md}`);

    // Outside Actions (or without GITHUB_ACTIONS=true) the summary file is left alone.
    const before = fs.readFileSync(summary, "utf8");
    const other = tempProjectDir();
    try {
      const r = standInRuntime({
        dir: other,
        cwd: other,
        cloud,
        metricsUrl: metrics.url,
        env: { GITHUB_STEP_SUMMARY: summary },
      });
      assert.equal(await runRolloutCommand("api", rolloutFlags({ image: IMAGE }), r.runtime), 0);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
    assert.equal(fs.readFileSync(summary, "utf8"), before);
  });

  it("on a terminal: a live step line and a bake countdown, no timestamps", async () => {
    const s = standIn({ tty: true });
    assert.equal(
      await runRolloutCommand("api", rolloutFlags({ image: IMAGE, steps: [50, 100] }), s.runtime),
      0,
    );
    const out = s.stdout.text;
    assert.ok(out.includes("\r\x1b[2K  baking step 1 (50%), interval 1: 10:00 left"));
    assert.ok(out.includes("\r\x1b[2K  baking step 2 (100%), interval 1: 0:01 left"));
    // The countdown line is cleared before the next log line, which then starts at the margin.
    assert.ok(/1: 0:01 left\r\x1b\[2K {2}pass +Enough traffic/.test(out), "countdown cleared");
    assert.ok(out.includes("\nStep 2/2: canary at 100%.\n"));
    assert.match(out, /^Canary .* prepared for api on staging\.\n/);
    assert.doesNotMatch(out, /^\d{4}-\d\d-\d\dT/m);
  });

  it("in CI (not a terminal, or NO_COLOR): plain timestamped log lines, no countdown", async () => {
    for (const s of [standIn(), standIn({ tty: true, env: { NO_COLOR: "1" } })]) {
      fs.rmSync(path.join(dir, ".orchestra-rollout"), { recursive: true, force: true });
      fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.staging.yaml"), stackFile());
      assert.equal(
        await runRolloutCommand("api", rolloutFlags({ image: IMAGE, steps: [50, 100] }), s.runtime),
        0,
      );
      const lines = s.stdout.text.trimEnd().split("\n");
      const logLines = lines.slice(0, -2); // then the outcome and the report paths
      assert.ok(logLines.length > 10);
      for (const line of logLines) assert.match(line, /^2026-01-01T\d\d:\d\d:\d\d\.\d{3}Z .+/, line);
      assert.ok(!s.stdout.text.includes("\r") && !s.stdout.text.includes("\x1b"));
      assert.ok(logLines.some((l) => /Z Step 1\/2: canary at 50%\.$/.test(l)));
      assert.ok(
        logLines.some((l) => /Z {3}verified: Revision api-canary-rev is ready and takes 50%/.test(l)),
      );
    }
  });

  it("a SIGTERM mid-step returns to the last verified step and exits 143; a second one quits at once", async () => {
    let s: ReturnType<typeof standIn> | undefined = undefined;
    // The first during step 2's up; the second during the up that returns to step 1.
    s = standIn({ onUp: (n) => void (n >= 2 && s?.signals.emit("SIGTERM")) });
    const code = await runRolloutCommand("api", rolloutFlags({ image: IMAGE }), s.runtime);
    assert.equal(code, 143);
    assert.equal(api().canary.percent, 5);
    assert.equal(readReport().final, "interrupted");
    assert.match(s.stderr.text, /Terminated: returning to the last verified step/);
    assert.deepEqual(s.exits, [143]);
    s.signals.emit("SIGTERM"); // the handlers are gone once the command returned
    assert.deepEqual(s.exits, [143]);
  });

  /** Runs the rollout in a child process (tests/support/rolloutChild.ts); `at` sees its stderr. */
  function child(
    config: { flags: RolloutFlags; hangAtUp?: number; ignoreCancel?: boolean },
    at: (stderr: string, kill: (signal: NodeJS.Signals) => void) => void,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-rollout-child-"));
    const p = spawn(
      process.execPath,
      ["--require", require.resolve("tsx/cjs"), path.join(__dirname, "support", "rolloutChild.ts")],
      {
        cwd: dir,
        env: {
          ...process.env,
          TMPDIR: tmp,
          ROLLOUT_CHILD: JSON.stringify({ dir, cloud, metricsUrl: metrics.url, ...config }),
        },
      },
    );
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => {
      stderr += d;
      at(stderr, (signal) => p.kill(signal));
    });
    return new Promise((resolve) =>
      p.on("close", (code, signal) => {
        fs.rmSync(tmp, { recursive: true, force: true });
        resolve({ code, signal, stdout, stderr });
      }),
    );
  }
  const once = (marker: string, signal: NodeJS.Signals) => {
    let sent = false;
    return (stderr: string, kill: (s: NodeJS.Signals) => void) => {
      if (!sent && stderr.includes(marker)) {
        sent = true;
        kill(signal);
      }
    };
  };

  it("Ctrl-C (SIGINT) during a step's up cancels it, returns to the last verified step and exits 130", async () => {
    const r = await child({ flags: rolloutFlags({ image: IMAGE }), hangAtUp: 2 }, once("up 2\n", "SIGINT"));
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /Interrupted: returning to the last verified step/);
    assert.match(r.stderr, /up 3\n/); // the last verified step, applied again
    assert.equal(api().canary.percent, 5);
    assert.equal(readState(dir, "staging", "api")?.lastVerified, 0);
    assert.equal(readReport().final, "interrupted");
  });

  it("SIGTERM before any step is verified rolls back and exits 143", async () => {
    const r = await child({ flags: rolloutFlags({ image: IMAGE }), hangAtUp: 1 }, once("up 1\n", "SIGTERM"));
    assert.equal(r.code, 143, r.stderr);
    assert.equal(api().canary.rolledBack, true);
    assert.equal(api().canary.percent, 0);
    assert.equal(readReport().final, "rolled back");
  });

  it("kill -9 during a step's up leaves the last verified step in the file; --resume continues", async () => {
    const r = await child(
      { flags: rolloutFlags({ image: IMAGE }), hangAtUp: 3, ignoreCancel: true },
      once("up 3\n", "SIGKILL"),
    );
    assert.equal(r.signal, "SIGKILL");
    assert.equal(api().canary.percent, 25); // step 3 (50%) was being applied
    assert.equal(api().canary.image, IMAGE);
    assert.equal(readState(dir, "staging", "api")?.lastVerified, 1);

    const s = standIn();
    assert.equal(await runRolloutCommand("api", rolloutFlags({ resume: true }), s.runtime), 0, s.stdout.text);
    assert.deepEqual(
      readReport().records.map((x) => x.percent),
      [50, 100],
    );
    assert.match(s.pulumi.ups[0], /percent: 50/);
    assert.equal(api().stable.image, IMAGE);
    assert.equal(api().canary, undefined);
  });

  it("kill -9 during the first step's up leaves the file byte for byte; --resume starts the canary again", async () => {
    const original = fs.readFileSync(stackFile(), "utf8");
    const r = await child(
      { flags: rolloutFlags({ image: IMAGE }), hangAtUp: 1, ignoreCancel: true },
      once("up 1\n", "SIGKILL"),
    );
    assert.equal(r.signal, "SIGKILL");
    assert.equal(fs.readFileSync(stackFile(), "utf8"), original);
    assert.equal(readState(dir, "staging", "api")?.lastVerified, -1);

    const s = standIn();
    assert.equal(await runRolloutCommand("api", rolloutFlags({ resume: true }), s.runtime), 0, s.stdout.text);
    assert.match(s.pulumi.ups[0], /canary:\n\s+image: \S+1111\n\s+percent: 5/);
    assert.equal(api().stable.image, IMAGE);
  });

  it("kill -9 while a rollback is applied leaves the rollback in the file and nothing to resume", async () => {
    cloud = { ...cloud, staleRegion: "europe-west1" }; // step 1 fails verification: rollback, the 2nd up
    const r = await child(
      { flags: rolloutFlags({ image: IMAGE }), hangAtUp: 2, ignoreCancel: true },
      once("up 2\n", "SIGKILL"),
    );
    assert.equal(r.signal, "SIGKILL");
    assert.equal(api().canary.rolledBack, true);
    assert.equal(api().canary.image, IMAGE);
    assert.equal(readState(dir, "staging", "api"), undefined);
    const s = standIn();
    await assert.rejects(
      runRolloutCommand("api", rolloutFlags({ resume: true }), s.runtime),
      /Nothing to resume: no rollout of api on staging was interrupted\. The stack file holds a rollback of api; if it was not applied, run `pulumi up -s staging`\./,
    );
  });
});
