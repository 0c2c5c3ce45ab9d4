import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { cleanScanSources } from "../support/fakeScanner";
import { parse, parseDocument } from "yaml";
import { promoteCanary, startCanary } from "../../model/canary/lifecycle";
import {
  rolloutSettings,
  runRollout,
  type RolloutDeps,
  type RolloutOptions,
} from "../../cli/rollout/machine";
import { judgeScenario } from "../../model/judgment/judge";
import { intervalRegions, type ScenarioInput, type Side } from "../../model/judgment/input";
import { TOKEN_BUCKETS, TTFT_BUCKETS } from "../../model/llm";
import { lognormal } from "../support/llmData";
import { REPO_ROOT } from "../support/cliHarness";
import { smokeCheck, type IntervalQuery, type UpRequest } from "../../cli/rollout/ports";
import type { PreflightProblem } from "../../cli/rollout/preflight";
import { reportMarkdown } from "../../cli/rollout/report";
import { acquireLock, LOCK_STALE_MS, LockHeldError, readState } from "../../cli/rollout/state";
import { editStack, loadValidStack } from "../../cli/stackEditor";
import { StandInCloudRun, type CloudScenario } from "../support/rolloutCloud";
import {
  FakeClock,
  FakePulumi,
  HttpIntervalSource,
  intervalQueryOf,
  NORMAL_SHAPE,
  serve,
  SLOW_SHAPE,
  standInInterval,
  tempProjectDir,
  type Profile,
} from "../support/rolloutHarness";
import { isCanaryRevision, standInOutputs, type StandInUrls } from "../support/rolloutOutputs";
import { cloudFileOf } from "../support/rolloutRuntime";

const IMAGE =
  "europe-west1-docker.pkg.dev/ai-orchestra-staging/orchestra/api@sha256:1111111111111111111111111111111111111111111111111111111111111111";
const PROD_IMAGE =
  "europe-west1-docker.pkg.dev/ai-orchestra-prod/orchestra/api@sha256:3333333333333333333333333333333333333333333333333333333333333333";
const NORMAL: Profile = { errorRatio: 0.01, shape: NORMAL_SHAPE };

type Scenario = {
  canary: Profile;
  stable: Profile;
  /** Requests per interval per region, shared by the revisions as Cloud Run splits them. */
  total?: number;
  smokeStatus?: number;
  /** HTTP statuses the metrics server answers first, one per request, before the data. */
  metricsErrors?: number[];
};
const healthy: Scenario = { canary: NORMAL, stable: NORMAL };

