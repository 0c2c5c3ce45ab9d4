import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import type { RolloutFlags } from "../../cli/commands/rollout";
import type { RolloutReport } from "../../cli/rollout/machine";
import { runRolloutCommand } from "../../cli/rollout/run";
import { readState } from "../../cli/rollout/state";
import { REPO_ROOT } from "../support/cliHarness";
import { StandInCloudRun } from "../support/rolloutCloud";
import {
  intervalQueryOf,
  NORMAL_SHAPE,
  serve,
  standInInterval,
  tempProjectDir,
  type Profile,
} from "../support/rolloutHarness";
import { isCanaryRevision, type StandInUrls } from "../support/rolloutOutputs";
import { cloudFileOf, rolloutFlags, standInRuntime, type StandInOptions } from "../support/rolloutRuntime";

const IMAGE =
  "europe-west1-docker.pkg.dev/ai-orchestra-staging/orchestra/api@sha256:1111111111111111111111111111111111111111111111111111111111111111";
/** Canary and stable alike, with enough traffic (100,000 requests an interval) that a step passes at its first look. */
const PROFILE: Profile = { errorRatio: 0.01, clientErrorRatio: 0.02, shape: NORMAL_SHAPE };
const TOTAL = 100_000;

describe("orchestra rollout command: report files, step summary, progress, signals", function () {
  let dir: string;
  let urls: StandInUrls;
  let cloud: StandInCloudRun;
  /** Whose traffic split the metrics server reads: the test project's stand-in Cloud Run. */
  let liveFile = "";
  let smoke: Awaited<ReturnType<typeof serve>>;
  let metrics: Awaited<ReturnType<typeof serve>>;

  before(async () => {
    smoke = await serve((_req, res) => res.end("ok"));
    metrics = await serve((req, res) => {
      const q = intervalQueryOf(req.url ?? "/");
      const live = new StandInCloudRun(liveFile);
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify(
          standInInterval(
            (r) => live.serving(r),
            q.regions,
            q.revisions,
            () => PROFILE,
            TOTAL,
          ),
        ),
      );
    });
  });
  after(async () => {
    await smoke.close();
    await metrics.close();
  });
  beforeEach(() => {
    dir = tempProjectDir();
    urls = { regions: { "europe-west1": smoke.url } };
    cloud = StandInCloudRun.seed(cloudFileOf(dir), dir, "staging", "api");
    liveFile = cloudFileOf(dir);
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(cloudFileOf(dir), { force: true });
  });

  const stackFile = () => path.join(dir, "Pulumi.staging.yaml");
  const api = () => parse(fs.readFileSync(stackFile(), "utf8")).config["ai-orchestra:services"].api;
  const standIn = (extra: Partial<StandInOptions> = {}) =>
    standInRuntime({ dir, cwd: dir, urls, cloudFile: cloudFileOf(dir), metricsUrl: metrics.url, ...extra });
  const readReport = (base = "rollout-report") =>
    JSON.parse(fs.readFileSync(path.join(dir, `${base}.json`), "utf8")) as RolloutReport;

  it("writes the JSON and markdown reports: staging, steps, timings, live regions, metrics, verdicts, final state", async () => {
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
    const revision = report.revision ?? "";
    assert.ok(isCanaryRevision(revision), revision);
    assert.deepEqual(report.staging?.applies, ["applied"]);
    assert.deepEqual(report.preflight?.notes, [
      "Pulumi CLI v3.248.0 (stand-in)",
      "Cloud Run read in europe-west1 (project ai-orchestra-staging)",
    ]);
    const first = report.records[0];
    assert.equal(first.startedAt, "2026-01-01T00:00:00.000Z");
    assert.equal(first.finishedAt, "2026-01-01T00:10:00.000Z");
    assert.deepEqual(
      first.regions?.map((r) => [r.region, r.outcome, r.latestReadyRevision, r.canaryPercent]),
      [["europe-west1", "ok", revision, 5]],
    );
    assert.deepEqual(first.analyses[0].window, {
      start: "2026-01-01T00:00:00.000Z",
      end: "2026-01-01T00:08:00.000Z",
    });
    const errors = first.analyses[0].verdicts.find((v) => v.test === "errors");
    assert.equal(errors?.outcome, "pass");
    assert.match(errors?.explanation ?? "", /canary 1\.00% \(50\/5000\) vs stable 1\.00% \(950\/95000\)/);
    // The look's own data is in the report, so `orchestra rollout judge` can replay it.
    assert.deepEqual(Object.keys(first.analyses[0].interval), ["regions"]);
    assert.match(first.decision ?? "", /^advance/);
    assert.deepEqual(report.promotion?.applies, ["applied"]);

    const md = fs.readFileSync(path.join(dir, "out/r.md"), "utf8");
    assert.match(md, /^## Rollout of api on staging: promoted\n/);
    assert.match(md, /- Steps: 5% → 25% → 50% → 100%\n/);
    assert.match(
      md,
      /### Staging\n\n- Started 2026-01-01T00:00:00\.000Z, ready 2026-01-01T00:00:00\.000Z\n- pulumi up: applied\n/,
    );
    assert.match(
      md,
      /### Step 5%\n\n- Started 2026-01-01T00:00:00\.000Z, verified 2026-01-01T00:10:00\.000Z/,
    );
    assert.match(
      md,
      new RegExp(`- Cloud Run: europe-west1 ok \\(serves api-\\w+ 95%, ${revision} 5%; canary 5%\\)`),
    );
    assert.match(md, /\| europe-west1 \| errors \| pass \| 5xx ratio: canary 1\.00% \(50\/5000\)/);
    assert.match(md, /### Promotion\n\n- pulumi up: applied\n- Cloud Run: europe-west1 ok/);
    assert.match(md, /- Reason: Every step was verified and its analysis passed; the promotion is live\./);
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
      StandInCloudRun.seed(cloudFileOf(other), other, "staging", "api");
      liveFile = cloudFileOf(other);
      const r = standInRuntime({
        dir: other,
        cwd: other,
        urls,
        cloudFile: cloudFileOf(other),
        metricsUrl: metrics.url,
        env: { GITHUB_STEP_SUMMARY: summary },
      });
      assert.equal(
        await runRolloutCommand("api", rolloutFlags({ image: IMAGE }), r.runtime),
        0,
        r.stdout.text,
      );
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
      fs.rmSync(cloudFileOf(other), { force: true });
    }
    assert.equal(fs.readFileSync(summary, "utf8"), before);
  });

  it("on a terminal: a live step line, wait and bake countdowns, no timestamps", async () => {
    cloud.scenario = { newRevision: { "europe-west1": "pending" }, pendingReads: 1 };
    const s = standIn({ tty: true });
    assert.equal(
      await runRolloutCommand("api", rolloutFlags({ image: IMAGE, steps: [50, 100] }), s.runtime),
      0,
    );
    const out = s.stdout.text;
    // Cloud Run reports the new revision ready only on the second read: a 5-minute wait, counted down.
    assert.match(out, /\r\x1b\[2K {2}waiting for revision api-\w+-\w+: 5:00 left\r\x1b\[2K/);
    assert.ok(out.includes("\r\x1b[2K  baking step 1 (50%), interval 1: 10:00 left"));
    assert.ok(out.includes("\r\x1b[2K  baking step 2 (100%), interval 1: 0:01 left"));
    // The countdown line is cleared before the next log line, which then starts at the margin.
    assert.ok(/1: 0:01 left\r\x1b\[2K {2}pass +\[europe-west1\] Traffic:/.test(out), "countdown cleared");
    assert.ok(out.includes("\nStep 2/2: canary at 100%.\n"));
    assert.match(
      out,
      /^Resolving \S+ in its registry\.\.\.\nPreflight: Pulumi CLI v3\.248\.0 \(stand-in\); Cloud Run read in europe-west1 .*\.\n/,
    );
    assert.match(out, /\nCanary \S+ staged for api on staging as revision api-\w+-\w+\.\n/);
    assert.doesNotMatch(out, /^\d{4}-\d\d-\d\dT/m);
  });

  it("in CI (not a terminal, or NO_COLOR): plain timestamped log lines, no countdown", async () => {
    for (const s of [standIn(), standIn({ tty: true, env: { NO_COLOR: "1" } })]) {
      fs.rmSync(path.join(dir, ".orchestra-rollout"), { recursive: true, force: true });
      fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.staging.yaml"), stackFile());
      StandInCloudRun.seed(cloudFileOf(dir), dir, "staging", "api");
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
        logLines.some((l) =>
          /Z {3}verified: Revision api-\w+-\w+ is ready and takes 50% in europe-west1\./.test(l),
        ),
      );
    }
  });

  it("a SIGTERM mid-step returns to the last verified step and exits 143; a second one quits at once", async () => {
    let s: ReturnType<typeof standIn> | undefined = undefined;
    // The first during step 2's up (the 3rd, after staging and step 1); the second during the up that
    // returns to step 1.
    s = standIn({ onUp: (n) => void (n >= 3 && s?.signals.emit("SIGTERM")) });
    const code = await runRolloutCommand("api", rolloutFlags({ image: IMAGE }), s.runtime);
    assert.equal(code, 143);
    assert.equal(api().canary.percent, 5);
    assert.equal(readReport().final, "interrupted");
    assert.match(s.stderr.text, /Terminated: returning to the last verified step/);
    assert.deepEqual(s.exits, [143]);
    s.signals.emit("SIGTERM"); // the handlers are gone once the command returned
    assert.deepEqual(s.exits, [143]);
  });

  it("a preflight refusal exits 2, writes the report and the step summary, and changes nothing", async () => {
    const before = fs.readFileSync(stackFile(), "utf8");
    const summary = path.join(dir, "summary.md");
    const s = standIn({
      problems: [
        {
          check: "pulumi-login",
          reason: "not logged in to a Pulumi backend",
          fix: "`pulumi login gs://ai-orchestra-pulumi-state`",
        },
      ],
      env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary },
    });
    assert.equal(await runRolloutCommand("api", rolloutFlags({ image: IMAGE }), s.runtime), 2);
    assert.equal(fs.readFileSync(stackFile(), "utf8"), before);
    assert.equal(s.pulumi.ups.length, 0);
    const report = readReport();
    assert.equal(report.final, "refused");
    assert.equal(
      report.reason,
      "Preflight failed, nothing was changed: pulumi-login: not logged in to a Pulumi backend. Fix: `pulumi login gs://ai-orchestra-pulumi-state`.",
    );
    assert.match(fs.readFileSync(summary, "utf8"), /^## Rollout of api on staging: refused\n/);
    assert.match(
      s.stdout.text,
      /^refused: Preflight failed, nothing was changed: pulumi-login: .*\nReport: /m,
    );
  });

  it("refusals before any check exit 2 with a report: no such service, a client that cannot be built", async () => {
    const s = standIn();
    assert.equal(await runRolloutCommand("nope", rolloutFlags({ image: IMAGE }), s.runtime), 2);
    assert.equal(readReport().final, "refused");
    assert.equal(readReport().reason, 'Stack "staging" has no service "nope".');
    const broken = standIn();
    const runtime = {
      ...broken.runtime,
      live: async () => {
        throw new Error(
          'ORCHESTRA_CLOUD_RUN_ENDPOINT="nonsense" is not a URL; set it to http://HOST:PORT or unset it.',
        );
      },
    };
    assert.equal(await runRolloutCommand("api", rolloutFlags({ image: IMAGE }), runtime), 2);
    assert.match(readReport().reason ?? "", /^ORCHESTRA_CLOUD_RUN_ENDPOINT="nonsense" is not a URL/);
    assert.equal(broken.pulumi.ups.length, 0);
  });

  it("an apply that fails and leaves state to check exits 3, naming the command to run", async () => {
    const s = standIn({
      onUp: (n) => {
        if (n >= 2) throw new Error("error: getting secrets manager: passphrase must be set");
      },
    });
    assert.equal(await runRolloutCommand("api", rolloutFlags({ image: IMAGE }), s.runtime), 3);
    const report = readReport();
    assert.equal(report.final, "failed");
    assert.equal(report.next, "orchestra rollout api --stack staging --resume");
    assert.match(s.stdout.text, /\nNext: orchestra rollout api --stack staging --resume\n/);
    assert.equal(api().canary.phase, "staged", "the file holds what was applied: the staged canary");
    assert.match(
      fs.readFileSync(path.join(dir, "rollout-report.md"), "utf8"),
      /### Rollback\n\n- Why: Step 5%: pulumi up failed/,
    );
  });

  /** Runs the rollout in a child process (tests/support/rolloutChild.ts); `at` sees its stderr. */
  function child(
    config: { flags: RolloutFlags; hangAtUp?: number; ignoreCancel?: boolean; amd64?: string },
    at: (stderr: string, kill: (signal: NodeJS.Signals) => void) => void,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-rollout-child-"));
    const p = spawn(
      process.execPath,
      [
        "--require",
        require.resolve("@swc-node/register"),
        path.join(__dirname, "..", "support", "rolloutChild.ts"),
      ],
      {
        cwd: dir,
        env: {
          ...process.env,
          TMPDIR: tmp,
          ROLLOUT_CHILD: JSON.stringify({
            dir,
            urls,
            cloudFile: cloudFileOf(dir),
            metricsUrl: metrics.url,
            ...config,
          }),
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
    const r = await child({ flags: rolloutFlags({ image: IMAGE }), hangAtUp: 3 }, once("up 3\n", "SIGINT"));
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /Interrupted: returning to the last verified step/);
    assert.match(r.stderr, /up 4\n/); // the last verified step, applied again
    assert.equal(api().canary.percent, 5);
    assert.equal(readState(dir, "staging", "api")?.lastVerified, 0);
    assert.equal(readReport().final, "interrupted");
    assert.equal(Object.values(cloud.serving("europe-west1")).sort().join(), "5,95");
  });

  it("SIGTERM while the canary is staged rolls back and exits 143", async () => {
    const r = await child({ flags: rolloutFlags({ image: IMAGE }), hangAtUp: 1 }, once("up 1\n", "SIGTERM"));
    assert.equal(r.code, 143, r.stderr);
    assert.equal(api().canary.phase, "rolled-back");
    assert.equal(readReport().final, "rolled back");
    assert.deepEqual(cloud.serving("europe-west1"), { [api().stable.revision]: 100 });
  });

  it("kill -9 during a step's up leaves the last verified step in the file; --resume continues", async () => {
    const r = await child(
      { flags: rolloutFlags({ image: IMAGE }), hangAtUp: 4, ignoreCancel: true },
      once("up 4\n", "SIGKILL"),
    );
    assert.equal(r.signal, "SIGKILL");
    assert.equal(api().canary.percent, 25); // step 3 (50%) was being applied
    assert.equal(api().canary.image, IMAGE);
    assert.equal(readState(dir, "staging", "api")?.lastVerified, 1);

    // The dry run reads the same state the run resumes from, and changes nothing.
    const before = fs.readFileSync(stackFile(), "utf8");
    const d = standIn();
    assert.equal(await runRolloutCommand("api", rolloutFlags({ resume: true, dryRun: true }), d.runtime), 0);
    assert.match(d.stdout.text, /resume {4}Resuming api on staging after step 2 of 4\./);
    assert.match(d.stdout.text, /steps {5}50%, 100% left of 5%, 25%, 50%, 100%, then promote/);
    assert.match(d.stdout.text, /budget {4}false-rollback budget spent so far: \S+ of 0\.01/);
    assert.deepEqual(d.pulumi.ups, []);
    assert.equal(fs.readFileSync(stackFile(), "utf8"), before);

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

  it("kill -9 while the canary is staged leaves the file byte for byte; --resume stages the same revision", async () => {
    const original = fs.readFileSync(stackFile(), "utf8");
    const r = await child(
      { flags: rolloutFlags({ image: IMAGE }), hangAtUp: 1, ignoreCancel: true },
      once("up 1\n", "SIGKILL"),
    );
    assert.equal(r.signal, "SIGKILL");
    assert.equal(fs.readFileSync(stackFile(), "utf8"), original);
    const state = readState(dir, "staging", "api");
    assert.equal(state?.lastVerified, -1);
    assert.match(state?.attempt ?? "", /^[0-9a-z]{6}$/);

    const s = standIn();
    assert.equal(await runRolloutCommand("api", rolloutFlags({ resume: true }), s.runtime), 0, s.stdout.text);
    assert.match(
      s.pulumi.ups[0],
      new RegExp(`revision: api-\\w+-${state?.attempt}\\n\\s+percent: 5\\n\\s+phase: staged`),
    );
    assert.equal(api().stable.image, IMAGE);
  });

  it("kill -9 after the gate approved an index: --resume records the same approved digests beside the canary", async () => {
    const amd64 = `sha256:${"e".repeat(64)}`;
    const r = await child(
      { flags: rolloutFlags({ image: IMAGE }), hangAtUp: 1, ignoreCancel: true, amd64 },
      once("up 1\n", "SIGKILL"),
    );
    assert.equal(r.signal, "SIGKILL");
    const index = IMAGE.split("@")[1];
    assert.deepEqual(readState(dir, "staging", "api")?.approval, {
      approvedDigests: { index, linuxAmd64: amd64 },
    });
    // The resumed run reads no gate (its stand-in would approve a single-platform image): it records
    // what the interrupted one approved.
    const s = standIn();
    assert.equal(await runRolloutCommand("api", rolloutFlags({ resume: true }), s.runtime), 0, s.stdout.text);
    assert.match(
      s.pulumi.ups[0],
      new RegExp(`approvedDigests:\\n\\s+index: ${index}\\n\\s+linuxAmd64: ${amd64}\\n`),
    );
    assert.equal(api().stable.image, IMAGE);
  });

  it("kill -9 while the baseline is staged leaves the file byte for byte; --resume stages the same baseline, then the canary", async () => {
    const original = fs.readFileSync(stackFile(), "utf8");
    const r = await child(
      { flags: rolloutFlags({ image: IMAGE, withBaseline: true }), hangAtUp: 1, ignoreCancel: true },
      once("up 1\n", "SIGKILL"),
    );
    assert.equal(r.signal, "SIGKILL");
    assert.equal(fs.readFileSync(stackFile(), "utf8"), original);
    const state = readState(dir, "staging", "api");
    assert.equal(state?.lastVerified, -1);
    assert.equal(state?.baseline, true);

    const s = standIn();
    assert.equal(await runRolloutCommand("api", rolloutFlags({ resume: true }), s.runtime), 0, s.stdout.text);
    // The baseline's apply first, under the same attempt, then the canary's beside it.
    assert.match(
      s.pulumi.ups[0],
      new RegExp(`baseline:\\n\\s+revision: api-\\w+-${state?.attempt}\\n\\s+phase: staged`),
    );
    assert.match(s.pulumi.ups[1], /phase: ready/);
    assert.match(s.stdout.text, /Baseline api-\S+ is ready; creating the canary revision/);
    assert.equal(api().stable.image, IMAGE);
    assert.equal(api().canary, undefined);
  });

  it("kill -9 while the canary is staged beside a ready baseline: --resume keeps the baseline and creates the canary", async () => {
    const r = await child(
      { flags: rolloutFlags({ image: IMAGE, withBaseline: true }), hangAtUp: 2, ignoreCancel: true },
      once("up 2\n", "SIGKILL"),
    );
    assert.equal(r.signal, "SIGKILL");
    // The baseline's apply was verified and committed; the canary's was not.
    const baseline = api().canary.baseline;
    assert.equal(baseline.phase, "staged");
    assert.equal(api().canary.phase, "staged");

    const s = standIn();
    assert.equal(await runRolloutCommand("api", rolloutFlags({ resume: true }), s.runtime), 0, s.stdout.text);
    // No second baseline: the resumed run checks the live one and applies only the canary's template.
    assert.match(
      s.stdout.text,
      new RegExp(`Baseline ${baseline.revision} is ready; creating the canary revision`),
    );
    assert.match(
      s.pulumi.ups[0],
      new RegExp(`baseline:\\n\\s+revision: ${baseline.revision}\\n\\s+phase: ready`),
    );
    assert.ok(s.pulumi.ups.every((u) => !/baseline:\n\s+revision: \S+\n\s+phase: staged/.test(u)));
    assert.equal(api().stable.image, IMAGE);
  });

  it("kill -9 while a rollback is applied leaves the last applied state in the file; --resume applies the rollback", async () => {
    cloud.scenario = { wrongPercent: { region: "europe-west1", percent: 0 } }; // step 1 is never live: rollback, the 3rd up
    const r = await child(
      { flags: rolloutFlags({ image: IMAGE }), hangAtUp: 3, ignoreCancel: true },
      once("up 3\n", "SIGKILL"),
    );
    assert.equal(r.signal, "SIGKILL");
    assert.equal(api().canary.phase, "staged", "the file never claims the rollback before it is applied");
    assert.match(readState(dir, "staging", "api")?.rollback?.reason ?? "", /^Step 5%: verification failed\./);
    // A new rollout, dry or not, is refused until the recorded rollback is applied; --resume's plan says so.
    const d = standIn();
    assert.equal(await runRolloutCommand("api", rolloutFlags({ dryRun: true }), d.runtime), 2);
    assert.match(
      d.stdout.text,
      /refused +A rollback of api on staging is recorded and not confirmed applied/,
    );
    assert.equal(await runRolloutCommand("api", rolloutFlags({ resume: true, dryRun: true }), d.runtime), 0);
    assert.match(d.stdout.text, /rollback  apply the recorded rollback \(Step 5%: verification failed\./);
    const s = standIn();
    assert.equal(await runRolloutCommand("api", rolloutFlags({ resume: true }), s.runtime), 1, s.stdout.text);
    assert.equal(readReport().final, "rolled back");
    assert.equal(api().canary.phase, "rolled-back");
    assert.deepEqual(cloud.serving("europe-west1"), { [api().stable.revision]: 100 });
    assert.equal(readState(dir, "staging", "api"), undefined);
    assert.match(s.stdout.text, /the recorded rollback was not confirmed applied; applying it\./);
  });

  it("--resume with nothing recorded is refused (exit 2)", async () => {
    const s = standIn();
    assert.equal(await runRolloutCommand("api", rolloutFlags({ resume: true }), s.runtime), 2);
    assert.match(
      readReport().reason ?? "",
      /^Nothing to resume: no rollout of api on staging was interrupted\.$/,
    );
    const d = standIn();
    assert.equal(await runRolloutCommand("api", rolloutFlags({ resume: true, dryRun: true }), d.runtime), 2);
    assert.match(d.stdout.text, /refused +Nothing to resume: no rollout of api on staging was interrupted\./);
  });
});
