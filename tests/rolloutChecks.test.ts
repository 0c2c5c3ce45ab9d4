import * as assert from "node:assert/strict";
import type { LiveRegionRead, LiveRevision, LiveServicePresent } from "../model/live";
import { canaryPercentViolation } from "../model/policy";
import { AdminApiLiveCloudRun } from "../cli/live/liveCloudRun";
import { metricsError } from "../cli/rollout/metricsRead";
import { livePreflight, pulumiPreflight, type PulumiFacts } from "../cli/rollout/preflight";
import { MISSING_CLI, pulumiErrorLine } from "../cli/rollout/pulumiErrors";
import { EXIT_CODES, exitCode } from "../cli/rollout/run";
import { planSteps } from "../cli/rollout/steps";
import { checkLive, type ExpectedState } from "../cli/rollout/verify";
import { FakeCloudRunAdmin } from "./support/fakeCloudRunAdmin";
import { commandError } from "./support/rolloutHarness";

const STABLE = "api-0a1b2c3d4e";
const CANARY = "api-5f6a7b8c9d-0irxc0";

const rev = (name: string, over: Partial<LiveRevision> = {}): LiveRevision => ({
  name,
  ready: true,
  failed: false,
  reconciling: false,
  ...over,
});
/** A region serving `served` (revision to percent) after an update that created `created`. */
function region(
  name: string,
  served: Record<string, number>,
  over: Partial<LiveServicePresent> = {},
): LiveRegionRead {
  return {
    region: name,
    ok: true,
    state: {
      region: name,
      service: "api",
      exists: true,
      reconciling: false,
      generation: 3,
      observedGeneration: 3,
      latestReadyRevision: CANARY,
      latestCreatedRevision: CANARY,
      terminalCondition: { state: "succeeded" },
      traffic: [],
      trafficStatuses: Object.entries(served).map(([revision, percent]) => ({
        allocation: "revision" as const,
        revision,
        percent,
      })),
      revisions: [rev(CANARY), rev(STABLE)],
      ...over,
    },
  };
}
const read = (...regions: LiveRegionRead[]) => ({ project: "p", service: "api", regions });
const serving = (percent: number): ExpectedState => ({
  kind: "serving",
  templateRevision: CANARY,
  canary: CANARY,
  traffic: [
    { revision: STABLE, percent: 100 - percent },
    { revision: CANARY, percent },
  ],
});
const rolledBack: ExpectedState = {
  kind: "rolled back",
  templateRevision: STABLE,
  canary: CANARY,
  traffic: [{ revision: STABLE, percent: 100 }],
};

