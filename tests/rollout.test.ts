import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { RevisionMetrics } from "../cli/rollout/analysis";
import { runRollout, type RolloutOptions } from "../cli/rollout/machine";
import { smokeCheck } from "../cli/rollout/ports";
import { reportMarkdown } from "../cli/rollout/report";
import { acquireLock, LOCK_STALE_MS, LockHeldError, readState } from "../cli/rollout/state";
import { FakeClock, FakePulumi, HttpMetricsSource, serve, tempProjectDir } from "./support/rolloutHarness";
import { CANARY_REVISION, standInOutputs, type StandInCloud } from "./support/rolloutOutputs";

const IMAGE =
  "europe-west1-docker.pkg.dev/ai-orchestra-staging/orchestra/api@sha256:1111111111111111111111111111111111111111111111111111111111111111";
const bounds = [50, 100, 200, 400, null];

/** A revision's window: `requests` spread over latency buckets by `shape`. */
function window(requests: number, errors: number, shape: number[]): RevisionMetrics {
  const sum = shape.reduce((a, b) => a + b, 0);
  const counts = shape.map((s) => Math.round((s / sum) * requests));
  return { requests, errors, latency: { bounds: bounds as number[], counts } };
}
const NORMAL = [30, 50, 15, 5, 0];
const SLOW = [5, 25, 40, 25, 5];

type Scenario = { canary: RevisionMetrics; stable: RevisionMetrics; smokeStatus?: number };
const healthy: Scenario = { canary: window(2000, 20, NORMAL), stable: window(8000, 80, NORMAL) };