describe("orchestra rollout (end to end: stand-in Pulumi and Cloud Run, HTTP smoke and metrics servers)", function () {
  let dir: string;
  let scenario: Scenario;
  let smoke: Awaited<ReturnType<typeof serve>>;
  let metrics: Awaited<ReturnType<typeof serve>>;
  let urls: StandInUrls;
  let cloud: StandInCloudRun;
  const events: string[] = [];
  /** Every smoke request: the server that got it, its path and its canary header. */
  const smokeRequests: { host: string; path: string; canary?: string }[] = [];
  let metricsRequests = 0;

  before(async () => {
    smoke = await serve((req, res) => {
      const canary = req.headers["x-canary"];
      smokeRequests.push({ host: req.headers.host ?? "", path: req.url ?? "", canary: canary as string });
      res.statusCode = scenario.smokeStatus ?? 200;
      res.end("ok");
    });
    metrics = await serve((req, res) => {
      metricsRequests++;
      const status = scenario.metricsErrors?.shift();
      if (status) {
        res.statusCode = status;
        res.end(
          status === 403
            ? "Permission monitoring.timeSeries.list denied"
            : "The service is currently unavailable.",
        );
        return;
      }
      const q = intervalQueryOf(req.url ?? "/");
      const interval = standInInterval(
        (region) => cloud.serving(region),
        q.regions,
        q.revisions,
        (role) => (role === "canary" ? scenario.canary : scenario.stable),
        scenario.total,
      );
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(interval));
    });
  });
  after(async () => {
    await smoke.close();
    await metrics.close();
  });
  const seed = (stack = "staging", sc: CloudScenario = {}) => {
    cloud = StandInCloudRun.seed(cloudFileOf(dir), dir, stack, "api", sc);
  };
  beforeEach(() => {
    dir = tempProjectDir();
    scenario = { ...healthy, metricsErrors: [] };
    urls = { regions: { "europe-west1": smoke.url } };
    seed();
    events.length = 0;
    smokeRequests.length = 0;
    metricsRequests = 0;
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(cloudFileOf(dir), { force: true });
  });

  const options = (extra: Partial<RolloutOptions> = {}): RolloutOptions => ({
    dir,
    stack: "staging",
    service: "api",
    image: IMAGE,
    steps: [5, 25, 50, 100],
    intervalMs: 10 * 60_000,
    maxIntervals: 3,
    metricsLagMs: 120_000,
    readyTimeoutMs: 5 * 60_000,
    maxFailedReads: 3,
    resume: false,
    ...extra,
  });
  const deps = (
    onUp?: (n: number, request: UpRequest) => void | Promise<void>,
    extra: { problems?: PreflightProblem[]; stack?: string } = {},
  ) => {
    const pulumi = new FakePulumi({
      outputs: (text) => standInOutputs(text, "api", urls),
      onUp,
      cloud,
      problems: extra.problems,
    });
    return {
      pulumi,
      intervals: new HttpIntervalSource(metrics.url),
      live: cloud,
      gate: cleanScanSources(),
      clock: new FakeClock(),
      smoke: (url: string, headers?: Readonly<Record<string, string>>) => smokeCheck(url, headers, 2, 2000),
      progress: (e: { kind: string; message?: string }) => {
        if (e.kind === "log") events.push(e.message ?? "");
      },
    } satisfies RolloutDeps;
  };
  const file = (stack = "staging") => fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8");
  const api = (stack = "staging") => parse(file(stack)).config["ai-orchestra:services"].api;

  it("a healthy canary is staged, made ready, stepped up, verified live at each step and promoted", async () => {
    const d = deps();
    const report = await runRollout(options(), d);
    assert.equal(report.final, "promoted", report.reason);
    assert.deepEqual(
      report.records.map((r) => r.percent),
      [5, 25, 50, 100],
    );
    // Staging, four steps, the promotion.
    assert.equal(d.pulumi.ups.length, 6);
    assert.match(d.pulumi.ups[0], /phase: staged/);
    assert.match(d.pulumi.ups[1], /percent: 5\n\s+phase: serving/);
    const revision = report.revision ?? "";
    assert.ok(isCanaryRevision(revision), revision);
    assert.equal(report.staging?.regions?.[0].outcome, "ok");
    assert.match(
      report.staging?.verification ?? "",
      /ready with no traffic yet; stable serves 100% in europe-west1/,
    );
    const stable = report.records[0].regions?.[0].detail.match(/^serves (\S+) 95%/)?.[1] ?? "";
    assert.deepEqual(report.records[0].regions?.[0], {
      region: "europe-west1",
      outcome: "ok",
      latestReadyRevision: revision,
      canaryPercent: 5,
      detail: `serves ${stable} 95%, ${revision} 5%`,
    });
    assert.ok(stable && !isCanaryRevision(stable), stable);
    assert.equal(api().stable.image, IMAGE);
    assert.equal(api().stable.revision, revision);
    assert.equal(api().canary, undefined);
    assert.deepEqual(cloud.serving("europe-west1"), { [revision]: 100 });
    assert.match(file(), /^# Staging/);
    assert.match(
      reportMarkdown(report),
      /\| europe-west1 \| errors \| (pass|open) \| 5xx ratio: canary 1\.00%/,
    );
    assert.equal(readState(dir, "staging", "api"), undefined);
  });

  it("a rollout's report replays through `rollout judge`'s decision code to the same decisions", async () => {
    const finals: string[] = [];
    for (const sc of [healthy, { ...healthy, canary: { ...NORMAL, errorRatio: 0.02 } }]) {
      scenario = sc;
      seed();
      const report = await runRollout(options(), deps());
      finals.push(report.final ?? "");
      // What docs/canary-and-rollout.md's jq line builds from the report's JSON.
      const recorded = JSON.parse(JSON.stringify(report)) as typeof report;
      const input: ScenarioInput = {
        name: "replay",
        steps: recorded.records
          .filter((r) => r.analyses.length > 0)
          .map((r) => ({ percent: r.percent, intervals: r.analyses.map((a) => a.interval) })),
      };
      const replayed = judgeScenario(
        input,
        rolloutSettings(loadValidStack(dir, "staging").config, "api", options()),
      );
      const last = recorded.records.filter((r) => r.analyses.length > 0).at(-1)!;
      assert.equal(replayed.decision, report.final === "promoted" ? "promote" : "rollback", report.reason);
      assert.equal(replayed.step, last.percent);
      assert.equal(replayed.interval, last.analyses.length);
      fs.rmSync(path.join(dir, ".orchestra-rollout"), { recursive: true, force: true });
      fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.staging.yaml"), path.join(dir, "Pulumi.staging.yaml"));
    }
    assert.deepEqual(finals, ["promoted", "rolled back"]);
  });

  it("with --baseline: the baseline is created, then the canary; both serve each step up to 49%, then the baseline is dropped", async () => {
    const d = deps();
    const report = await runRollout(options({ baseline: true }), d);
    assert.equal(report.final, "promoted", report.reason);
    // Two staging applies (baseline, then canary), four steps, the promotion.
    assert.equal(d.pulumi.ups.length, 7);
    const canaryOf = (text: string) => parse(text).config["ai-orchestra:services"].api.canary;
    const [first, second, step5, step25, step50] = d.pulumi.ups.map(canaryOf);
    assert.equal(first.phase, "staged");
    assert.equal(first.baseline.phase, "staged");
    assert.equal(second.phase, "staged");
    assert.equal(second.baseline.phase, "ready");
    const baseline = first.baseline.revision as string;
    const revision = report.revision ?? "";
    assert.notEqual(baseline, revision);
    assert.equal(cloud.revision("europe-west1", baseline)?.outcome, "ready");
    assert.deepEqual([step5.percent, step5.phase, step5.baseline.revision], [5, "serving", baseline]);
    assert.equal(step25.baseline.revision, baseline);
    assert.equal(
      step50.baseline,
      undefined,
      "dropped at 50%: canary and baseline would leave stable nothing",
    );
    assert.match(report.notes.join(" "), /Steps 50%, 100% run without the baseline/);
    const stable = parse(d.pulumi.ups[0]).config["ai-orchestra:services"].api.stable.revision;
    assert.equal(
      report.records[0].regions?.[0].detail,
      `serves ${stable} 90%, ${revision} 5%, ${baseline} 5%`,
    );
    assert.equal(report.records[2].regions?.[0].detail, `serves ${stable} 50%, ${revision} 50%`);
    assert.ok(events.some((e) => /Baseline \S+ is ready; creating the canary revision/.test(e)));
    assert.ok(events.some((e) => /the baseline is dropped: canary and baseline at 50% each/.test(e)));
    assert.deepEqual(cloud.serving("europe-west1"), { [revision]: 100 });
    assert.equal(api().canary, undefined);
  });

  it("with --baseline: a baseline that never becomes ready is rolled back before the canary is created", async () => {
    cloud.scenario = { newRevision: { "europe-west1": "fails" } };
    const d = deps();
    const report = await runRollout(options({ baseline: true }), d);
    assert.equal(report.final, "rolled back", report.reason);
    const baseline = parse(d.pulumi.ups[0]).config["ai-orchestra:services"].api.canary.baseline.revision;
    assert.match(
      report.reason ?? "",
      new RegExp(`^Staging the baseline: pulumi up failed: .*Revision '${baseline}' is not ready`),
    );
    assert.equal(d.pulumi.ups.length, 2, "the baseline's apply, then the rollback's");
    assert.equal(
      cloud.revision("europe-west1", report.revision ?? ""),
      undefined,
      "the canary was never created",
    );
    assert.deepEqual(cloud.serving("europe-west1"), { [api().stable.revision]: 100 });
    assert.equal(api().canary.phase, "rolled-back");
  });

  it("--baseline refuses, before any change, what it cannot run: a first step above 49%, a running canary without one", async () => {
    const before = file();
    const d = deps();
    const high = await runRollout(options({ baseline: true, steps: [50, 100] }), d);
    assert.equal(high.final, "refused");
    assert.match(
      high.reason ?? "",
      /cannot have a baseline: canary and baseline at 50% each would take 100% of the traffic/,
    );
    assert.equal(file(), before);
    editStack(dir, "staging", (c) => startCanary(c, "api", IMAGE, { attempt: "0zmkgc" }));
    const started = file();
    const running = await runRollout(options({ baseline: true, image: undefined }), d);
    assert.equal(running.final, "refused");
    assert.match(running.reason ?? "", /has no baseline, and one is only added when a canary starts/);
    assert.equal(d.pulumi.ups.length, 0);
    assert.equal(file(), started, "the refused rollout left the file as the start wrote it");
  });

  it("an error-rate regression is rolled back with the reason in numbers, and Cloud Run serves stable", async () => {
    scenario = { ...healthy, canary: { ...NORMAL, errorRatio: 0.04 } };
    const d = deps();
    const report = await runRollout(options(), d);
    assert.equal(report.final, "rolled back");
    assert.match(
      report.reason ?? "",
      /^Step 5%: \[europe-west1\] 5xx ratio: canary 4\.00% \(20\/500\) vs stable 1\.00% \(95\/9500\); more than x1\.25/,
    );
    assert.equal(api().canary.phase, "rolled-back");
    assert.match(d.pulumi.ups.at(-1) ?? "", /phase: rolled-back/);
    const served = cloud.serving("europe-west1");
    assert.equal(Object.keys(served).length, 1);
    assert.equal(served[api().stable.revision], 100);
    assert.match(
      report.rollback?.verification ?? "",
      /Stable revision \S+ serves 100%; the canary serves nothing/,
    );
  });

  it("a latency regression is rolled back", async () => {
    scenario = { ...healthy, canary: { ...NORMAL, shape: SLOW_SHAPE } };
    const report = await runRollout(options(), deps());
    assert.equal(report.final, "rolled back");
    assert.match(report.reason ?? "", /Latency: canary p50 \d+ ms.*slower beyond x1\.15/);
    assert.equal(report.records[0].analyses.length, 1);
  });

  it("too little traffic waits, never passes, and fails at the limit", async () => {
    // 5% of 300 requests: 15 canary requests a look, 45 by the third, below the 100 needed.
    scenario = { ...healthy, total: 300 };
    const report = await runRollout(options(), deps());
    assert.equal(report.final, "rolled back");
    assert.equal(report.records[0].analyses.length, 3);
    assert.deepEqual(
      report.records[0].analyses.map((a) => a.decision),
      ["wait", "wait", "rollback"],
    );
    assert.match(
      report.reason ?? "",
      /Too little traffic to verify the canary after 3 looks.*served 45 requests/,
    );
  });

  it("a failing smoke check rolls back before any bake", async () => {
    scenario = { ...healthy, smokeStatus: 503 };
    const report = await runRollout(options(), deps());
    assert.equal(report.final, "rolled back");
    assert.match(report.reason ?? "", /smoke check failed.*answered 503/);
    assert.equal(report.records[0].analyses.length, 0);
  });

  it("a held lock refuses a second rollout of the stack and leaves the file alone", async () => {
    const before = file();
    const release = acquireLock(dir, "staging", "worker");
    const d = deps();
    try {
      const report = await runRollout(options(), d);
      assert.equal(report.final, "refused");
      assert.match(report.reason ?? "", /Another rollout holds stack "staging"/);
    } finally {
      release();
    }
    assert.equal(d.pulumi.ups.length, 0);
    assert.equal(file(), before);
  });

  it("a lock of another machine is refused while fresh and taken over once stale", () => {
    const lockDir = path.join(dir, ".orchestra-rollout", "staging.lock");
    fs.mkdirSync(lockDir, { recursive: true });
    // Another machine's rollout: its pid cannot be checked here, only the lock's age.
    const owner = { pid: 999_999, host: "elsewhere", service: "worker", since: "2026-01-01T00:00:00Z" };
    fs.writeFileSync(path.join(lockDir, "owner.json"), JSON.stringify(owner));
    assert.throws(
      () => acquireLock(dir, "staging", "api"),
      (e: Error) =>
        e instanceof LockHeldError &&
        e.message.includes('Another rollout holds stack "staging" (pid 999999, service worker') &&
        e.message.includes(`remove ${lockDir} if that process is gone`),
    );
    const old = new Date(Date.now() - LOCK_STALE_MS - 5000);
    fs.utimesSync(lockDir, old, old);
    const release = acquireLock(dir, "staging", "api");
    assert.equal(JSON.parse(fs.readFileSync(path.join(lockDir, "owner.json"), "utf8")).pid, process.pid);
    release();
    assert.ok(!fs.existsSync(lockDir), "released");
  });

  it("a lock stays its holder's past its first refresh (half the stale time), as a rollout's must", async function () {
    this.timeout(LOCK_STALE_MS * 3);
    const warnings: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((text: string) => warnings.push(text) > 0) as typeof write;
    const release = acquireLock(dir, "staging", "api");
    try {
      await new Promise((resolve) => setTimeout(resolve, LOCK_STALE_MS / 2 + 2000));
    } finally {
      process.stderr.write = write;
    }
    assert.deepEqual(warnings, [], "the holder was told its lock was lost");
    release(); // throws "Lock is already released" when proper-lockfile gave the lock up
    assert.ok(!fs.existsSync(path.join(dir, ".orchestra-rollout", "staging.lock")), "released");
  });

  it("preflight problems refuse before anything is edited, applied or recorded", async () => {
    const before = file();
    const problems: PreflightProblem[] = [
      {
        check: "pulumi-cli",
        reason: "the Pulumi CLI is not installed (no `pulumi` on PATH)",
        fix: "install it",
      },
    ];
    const d = deps(undefined, { problems });
    const report = await runRollout(options(), d);
    assert.equal(report.final, "refused");
    assert.equal(
      report.reason,
      "Preflight failed, nothing was changed: pulumi-cli: the Pulumi CLI is not installed (no `pulumi` on PATH). Fix: install it.",
    );
    assert.deepEqual(report.preflight?.problems, [
      "pulumi-cli: the Pulumi CLI is not installed (no `pulumi` on PATH). Fix: install it.",
    ]);
    assert.equal(d.pulumi.ups.length, 0);
    assert.equal(cloud.reads, 0, "the live API is not read while Pulumi cannot run");
    assert.equal(file(), before);
    assert.equal(readState(dir, "staging", "api"), undefined);
  });

  it("a region Cloud Run's API cannot read refuses before anything is edited", async () => {
    cloud.scenario = { unreadable: { region: "europe-west1", times: 1 } };
    const before = file();
    const d = deps();
    const report = await runRollout(options(), d);
    assert.equal(report.final, "refused");
    assert.match(
      report.reason ?? "",
      /live-api: Cloud Run in europe-west1 cannot be read: the Cloud Run Admin API did not answer for europe-west1\. Fix: retry in a few minutes\./,
    );
    assert.equal(d.pulumi.ups.length, 0);
    assert.equal(file(), before);
  });

  it("a check that cannot run at all refuses too: nothing was changed yet", async () => {
    const before = file();
    const d = deps();
    const report = await runRollout(options(), {
      ...d,
      live: {
        read: async () => {
          throw new Error("invalid_grant: reauth related error (invalid_rapt)");
        },
      },
    });
    assert.equal(report.final, "refused");
    assert.equal(report.reason, "invalid_grant: reauth related error (invalid_rapt)");
    assert.equal(d.pulumi.ups.length, 0);
    assert.equal(file(), before);
    assert.equal(readState(dir, "staging", "api"), undefined);
  });

  it("pulumi up failing at step 2: the file keeps the last applied state, the rollback is applied, the report says why", async () => {
    const duringRollback: string[] = [];
    const d = deps((n) => {
      if (n === 3) throw new Error("stand-in: update failed: googleapi: Error 429: Quota exceeded");
      if (n === 4) duringRollback.push(file());
    });
    const report = await runRollout(options(), d);
    assert.equal(report.final, "rolled back");
    assert.match(
      report.reason ?? "",
      /^Step 25%: pulumi up failed: stand-in: update failed: googleapi: Error 429: Quota exceeded\. Live: europe-west1: serves \S+ 95%, \S+ 5%, expected \S+ 75%, \S+ 25%\.$/,
    );
    // While the rollback was applied, the project's file still held step 1, the last state applied.
    assert.match(duringRollback[0], /percent: 5\n\s+phase: serving/);
    assert.deepEqual(report.records[1].applies, [
      "failed: stand-in: update failed: googleapi: Error 429: Quota exceeded",
    ]);
    assert.equal(report.records[1].regions?.[0].canaryPercent, 5);
    assert.deepEqual(report.rollback?.applies, ["applied"]);
    assert.equal(api().canary.phase, "rolled-back");
    assert.deepEqual(cloud.serving("europe-west1"), { [api().stable.revision]: 100 });
    assert.equal(readState(dir, "staging", "api"), undefined);
  });

  it("a canary revision that fails in one region of two is rolled back, and Cloud Run accepts the rollback", async () => {
    fs.writeFileSync(
      path.join(dir, "Pulumi.staging.yaml"),
      file().replace(
        "  gcp:region: europe-west1\n",
        "  gcp:region: europe-west1\n  ai-orchestra:regions: [europe-west1, us-central1]\n",
      ),
    );
    seed("staging", { newRevision: { "us-central1": "fails" } });
    urls = { regions: { "europe-west1": smoke.url, "us-central1": smoke.url } };
    const d = deps();
    const report = await runRollout(options(), d);
    assert.equal(report.final, "rolled back", report.reason);
    const revision = report.revision ?? "";
    assert.match(
      report.reason ?? "",
      new RegExp(
        `^Staging the canary: pulumi up failed: Error waiting to update Service: Error waiting for Updating Service: ` +
          `Error code 9, message: Revision '${revision}' is not ready and cannot serve traffic\\. ` +
          `Live: us-central1: revision ${revision} failed and will never serve: The container failed to start`,
      ),
    );
    assert.deepEqual(
      report.staging?.regions?.map((r) => [r.region, r.outcome]),
      [
        ["europe-west1", "ok"],
        ["us-central1", "failed"],
      ],
    );
    assert.equal(report.records.length, 0, "no step gave it traffic");
    assert.equal(smokeRequests.length, 0);
    // The rollback reverted both regions to the exact stable revision; the failed one stays failed.
    const stable = api().stable.revision;
    for (const region of ["europe-west1", "us-central1"])
      assert.deepEqual(cloud.serving(region), { [stable]: 100 });
    assert.equal(cloud.revision("us-central1", revision)?.outcome, "fails");
    assert.deepEqual(report.rollback?.applies, ["applied"]);
    assert.equal(api().canary.phase, "rolled-back");
  });

  it("waits, with a bound, for a revision Cloud Run reports ready only after a while", async () => {
    cloud.scenario = { newRevision: { "europe-west1": "pending" }, pendingReads: 3 };
    const report = await runRollout(options({ steps: [50, 100] }), deps());
    assert.equal(report.final, "promoted", report.reason);
    assert.ok(
      events.some((e) =>
        /^ {2}waiting for revision \S+: europe-west1: revision \S+ is not ready yet \(PENDING\)/.test(e),
      ),
      events.join("\n"),
    );
  });

  it("a canary that never becomes ready is rolled back once the wait is over", async () => {
    cloud.scenario = { newRevision: { "europe-west1": "pending" }, pendingReads: 1000 };
    const report = await runRollout(options({ readyTimeoutMs: 60_000, pollMs: 10_000 }), deps());
    assert.equal(report.final, "rolled back");
    assert.match(
      report.reason ?? "",
      /did not become ready: Cloud Run did not report it within 1m: europe-west1: revision \S+ is not ready yet \(PENDING\)/,
    );
    assert.equal(api().canary.phase, "rolled-back");
  });

  it("a region serving another percent than the step's fails verification, naming both values", async () => {
    cloud.scenario = { wrongPercent: { region: "europe-west1", percent: 0 } };
    const report = await runRollout(options(), deps());
    assert.equal(report.final, "rolled back");
    assert.match(
      report.reason ?? "",
      /^Step 5%: verification failed\. Cloud Run did not report it within 5m: europe-west1: serves \S+ 95%, \S+ 0%, expected \S+ 95%, \S+ 5%\.$/,
    );
  });

  it("transient metric read errors are retried with backoff and do not count as failed looks", async () => {
    scenario = { ...healthy, metricsErrors: [503, 503] };
    const report = await runRollout(options({ steps: [50, 100] }), deps());
    assert.equal(report.final, "promoted", report.reason);
    assert.deepEqual(report.records[0].failedReads, []);
    // Two refused, then one read per look.
    const looks = report.records.reduce((n, r) => n + r.analyses.length, 0);
    assert.equal(metricsRequests, 2 + looks);
  });

  it("metric reads that keep failing count as failed looks and roll back after --max-failed-reads", async () => {
    scenario = { ...healthy, metricsErrors: Array<number>(100).fill(503) };
    const report = await runRollout(options({ maxFailedReads: 3 }), deps());
    assert.equal(report.final, "rolled back");
    assert.equal(report.records[0].failedReads.length, 3);
    assert.match(
      report.records[0].failedReads[0].reason,
      /^UNAVAILABLE: The service is currently unavailable\. \(4 attempts\)$/,
    );
    assert.match(
      report.reason ?? "",
      /^Step 5%: 3 metric reads in a row failed, so the canary cannot be judged/,
    );
    assert.equal(metricsRequests, 12);
    assert.equal(api().canary.phase, "rolled-back");
  });

  it("a permission error is not retried: each look fails at once", async () => {
    scenario = { ...healthy, metricsErrors: Array<number>(100).fill(403) };
    const report = await runRollout(options({ maxFailedReads: 2 }), deps());
    assert.equal(report.final, "rolled back");
    assert.equal(metricsRequests, 2);
    assert.match(
      report.records[0].failedReads[0].reason,
      /^PERMISSION_DENIED: Permission monitoring\.timeSeries\.list denied \(1 attempt\)$/,
    );
  });

  it("a logging, streaming service's model calls are read, judged and recorded: 30% more tokens per call rolls back", async () => {
    // The staging api, declared to log its model calls and stream.
    const stackFile = path.join(dir, "Pulumi.staging.yaml");
    const doc = parseDocument(fs.readFileSync(stackFile, "utf8"));
    doc.setIn(["config", "ai-orchestra:services", "api", "llm"], doc.createNode({ streams: true }));
    fs.writeFileSync(stackFile, doc.toString());
    const d = deps();
    const queries: IntervalQuery[] = [];
    const source = d.intervals;
    let seedOf = 1;
    const calls = (side: Side, tokens: number): Side => ({
      ...side,
      llm: {
        calls: side.latencies.count,
        providerErrors: Math.round(side.latencies.count * 0.01),
        outputTokens: lognormal(side.latencies.count, tokens, 0.6, TOKEN_BUCKETS, seedOf++),
        timeToFirstToken: lognormal(side.latencies.count, 0.4, 0.4, TTFT_BUCKETS, seedOf++),
      },
    });
    const intervals = {
      read: async (q: IntervalQuery) => {
        queries.push(q);
        const read = await source.read(q);
        const regions = intervalRegions(read.interval);
        return {
          ...read,
          interval: {
            regions: Object.fromEntries(
              Object.entries(regions).map(([region, sides]) => [
                region,
                {
                  canary: calls(sides.canary, 390),
                  stable: calls(sides.stable, 300),
                  ...(sides.baseline ? { baseline: calls(sides.baseline, 300) } : {}),
                },
              ]),
            ),
          },
        };
      },
    };
    const report = await runRollout(options(), { ...d, intervals });
    assert.equal(report.final, "rolled back", report.reason);
    assert.match(report.reason ?? "", /Output tokens per model call: canary p50 \d+ tokens/);
    assert.ok(queries.length > 0 && queries.every((q) => q.llm?.streams === true));
    // The report records each look's model calls, and replays to the same decision.
    const recorded = JSON.parse(JSON.stringify(report)) as typeof report;
    const judged = recorded.records.filter((r) => r.analyses.length > 0);
    const first = intervalRegions(judged[0].analyses[0].interval)["europe-west1"];
    assert.ok(first.canary.llm?.outputTokens && first.canary.llm.timeToFirstToken);
    const replayed = judgeScenario(
      {
        name: "replay",
        steps: judged.map((r) => ({ percent: r.percent, intervals: r.analyses.map((a) => a.interval) })),
      },
      rolloutSettings(loadValidStack(dir, "staging").config, "api", options()),
    );
    assert.equal(replayed.decision, "rollback");
    assert.deepEqual(
      [replayed.step, replayed.interval],
      [judged.at(-1)!.percent, judged.at(-1)!.analyses.length],
    );
    assert.match(reportMarkdown(report), /\| europe-west1 \| tokens \| fail \| Output tokens per model call/);
  });

  it("a failed look between good ones only delays the step", async () => {
    scenario = { ...healthy, total: 100 };
    // The first look: too little traffic; the second: four failed reads in a row (one look); then data.
    const d = deps();
    let reads = 0;
    const windows: string[] = [];
    const source = d.intervals;
    const intervals = {
      read: async (q: Parameters<typeof source.read>[0]) => {
        reads++;
        windows.push(`${q.start.toISOString()}..${q.end.toISOString()}`);
        if (reads >= 2 && reads <= 5)
          throw Object.assign(new Error("14 UNAVAILABLE: try again"), { code: 14 });
        if (reads > 5) scenario = healthy;
        return source.read(q);
      },
    };
    const report = await runRollout(options({ steps: [50, 100] }), { ...d, intervals });
    assert.equal(report.final, "promoted", report.reason);
    assert.equal(report.records[0].failedReads.length, 1);
    assert.equal(report.records[0].analyses.length, 3);
    assert.match(report.records[0].analyses[0].reason, /no regression, not yet ruled out: .*traffic/);
    // The failed look's window is read again, longer, by the next: no data is skipped.
    const [first, second] = report.records[0].analyses.map((a) => a.window);
    assert.equal(second.start, first.end);
    assert.equal(windows[1].split("..")[0], windows[5].split("..")[0]);
  });

  it("an unexpected failure once Cloud Run may have changed rolls back rather than leave the canary serving", async () => {
    const d = deps();
    const report = await runRollout(options(), {
      ...d,
      smoke: async () => {
        throw new Error("socket closed unexpectedly");
      },
    });
    assert.equal(report.final, "rolled back");
    assert.equal(report.reason, "Unexpected failure: socket closed unexpectedly");
    assert.equal(api().canary.phase, "rolled-back");
  });

  it("a rollback whose apply fails is applied again after reading what serves", async () => {
    scenario = { ...healthy, canary: { ...NORMAL, errorRatio: 0.04 } };
    const d = deps((n) => {
      if (n === 3) throw new Error("error: googleapi: Error 503: The service is currently unavailable.");
    });
    const report = await runRollout(options(), d);
    assert.equal(report.final, "rolled back", report.reason);
    assert.deepEqual(report.rollback?.applies, [
      "failed: error: googleapi: Error 503: The service is currently unavailable.",
      "applied",
    ]);
    assert.ok(
      events.includes(
        "  The rollback names only the exact stable revision at 100% and no canary, which Cloud Run accepts " +
          "whether or not the canary ever became ready: applying it again.",
      ),
    );
    assert.equal(api().canary.phase, "rolled-back");
  });

  it("a rollback that cannot be applied ends failed with the command to run; the file is not changed; --resume applies it", async () => {
    scenario = { ...healthy, canary: { ...NORMAL, errorRatio: 0.04 } };
    const d = deps((n) => {
      if (n >= 3) throw new Error("the Pulumi CLI is not installed (no `pulumi` on PATH)");
    });
    const report = await runRollout(options(), d);
    assert.equal(report.final, "failed");
    assert.equal(report.next, "orchestra rollout api --stack staging --resume");
    assert.match(
      report.reason ?? "",
      /^Rollback not applied \(Step 5%: .*\): pulumi up failed: the Pulumi CLI is not installed .* The stack file was not changed; the rollback is recorded for --resume\. Run `orchestra rollout api --stack staging --resume` \(or `orchestra canary rollback api --stack staging`, then `pulumi up --refresh -s staging`\)\.$/,
    );
    // The file still holds the last state applied: the staged canary. Cloud Run still serves 5%.
    assert.equal(api().canary.phase, "staged");
    assert.equal(Object.values(cloud.serving("europe-west1")).sort().join(), "5,95");
    assert.match(readState(dir, "staging", "api")?.rollback?.reason ?? "", /^Step 5%: /);

    // A new rollout is refused while a rollback is pending.
    const refused = await runRollout(options(), deps());
    assert.equal(refused.final, "refused");
    assert.match(refused.reason ?? "", /A rollback of api on staging is recorded and not confirmed applied/);

    const resumed = await runRollout(options({ resume: true, image: undefined }), deps());
    assert.equal(resumed.final, "rolled back", resumed.reason);
    assert.equal(api().canary.phase, "rolled-back");
    assert.deepEqual(cloud.serving("europe-west1"), { [api().stable.revision]: 100 });
    assert.equal(readState(dir, "staging", "api"), undefined);
  });

  it("a failing promotion keeps the last verified step, ends failed (state to check), and --resume promotes", async () => {
    const failing = deps((n) => {
      if (n === 6) throw new Error("stand-in: quota exceeded");
    });
    const report = await runRollout(options(), failing);
    assert.equal(report.final, "failed");
    assert.match(report.reason ?? "", /quota exceeded.*last verified step \(100%\).*--resume/s);
    assert.equal(report.next, "orchestra rollout api --stack staging --resume");
    assert.equal(api().canary.percent, 100);
    assert.equal(readState(dir, "staging", "api")?.lastVerified, 3);
    const resumed = await runRollout(options({ resume: true, image: undefined }), deps());
    assert.equal(resumed.final, "promoted", resumed.reason);
    assert.equal(api().stable.image, IMAGE);
  });

  it("Ctrl-C mid-step returns to the last verified step; --resume continues to promotion", async () => {
    const controller = new AbortController();
    // Interrupt while step 2 (25%) bakes: after its `up`.
    const first = await runRollout(
      options({ signal: controller.signal }),
      deps((n) => void (n === 3 && controller.abort())),
    );
    assert.equal(first.final, "interrupted");
    assert.equal(api().canary.percent, 5);
    assert.equal(Object.values(cloud.serving("europe-west1")).sort().join(), "5,95");
    assert.equal(readState(dir, "staging", "api")?.lastVerified, 0);
    // The false-rollback budget the first step's looks spent is recorded, and resuming keeps it.
    const spent = readState(dir, "staging", "api")?.judgment?.spent ?? 0;
    assert.ok(spent > 0 && spent < 0.01, String(spent));

    const budgets: number[] = [];
    const second = await runRollout(
      options({ resume: true, image: undefined }),
      deps(() => void budgets.push(readState(dir, "staging", "api")?.judgment?.spent ?? -1)),
    );
    assert.equal(second.final, "promoted", second.reason);
    assert.equal(budgets[0], spent, "not reset by --resume");
    assert.ok(budgets[1] > spent && budgets[budgets.length - 1] <= 0.01, budgets.join());
    assert.deepEqual(
      second.records.map((r) => r.percent),
      [25, 50, 100],
    );
    assert.equal(api().stable.image, IMAGE);
  });

  it("the project's stack file takes a state only once it was applied (and a step once verified)", async () => {
    const original = file();
    const duringUp: string[] = [];
    const d = deps(() => void duringUp.push(file()));
    const report = await runRollout(options(), d);
    assert.equal(report.final, "promoted", report.reason);
    // While the canary is staged, the file is as it was; while step N is applied, it holds step N-1.
    assert.equal(duringUp[0], original);
    assert.match(d.pulumi.ups[0], /phase: staged/);
    assert.match(duringUp[1], /phase: staged/);
    assert.match(duringUp[2], /percent: 5\n/);
    assert.match(duringUp[3], /percent: 25\n/);
    assert.match(duringUp[5], /percent: 100\n/);
    assert.ok(
      d.pulumi.workDirs.every((w) => w !== dir && !fs.existsSync(w)),
      "work folders removed",
    );
  });

  it("every region's canary tag URL is smoke-tested", async () => {
    const other = await serve((req, res) => {
      smokeRequests.push({ host: req.headers.host ?? "", path: req.url ?? "" });
      res.end("ok");
    });
    try {
      fs.writeFileSync(
        path.join(dir, "Pulumi.staging.yaml"),
        file().replace(
          "  gcp:region: europe-west1\n",
          "  gcp:region: europe-west1\n  ai-orchestra:regions: [europe-west1, us-central1]\n",
        ),
      );
      seed();
      urls = { regions: { "europe-west1": smoke.url, "us-central1": other.url } };
      const report = await runRollout(options({ steps: [100] }), deps());
      assert.equal(report.final, "promoted", report.reason);
      const hosts = new Set(smokeRequests.map((r) => r.host));
      assert.deepEqual([...hosts].sort(), [new URL(smoke.url).host, new URL(other.url).host].sort());
      assert.ok(smokeRequests.every((r) => r.path === "/healthz"));
      assert.match(report.records[0].verification ?? "", /takes 100% in europe-west1, us-central1/);
    } finally {
      await other.close();
    }
  });

  it("stacks whose outputs list no regions are smoke-tested on the top-level canary URL", async () => {
    urls = { regions: { "europe-west1": smoke.url }, topLevelOnly: true };
    const report = await runRollout(options(), deps());
    assert.equal(report.final, "promoted", report.reason);
    assert.deepEqual(report.records[0].smoke, [{ url: `${smoke.url}/healthz`, via: "(service)" }]);
  });

  it("behind a load balancer, smoke requests go to the balancer with the canary header", async () => {
    urls = {
      regions: { "europe-west1": "http://127.0.0.1:9" },
      loadBalancer: { url: smoke.url, canaryHeader: { name: "x-canary", value: "api-canary" } },
    };
    const report = await runRollout(options({ steps: [50, 100] }), deps());
    assert.equal(report.final, "promoted", report.reason);
    assert.ok(smokeRequests.length >= 2);
    for (const r of smokeRequests) {
      assert.equal(r.host, new URL(smoke.url).host);
      assert.equal(r.path, "/healthz");
      assert.equal(r.canary, "api-canary");
    }
    assert.deepEqual(report.records[0].smoke, [{ url: `${smoke.url}/healthz`, via: "load balancer" }]);
  });

  describe("guardrails and running canaries (prod: two regions, policy.maxCanaryPercent 80)", () => {
    beforeEach(() => {
      seed("prod");
      urls = { regions: { "europe-west1": smoke.url, "europe-west4": smoke.url } };
    });
    const prod = (extra: Partial<RolloutOptions> = {}) =>
      options({ stack: "prod", image: undefined, ...extra });
    const percents = (ups: string[]) =>
      ups.map((t) => parse(t).config["ai-orchestra:services"].api.canary?.percent as number | undefined);

    it("continuing the canary at 10% skips the lower step, leaves out 100%, and promotes from 50%", async () => {
      const d = deps();
      const report = await runRollout(prod(), d);
      assert.equal(report.final, "promoted", report.reason);
      assert.deepEqual(report.steps, [25, 50]);
      assert.deepEqual(report.requestedSteps, [5, 25, 50, 100]);
      assert.deepEqual(report.notes, [
        "Step 100% left out: this stack allows a canary at most 80% (policy.maxCanaryPercent), so the canary is promoted after the last step within it.",
        "Step 5% skipped: the canary already serves 10%, and the rollout never lowers it.",
      ]);
      assert.ok(events.includes(report.notes[1]));
      assert.deepEqual(percents(d.pulumi.ups), [25, 50, undefined]);
      assert.equal(report.staging, undefined, "a serving canary is not staged again");
      assert.match(reportMarkdown(report), /- Steps: 25% → 50% \(asked: 5% → 25% → 50% → 100%\)/);
      assert.match(reportMarkdown(report), /- Note: Step 5% skipped/);
    });

    it("a new image never gets a step above 80%", async () => {
      editStack(dir, "prod", (c) => promoteCanary(c, "api"));
      seed("prod");
      const d = deps();
      const report = await runRollout(prod({ image: PROD_IMAGE, steps: [5, 50, 80, 100] }), d);
      assert.equal(report.final, "promoted", report.reason);
      assert.deepEqual(report.steps, [5, 50, 80]);
      const asked = percents(d.pulumi.ups).filter((p): p is number => p !== undefined);
      assert.ok(Math.max(...asked) <= 80, asked.join());
      for (const region of ["europe-west1", "europe-west4"])
        assert.deepEqual(cloud.serving(region), { [api("prod").stable.revision]: 100 });
      assert.equal(api("prod").stable.image, PROD_IMAGE);
    });

    it("steps that are all above the maximum are refused before anything changes", async () => {
      editStack(dir, "prod", (c) => promoteCanary(c, "api"));
      seed("prod");
      const before = file("prod");
      const d = deps();
      const report = await runRollout(prod({ image: PROD_IMAGE, steps: [90, 100] }), d);
      assert.equal(report.final, "refused");
      assert.match(
        report.reason ?? "",
        /Every step of 90%, 100% is above this stack's maxCanaryPercent of 80%/,
      );
      assert.equal(d.pulumi.ups.length, 0);
      assert.equal(d.pulumi.preflights, 0);
      assert.equal(file("prod"), before);
    });

    it("another image while a canary runs is refused before preflight", async () => {
      const d = deps();
      const report = await runRollout(prod({ image: PROD_IMAGE }), d);
      assert.equal(report.final, "refused");
      assert.match(report.reason ?? "", /already has a canary .*promote or roll it back/);
      assert.equal(d.pulumi.preflights, 0);
    });

    it("Ctrl-C while continuing returns to the canary's own 10%, never rolls it back", async () => {
      const controller = new AbortController();
      const report = await runRollout(
        prod({ signal: controller.signal }),
        deps((n) => void (n === 1 && controller.abort())),
      );
      assert.equal(report.final, "interrupted");
      assert.equal(api("prod").canary.percent, 10);
      assert.equal(api("prod").canary.phase, "serving");
      assert.equal(Object.values(cloud.serving("europe-west4")).sort().join(), "10,90");
    });
  });
});