describe("rollout live verification (checkLive)", () => {
  it("fails a region whose canary revision runs another image than the approved one", () => {
    const digest = (c: string) => `sha256:${c.repeat(64)}`;
    const repo = "europe-west1-docker.pkg.dev/p/r/api";
    const release = {
      image: `${repo}@${digest("a")}`,
      revision: CANARY,
      percent: 5,
      phase: "serving" as const,
    };
    const runs = (image: string) =>
      region("eu", { [STABLE]: 95, [CANARY]: 5 }, { revisions: [rev(CANARY, { image }), rev(STABLE)] });
    const expected = { ...serving(5), canaryRelease: release };
    assert.equal(checkLive(read(runs(`${repo}@${digest("a")}`)), expected).outcome, "ok");
    const other = checkLive(read(runs(`${repo}@${digest("b")}`)), expected);
    assert.equal(other.outcome, "failed");
    assert.match(
      other.summary,
      new RegExp(`eu: revision ${CANARY}: it runs ${digest("b")}, which is not the approved image`),
    );
    // A multi-platform index: Cloud Run may report either approved digest.
    const indexed = { ...release, approvedDigests: { index: digest("a"), linuxAmd64: digest("c") } };
    assert.equal(
      checkLive(read(runs(`${repo}@${digest("c")}`)), { ...serving(5), canaryRelease: indexed }).outcome,
      "ok",
    );
  });

  it("ok when every region has the revision ready, latest ready, settled, and serves the split", () => {
    const r = checkLive(
      read(region("eu", { [STABLE]: 75, [CANARY]: 25 }), region("us", { [STABLE]: 75, [CANARY]: 25 })),
      serving(25),
    );
    assert.equal(r.outcome, "ok");
    assert.equal(r.summary, `Revision ${CANARY} is ready and takes 25% in eu, us.`);
    assert.deepEqual(r.regions[0], {
      region: "eu",
      outcome: "ok",
      latestReadyRevision: CANARY,
      canaryPercent: 25,
      detail: `serves ${STABLE} 75%, ${CANARY} 25%`,
    });
  });

  it("a failed revision in one region fails the whole check at once, with Cloud Run's reason", () => {
    const failed = region(
      "us",
      { [STABLE]: 100 },
      {
        latestReadyRevision: STABLE,
        terminalCondition: {
          state: "failed",
          message: `Revision '${CANARY}' is not ready and cannot serve traffic.`,
        },
        revisions: [
          rev(CANARY, { ready: false, failed: true, message: "The container failed to start." }),
          rev(STABLE),
        ],
      },
    );
    const r = checkLive(read(region("eu", { [STABLE]: 100 }), failed), {
      kind: "staged",
      templateRevision: CANARY,
      canary: CANARY,
      traffic: [{ revision: STABLE, percent: 100 }],
    });
    assert.equal(r.outcome, "failed");
    assert.equal(
      r.summary,
      `us: revision ${CANARY} failed and will never serve: The container failed to start; serves ${STABLE} 100%.`,
    );
    assert.deepEqual(
      r.regions.map((x) => x.outcome),
      ["ok", "failed"],
    );
  });

  it("pending while not ready, reconciling, behind on latestReadyRevision, off on traffic, or unread", () => {
    const split = { [STABLE]: 95, [CANARY]: 5 };
    const cases: [LiveRegionRead, RegExp][] = [
      [
        region("eu", split, { revisions: [rev(CANARY, { ready: undefined, reason: "PENDING" })] }),
        /is not ready yet \(PENDING\)/,
      ],
      [region("eu", split, { reconciling: true }), /Cloud Run is still reconciling/],
      [
        region("eu", split, { latestReadyRevision: STABLE }),
        new RegExp(`latestReadyRevision is ${STABLE}, expected ${CANARY}`),
      ],
      [
        region("eu", { [STABLE]: 100 }),
        new RegExp(`serves ${STABLE} 100%, expected ${STABLE} 95%, ${CANARY} 5%`),
      ],
      [
        region("eu", split, { revisions: [rev(STABLE)] }),
        new RegExp(`revision ${CANARY} does not exist yet`),
      ],
      [
        {
          region: "eu",
          ok: false,
          failure: { kind: "unavailable", reason: "no answer.", fix: "retry.", attempts: 4 },
        },
        /^eu: not read: no answer \(retry\)\.$/,
      ],
    ];
    for (const [r, detail] of cases) {
      const c = checkLive(read(r), serving(5));
      assert.equal(c.outcome, "pending", c.summary);
      assert.match(c.summary, detail);
    }
  });

  it("a failed update that is not about the revision fails; a region without the service fails", () => {
    const r = region(
      "eu",
      { [STABLE]: 95, [CANARY]: 5 },
      { terminalCondition: { state: "failed", message: "Quota exceeded." } },
    );
    assert.match(checkLive(read(r), serving(5)).summary, /the service's last update failed: Quota exceeded;/);
    const absent: LiveRegionRead = {
      region: "us",
      ok: true,
      state: { region: "us", service: "api", exists: false },
    };
    assert.equal(checkLive(read(absent), serving(5)).outcome, "failed");
  });

  it("a rollback is judged on what serves: stable 100%, canary nothing, even with the canary failed", () => {
    const r = region(
      "eu",
      { [STABLE]: 100 },
      {
        latestReadyRevision: CANARY, // which revision Cloud Run calls latest after a revert is not judged
        latestCreatedRevision: STABLE,
        revisions: [rev(CANARY, { ready: false, failed: true }), rev(STABLE)],
      },
    );
    const c = checkLive(read(r), rolledBack);
    assert.equal(c.outcome, "ok", c.summary);
    assert.equal(c.summary, `Stable revision ${STABLE} serves 100%; the canary serves nothing in eu.`);
    assert.equal(
      checkLive(read(region("eu", { [STABLE]: 90, [CANARY]: 10 })), rolledBack).outcome,
      "pending",
    );
  });

  it("a LATEST traffic entry counts for the latest ready revision", () => {
    const r = region(
      "eu",
      {},
      { trafficStatuses: [{ allocation: "latest", percent: 100 }], latestReadyRevision: CANARY },
    );
    const c = checkLive(read(r), {
      kind: "promoted",
      templateRevision: CANARY,
      traffic: [{ revision: CANARY, percent: 100 }],
    });
    assert.equal(c.outcome, "ok", c.summary);
  });
});

describe("rollout steps under the guardrail (planSteps)", () => {
  const o = { service: "api", stack: "prod", maxCanaryPercent: 80 };

  it("leaves out steps above the maximum and promotes from the last one within it", () => {
    const p = planSteps([5, 25, 50, 100], o);
    assert.ok(p.ok);
    assert.deepEqual(p.steps, [5, 25, 50]);
    assert.deepEqual(p.aboveMax, [100]);
    assert.deepEqual(p.notes, [
      "Step 100% left out: this stack allows a canary at most 80% (policy.maxCanaryPercent), so the canary is promoted after the last step within it.",
    ]);
    const atMax = planSteps([5, 80, 100], o);
    assert.ok(atMax.ok);
    assert.deepEqual(atMax.steps, [5, 80]);
  });

  it("never lowers a running canary: lower steps are skipped and said so; the same percent is verified again", () => {
    const p = planSteps([5, 25, 50, 100], { ...o, current: 25 });
    assert.ok(p.ok);
    assert.deepEqual(p.steps, [25, 50]);
    assert.deepEqual(p.belowCurrent, [5]);
    assert.equal(
      p.notes[1],
      "Step 5% skipped: the canary already serves 25%, and the rollout never lowers it.",
    );
    const none = planSteps([5, 25, 100], { ...o, current: 60 });
    assert.ok(none.ok);
    assert.deepEqual(none.steps, [60]);
  });

  it("refuses a canary already above the maximum, and steps that are all above it", () => {
    const above = planSteps([5, 100], { ...o, current: 90 });
    assert.ok(!above.ok);
    assert.match(above.reason, /already serves 90%, above this stack's maxCanaryPercent of 80%/);
    const all = planSteps([90, 100], o);
    assert.ok(!all.ok);
    assert.match(all.reason, /e\.g\. --steps 5,25,80,100\.$/);
  });

  it("uses the policy pack's own rule", () => {
    assert.equal(
      canaryPercentViolation({ service: "api", stack: "prod", percent: 80, maxCanaryPercent: 80 }),
      undefined,
    );
    assert.deepEqual(
      canaryPercentViolation({ service: "api", stack: "prod", percent: 81, maxCanaryPercent: 80 }),
      {
        message: "api's canary takes 81% of traffic; this stack allows at most 80%.",
        fix: "`orchestra canary promote api --stack prod`, or `orchestra canary set api 80 --stack prod`.",
      },
    );
  });
});

describe("rollout preflight judgements", () => {
  const ok = { missing: false, code: 0, stdout: "", stderr: "" };
  const facts = (over: Partial<PulumiFacts> = {}): PulumiFacts => ({
    stack: "prod",
    version: { ...ok, stdout: "v3.248.0\n" },
    whoami: { ...ok, stdout: JSON.stringify({ user: "ci", url: "https://api.pulumi.com" }) },
    select: ok,
    secretsLines: {},
    env: {},
    ...over,
  });

  it("a passphrase stack needs the passphrase even on Pulumi Cloud; a broken CLI stops at the first check", () => {
    assert.deepEqual(pulumiPreflight(facts()).problems, []);
    const salted = pulumiPreflight(facts({ secretsLines: { encryptionsalt: "v1:abc" } }));
    assert.equal(salted.problems[0]?.check, "secrets-provider");
    const broken = pulumiPreflight(
      facts({ version: { missing: false, code: 1, stdout: "", stderr: "segfault\n" } }),
    );
    assert.deepEqual(broken.problems, [
      {
        check: "pulumi-cli",
        reason: "`pulumi version` failed: segfault",
        fix: "reinstall the Pulumi CLI: https://www.pulumi.com/docs/install/",
      },
    ]);
  });

  it("the live check names the region that cannot be read, and one without the service", () => {
    const r = livePreflight(
      read(
        {
          region: "eu",
          ok: false,
          failure: {
            kind: "permission-denied",
            reason: "permission run.services.get denied",
            fix: "grant roles/run.viewer",
            attempts: 1,
          },
        },
        { region: "us", ok: true, state: { region: "us", service: "api", exists: false } },
      ),
      "prod",
    );
    assert.deepEqual(r.problems, [
      {
        check: "live-api",
        reason: "Cloud Run in eu cannot be read: permission run.services.get denied",
        fix: "grant roles/run.viewer",
      },
      {
        check: "live-api",
        reason: "service api does not exist in us (project p)",
        fix: "deploy it first with `pulumi up -s prod`; regions are added between releases, not during one",
      },
    ]);
  });
});

describe("rollout errors in one line", () => {
  it("Pulumi: the innermost cause under a generic error, the CLI's last words, a missing CLI", () => {
    const nested = commandError(
      "Diagnostics:\n  gcp:cloudrunv2:Service (api):\n    error: 1 error occurred:\n    \t* updating urn: 1 error occurred:\n    \t* Error 409: Revision api-x already exists with a different configuration\n",
      "error: update failed\n",
    );
    assert.equal(
      pulumiErrorLine(nested),
      "Error 409: Revision api-x already exists with a different configuration",
    );
    assert.equal(
      pulumiErrorLine(
        commandError(
          "",
          "error: getting secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE\n",
        ),
      ),
      "getting secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE",
    );
    assert.equal(pulumiErrorLine(commandError("", "killed\n", 137)), "killed");
    assert.equal(pulumiErrorLine(commandError("", "", 2)), "pulumi exited with code 2");
    assert.equal(
      pulumiErrorLine(
        commandError("", "Command failed with ENOENT: pulumi version\nspawn pulumi ENOENT", -2),
      ),
      MISSING_CLI,
    );
    assert.equal(pulumiErrorLine(new Error("plain\n  message")), "plain message");
  });

  it("metrics: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL and network errors are transient; the rest are not", () => {
    const grpc = (code: number, text: string) => Object.assign(new Error(text), { code });
    assert.deepEqual(metricsError(grpc(14, "14 UNAVAILABLE: try later")), {
      transient: true,
      reason: "UNAVAILABLE: try later",
      status: "UNAVAILABLE",
    });
    assert.equal(metricsError(grpc(4, "4 DEADLINE_EXCEEDED: slow")).transient, true);
    assert.equal(metricsError(grpc(8, "8 RESOURCE_EXHAUSTED: quota")).transient, true);
    assert.equal(metricsError(grpc(13, "13 INTERNAL: oops")).transient, true);
    assert.equal(
      metricsError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })).transient,
      true,
    );
    assert.deepEqual(metricsError(grpc(7, "7 PERMISSION_DENIED: no")), {
      transient: false,
      reason: "PERMISSION_DENIED: no",
      status: "PERMISSION_DENIED",
    });
    assert.equal(metricsError(grpc(3, "3 INVALID_ARGUMENT: bad filter")).transient, false);
  });

  it("exit codes: a signal replaces 1, never 2 or 3", () => {
    assert.deepEqual(EXIT_CODES, { promoted: 0, "rolled back": 1, interrupted: 1, refused: 2, failed: 3 });
    assert.equal(exitCode("rolled back", "SIGINT"), 130);
    assert.equal(exitCode("interrupted", "SIGTERM"), 143);
    assert.equal(exitCode("failed", "SIGINT"), 3);
    assert.equal(exitCode("promoted"), 0);
  });
});