describe("orchestra rollout (end to end: stand-in Pulumi, HTTP smoke and metrics servers)", function () {
  let dir: string;
  let scenario: Scenario;
  let smoke: Awaited<ReturnType<typeof serve>>;
  let metrics: Awaited<ReturnType<typeof serve>>;
  let cloud: StandInCloud;
  const events: string[] = [];
  /** Every smoke request: the server that got it, its path and its canary header. */
  const smokeRequests: { host: string; path: string; canary?: string }[] = [];

  before(async () => {
    smoke = await serve((req, res) => {
      const canary = req.headers["x-canary"];
      smokeRequests.push({ host: req.headers.host ?? "", path: req.url ?? "", canary: canary as string });
      res.statusCode = scenario.smokeStatus ?? 200;
      res.end("ok");
    });
    metrics = await serve((req, res) => {
      const revision = new URL(req.url ?? "/", "http://x").searchParams.get("revision");
      const m = revision === CANARY_REVISION ? scenario.canary : scenario.stable;
      // JSON has no Infinity: the overflow bound travels as null.
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(m));
    });
  });
  after(async () => {
    await smoke.close();
    await metrics.close();
  });
  beforeEach(() => {
    dir = tempProjectDir();
    scenario = healthy;
    cloud = { regions: { "europe-west1": smoke.url } };
    events.length = 0;
    smokeRequests.length = 0;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const options = (extra: Partial<RolloutOptions> = {}): RolloutOptions => ({
    dir,
    stack: "staging",
    service: "api",
    image: IMAGE,
    steps: [5, 25, 50, 100],
    intervalMs: 10 * 60_000,
    maxIntervals: 3,
    metricsLagMs: 120_000,
    resume: false,
    ...extra,
  });
  const deps = (onUp?: (n: number) => void) => {
    const pulumi = new FakePulumi((text) => standInOutputs(text, "api", cloud), onUp);
    return {
      pulumi,
      metrics: new HttpMetricsSource(metrics.url),
      clock: new FakeClock(),
      smoke: (url: string, headers?: Readonly<Record<string, string>>) => smokeCheck(url, headers, 2, 2000),
      progress: (e: { kind: string; message?: string }) => {
        if (e.kind === "log") events.push(e.message ?? "");
      },
    };
  };
  const api = () =>
    parse(fs.readFileSync(`${dir}/Pulumi.staging.yaml`, "utf8")).config["ai-orchestra:services"].api;

  it("a healthy canary goes through every step and is promoted", async () => {
    const d = deps();
    const report = await runRollout(options(), d);
    assert.equal(report.final, "promoted", report.reason);
    assert.deepEqual(
      report.records.map((r) => r.percent),
      [5, 25, 50, 100],
    );
    assert.equal(d.pulumi.ups.length, 5);
    assert.match(d.pulumi.ups[1], /percent: 25/);
    assert.equal(api().stable.image, IMAGE);
    assert.equal(api().canary, undefined);
    assert.match(fs.readFileSync(`${dir}/Pulumi.staging.yaml`, "utf8"), /^# Staging/);
    assert.match(reportMarkdown(report), /\| errorRatio \| pass \| 5xx ratio: canary 1\.00%/);
    assert.equal(readState(dir, "staging", "api"), undefined);
  });

  it("an error-rate regression is rolled back with the reason in numbers", async () => {
    scenario = { ...healthy, canary: window(2000, 80, NORMAL) };
    const d = deps();
    const report = await runRollout(options(), d);
    assert.equal(report.final, "rolled back");
    assert.match(report.reason ?? "", /5xx ratio: canary 4\.00% \(80\/2000\) vs stable 1\.00%/);
    assert.equal(api().canary.percent, 0);
    assert.equal(api().canary.rolledBack, true);
    assert.match(d.pulumi.ups.at(-1) ?? "", /rolledBack: true/);
  });

  it("a latency regression is rolled back", async () => {
    scenario = { ...healthy, canary: window(2000, 20, SLOW) };
    const report = await runRollout(options(), deps());
    assert.equal(report.final, "rolled back");
    assert.match(report.reason ?? "", /significantly slower/);
  });

  it("too little traffic waits, never passes, and fails at the limit", async () => {
    scenario = { ...healthy, canary: window(10, 0, NORMAL) };
    const report = await runRollout(options(), deps());
    assert.equal(report.final, "rolled back");
    assert.equal(report.records[0].analyses.length, 3);
    assert.ok(report.records[0].analyses.every((a) => a.result.outcome === "inconclusive"));
    assert.match(report.reason ?? "", /too little traffic after 3 analysis intervals/);
  });

  it("a failing smoke check rolls back before any bake", async () => {
    scenario = { ...healthy, smokeStatus: 503 };
    const report = await runRollout(options(), deps());
    assert.equal(report.final, "rolled back");
    assert.match(report.reason ?? "", /smoke check failed.*answered 503/);
    assert.equal(report.records[0].analyses.length, 0);
  });

  it("a held lock refuses a second rollout of the stack and leaves the file alone", async () => {
    const before = fs.readFileSync(`${dir}/Pulumi.staging.yaml`, "utf8");
    const release = acquireLock(dir, "staging", "worker");
    try {
      await assert.rejects(runRollout(options(), deps()), LockHeldError);
    } finally {
      release();
    }
    assert.equal(fs.readFileSync(`${dir}/Pulumi.staging.yaml`, "utf8"), before);
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

  it("a failing pulumi up mid-rollout rolls back; the stack file stays valid", async () => {
    const d = deps((n) => {
      if (n === 3) throw new Error("stand-in: update failed");
    });
    const report = await runRollout(options(), d);
    assert.equal(report.final, "rolled back");
    assert.match(report.reason ?? "", /Step 50%: pulumi up failed: stand-in: update failed/);
    assert.equal(api().canary.rolledBack, true);
  });

  it("a failing promotion keeps the last verified step, reports why, and --resume promotes", async () => {
    const failing = deps((n) => {
      if (n === 5) throw new Error("stand-in: quota exceeded");
    });
    const report = await runRollout(options(), failing);
    assert.equal(report.final, "promotion failed");
    assert.match(report.reason ?? "", /quota exceeded.*last verified step \(100%\).*--resume/s);
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
      deps((n) => n === 2 && controller.abort()),
    );
    assert.equal(first.final, "interrupted");
    assert.equal(api().canary.percent, 5);
    assert.equal(readState(dir, "staging", "api")?.lastVerified, 0);

    const second = await runRollout(options({ resume: true, image: undefined }), deps());
    assert.equal(second.final, "promoted", second.reason);
    assert.deepEqual(
      second.records.map((r) => r.percent),
      [25, 50, 100],
    );
    assert.equal(api().stable.image, IMAGE);
  });

  it("the project's stack file takes a step only once it is verified", async () => {
    const original = fs.readFileSync(`${dir}/Pulumi.staging.yaml`, "utf8");
    const duringUp: string[] = [];
    const d = deps(() => duringUp.push(fs.readFileSync(`${dir}/Pulumi.staging.yaml`, "utf8")));
    const report = await runRollout(options(), d);
    assert.equal(report.final, "promoted", report.reason);
    // While step 1 (5%) is applied the file is as it was; while step N is, it holds step N-1.
    assert.equal(duringUp[0], original);
    assert.match(d.pulumi.ups[0], /percent: 5/);
    assert.match(duringUp[1], /percent: 5/);
    assert.match(duringUp[2], /percent: 25/);
    assert.match(duringUp[4], /percent: 100/);
    assert.ok(
      d.pulumi.workDirs.every((w) => w !== dir && !fs.existsSync(w)),
      "work folders removed",
    );
  });

  it("a region whose canary revision is not ready fails verification, naming the region and both values", async () => {
    cloud = { regions: { "europe-west1": smoke.url, "us-central1": smoke.url }, staleRegion: "us-central1" };
    const report = await runRollout(options(), deps());
    assert.equal(report.final, "rolled back");
    assert.match(
      report.reason ?? "",
      /Step 5%: verification failed\. Region us-central1: latestReadyRevision is api-stable-rev, expected the canary revision api-canary-rev\./,
    );
    assert.deepEqual(
      report.records[0].regions?.map((r) => [r.region, r.ok]),
      [
        ["europe-west1", true],
        ["us-central1", false],
      ],
    );
    assert.equal(smokeRequests.length, 0);
    assert.equal(api().canary.rolledBack, true);
  });

  it("a region routing another percent than the step's fails verification", async () => {
    cloud = { regions: { "europe-west1": smoke.url }, wrongPercent: { region: "europe-west1", percent: 0 } };
    const report = await runRollout(options(), deps());
    assert.equal(report.final, "rolled back");
    assert.match(
      report.reason ?? "",
      /Region europe-west1: the canary revision api-canary-rev takes 0% of live traffic, expected 5%\./,
    );
  });

  it("every region's canary tag URL is smoke-tested", async () => {
    const other = await serve((req, res) => {
      smokeRequests.push({ host: req.headers.host ?? "", path: req.url ?? "" });
      res.end("ok");
    });
    try {
      cloud = { regions: { "europe-west1": smoke.url, "us-central1": other.url } };
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

  it("stacks whose outputs list no regions are checked on the top-level fields", async () => {
    cloud = { regions: { "europe-west1": smoke.url }, topLevelOnly: true };
    const report = await runRollout(options(), deps());
    assert.equal(report.final, "promoted", report.reason);
    cloud = { regions: { "europe-west1": smoke.url }, topLevelOnly: true, staleRegion: "europe-west1" };
    fs.rmSync(dir, { recursive: true, force: true });
    dir = tempProjectDir();
    const stale = await runRollout(options(), deps());
    assert.match(stale.reason ?? "", /The service: latestReadyRevision is api-stable-rev, expected/);
  });

  it("behind a load balancer, smoke requests go to the balancer with the canary header", async () => {
    cloud = {
      regions: { "europe-west1": "http://127.0.0.1:9", "us-central1": "http://127.0.0.1:9" },
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
});