describe("rollout live reads through the real Admin API client (fake Cloud Run)", () => {
  let fake: FakeCloudRunAdmin;
  before(async () => {
    fake = await FakeCloudRunAdmin.start();
  });
  after(() => fake.close());

  it("a canary failed in one region of two is failed; the reverted service then reads as rolled back", async () => {
    const live = new AdminApiLiveCloudRun(
      "orchestra-prod",
      { ORCHESTRA_CLOUD_RUN_ENDPOINT: fake.url },
      { attempts: 2, initialBackoffMs: 10, maxBackoffMs: 20 },
    );
    for (const r of ["europe-west1", "europe-west4"])
      fake.deploy("orchestra-prod", r, "api", {
        revision: STABLE,
        traffic: [{ revision: STABLE, percent: 100, tag: "stable" }],
        outcome: "ready",
      });
    const staged = { revision: CANARY, traffic: [{ revision: STABLE, percent: 100, tag: "stable" }] };
    fake.deploy("orchestra-prod", "europe-west1", "api", { ...staged, outcome: "ready" });
    fake.deploy("orchestra-prod", "europe-west4", "api", { ...staged, outcome: "fails" });
    const expected: ExpectedState = {
      kind: "staged",
      templateRevision: CANARY,
      canary: CANARY,
      traffic: [{ revision: STABLE, percent: 100 }],
    };
    const c = checkLive(await live.read("api", ["europe-west1", "europe-west4"]), expected);
    assert.equal(c.outcome, "failed");
    assert.deepEqual(
      c.regions.map((r) => [r.region, r.outcome]),
      [
        ["europe-west1", "ok"],
        ["europe-west4", "failed"],
      ],
    );
    assert.match(
      c.summary,
      new RegExp(
        `^europe-west4: revision ${CANARY} failed and will never serve: The user-provided container failed to start`,
      ),
    );

    // The rollback: the template back to the exact stable revision, stable 100%.
    for (const r of ["europe-west1", "europe-west4"])
      fake.deploy("orchestra-prod", r, "api", {
        revision: STABLE,
        traffic: [{ revision: STABLE, percent: 100, tag: "stable" }],
        outcome: "ready",
      });
    const back = checkLive(await live.read("api", ["europe-west1", "europe-west4"]), rolledBack);
    assert.equal(back.outcome, "ok", back.summary);
  });

  it("a region the API cannot answer for is not read, and says so", async () => {
    const live = new AdminApiLiveCloudRun(
      "orchestra-prod",
      { ORCHESTRA_CLOUD_RUN_ENDPOINT: fake.url },
      { attempts: 2, initialBackoffMs: 10, maxBackoffMs: 20 },
    );
    fake.fail("us-central1", { kind: "unavailable" });
    const r = livePreflight(await live.read("api", ["europe-west1", "us-central1"]), "prod");
    assert.equal(r.problems.length, 1);
    assert.match(
      r.problems[0].reason,
      /^Cloud Run in us-central1 cannot be read: the Cloud Run Admin API did not answer for us-central1 \(2 attempts/,
    );
  });
});
