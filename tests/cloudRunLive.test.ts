import { strict as assert } from "node:assert";
import { callError } from "../cli/live/callError";
import { readServiceState, type LiveReadRetry, type ReadServiceStateArgs } from "../cli/live/cloudRunAdmin";
import {
  failedLatestRevision,
  liveHealth,
  type LiveReadFailure,
  type LiveRegionRead,
  type LiveServicePresent,
} from "../model/live";
import { FakeCloudRunAdmin, runType } from "./support/fakeCloudRunAdmin";
import { checkMessage } from "./support/protoCheck";

// The real @google-cloud/run client, over REST, against a local fake of the Admin API.

const PROJECT = "orchestra-prod";
const SERVICE = "api";
const EU = "europe-west1";
const US = "us-central1";

// Short backoff keeps the suite fast; the attempt timeout stays generous because the first call also
// loads the client, and the machine may be busy.
const FAST: Partial<LiveReadRetry> = {
  attempts: 3,
  initialBackoffMs: 20,
  maxBackoffMs: 80,
  attemptTimeoutMs: 10_000,
};

describe("Cloud Run live state (Admin API v2)", () => {
  let fake: FakeCloudRunAdmin;

  beforeEach(async () => {
    fake = await FakeCloudRunAdmin.start();
  });
  afterEach(async () => {
    // Whatever the fake sent must be a valid message of the type it claims, enums and all.
    for (const { type, body } of fake.sentBodies) assert.deepEqual(checkMessage(runType(type), body), []);
    await fake.close();
  });

  const read = (over: Partial<ReadServiceStateArgs> = {}) =>
    readServiceState({
      project: PROJECT,
      service: SERVICE,
      regions: [EU, US],
      clientOptions: fake.clientOptions(),
      retry: FAST,
      ...over,
    });

  const stateOf = (r: LiveRegionRead): LiveServicePresent => {
    assert.ok(r.ok, `expected a state for ${r.region}, got ${JSON.stringify(r)}`);
    assert.ok(r.state.exists, `expected ${r.region}'s service to exist`);
    return r.state;
  };
  const failureOf = (r: LiveRegionRead): LiveReadFailure => {
    assert.ok(!r.ok, `expected ${r.region} to fail, got ${JSON.stringify(r)}`);
    return r.failure;
  };

  /** stable 100% in both regions, then a canary at 10% that serves in EU and never starts in US. */
  function canaryReadyInEuFailedInUs(): void {
    for (const region of [EU, US]) {
      fake.deploy(PROJECT, region, SERVICE, {
        revision: "api-0a1b2c3d4e",
        traffic: [{ revision: "api-0a1b2c3d4e", percent: 100, tag: "stable" }],
        outcome: "ready",
      });
    }
    const canary = {
      revision: "api-5f6a7b8c9d",
      traffic: [
        { revision: "api-0a1b2c3d4e", percent: 90, tag: "stable" },
        { revision: "api-5f6a7b8c9d", percent: 10, tag: "canary" },
      ],
    };
    fake.deploy(PROJECT, EU, SERVICE, { ...canary, outcome: "ready" });
    fake.deploy(PROJECT, US, SERVICE, { ...canary, outcome: "fails" });
  }

  it("reads a region where the canary serves and one where its revision never became ready", async () => {
    canaryReadyInEuFailedInUs();
    const live = await read();
    assert.equal(live.project, PROJECT);
    assert.deepEqual(
      live.regions.map((r) => r.region),
      [EU, US],
    );

    const eu = stateOf(live.regions[0]);
    assert.equal(liveHealth(eu), "healthy");
    assert.equal(eu.latestReadyRevision, "api-5f6a7b8c9d");
    assert.equal(eu.latestCreatedRevision, "api-5f6a7b8c9d");
    assert.equal(eu.generation, 2);
    assert.equal(eu.observedGeneration, 2);
    assert.deepEqual(eu.terminalCondition, { state: "succeeded" });
    assert.deepEqual(eu.trafficStatuses, [
      {
        allocation: "revision",
        revision: "api-0a1b2c3d4e",
        percent: 90,
        tag: "stable",
        uri: `https://stable---api-123456789012.${EU}.run.app`,
      },
      {
        allocation: "revision",
        revision: "api-5f6a7b8c9d",
        percent: 10,
        tag: "canary",
        uri: `https://canary---api-123456789012.${EU}.run.app`,
      },
    ]);
    assert.deepEqual(
      eu.revisions.map((r) => [r.name, r.ready, r.failed]),
      [
        ["api-5f6a7b8c9d", true, false],
        ["api-0a1b2c3d4e", true, false],
      ],
    );
    assert.equal(eu.revisions[0].createTime, "2026-11-01T10:03:00.000Z");

    // US: the spec says 90/10, but the old revision still serves everything.
    const us = stateOf(live.regions[1]);
    assert.equal(liveHealth(us), "failed");
    assert.equal(us.reconciling, false);
    assert.equal(us.latestCreatedRevision, "api-5f6a7b8c9d");
    assert.equal(us.latestReadyRevision, "api-0a1b2c3d4e");
    assert.equal(us.generation, 2);
    assert.equal(us.observedGeneration, 1);
    assert.equal(us.terminalCondition?.state, "failed");
    assert.match(
      us.terminalCondition?.message ?? "",
      /^Revision 'api-5f6a7b8c9d' is not ready and cannot serve traffic\./,
    );
    assert.deepEqual(
      us.traffic.map((t) => [t.revision, t.percent, t.tag]),
      [
        ["api-0a1b2c3d4e", 90, "stable"],
        ["api-5f6a7b8c9d", 10, "canary"],
      ],
    );
    assert.deepEqual(
      us.trafficStatuses.map((t) => [t.revision, t.percent, t.tag]),
      [["api-0a1b2c3d4e", 100, "stable"]],
    );
    const failed = failedLatestRevision(us);
    assert.equal(failed?.name, "api-5f6a7b8c9d");
    assert.equal(failed?.ready, false);
    assert.equal(failed?.reason, "HEALTH_CHECK_CONTAINER_ERROR");
    assert.match(failed?.message ?? "", /failed to start and listen on the port/);
    assert.equal(failedLatestRevision(eu), undefined);

    // Only the two reads per region, scoped to this service, over REST with numeric enums.
    const calls = fake.requests.map((r) => `${r.method} ${r.path}`).sort();
    assert.deepEqual(calls, [
      `GET /v2/projects/${PROJECT}/locations/${EU}/services/${SERVICE}`,
      `GET /v2/projects/${PROJECT}/locations/${EU}/services/${SERVICE}/revisions`,
      `GET /v2/projects/${PROJECT}/locations/${US}/services/${SERVICE}`,
      `GET /v2/projects/${PROJECT}/locations/${US}/services/${SERVICE}/revisions`,
    ]);
    for (const r of fake.requests) {
      assert.match(decodeURIComponent(r.query), /\$alt=json;enum-encoding=int/);
      assert.equal(r.headers["x-goog-request-params"], `location=${r.region}`);
    }
  });

  it("reads a service Cloud Run is still reconciling: the new revision is not settled", async () => {
    fake.deploy(PROJECT, EU, SERVICE, {
      revision: "api-0a1b2c3d4e",
      traffic: [{ revision: "api-0a1b2c3d4e", percent: 100, tag: "stable" }],
      outcome: "ready",
    });
    fake.deploy(PROJECT, EU, SERVICE, {
      revision: "api-5f6a7b8c9d",
      traffic: [
        { revision: "api-0a1b2c3d4e", percent: 95, tag: "stable" },
        { revision: "api-5f6a7b8c9d", percent: 5, tag: "canary" },
      ],
      outcome: "pending",
    });
    const live = await read({ regions: [EU] });
    const eu = stateOf(live.regions[0]);
    assert.equal(liveHealth(eu), "reconciling");
    assert.equal(eu.reconciling, true);
    assert.equal(eu.terminalCondition?.state, "reconciling");
    assert.equal(eu.latestReadyRevision, "api-0a1b2c3d4e");
    assert.equal(eu.latestCreatedRevision, "api-5f6a7b8c9d");
    const newest = eu.revisions[0];
    assert.deepEqual(
      [newest.name, newest.ready, newest.failed, newest.reconciling],
      ["api-5f6a7b8c9d", undefined, false, true],
    );
    assert.equal(newest.reason, "PENDING");
    assert.equal(failedLatestRevision(eu), undefined);
  });

  it("reports a service missing in one region as absent, and still reads the other", async () => {
    fake.deploy(PROJECT, EU, SERVICE, {
      revision: "api-0a1b2c3d4e",
      traffic: [{ revision: "api-0a1b2c3d4e", percent: 100, tag: "stable" }],
      outcome: "ready",
    });
    const live = await read();
    assert.equal(liveHealth(stateOf(live.regions[0])), "healthy");
    assert.deepEqual(live.regions[1], {
      region: US,
      ok: true,
      state: { region: US, service: SERVICE, exists: false },
    });
    // Not found is an answer: no retry, and no revisions to list.
    assert.deepEqual(
      fake.requests.filter((r) => r.region === US).map((r) => r.call),
      ["getService"],
    );
  });

  it("reads every page of a long revision list", async () => {
    fake.maxPageSize = 2;
    for (let i = 0; i < 5; i++) {
      const revision = `api-rev${i}`;
      fake.deploy(PROJECT, EU, SERVICE, {
        revision,
        traffic: [{ revision, percent: 100, tag: "stable" }],
        outcome: "ready",
      });
    }
    const eu = stateOf((await read({ regions: [EU] })).regions[0]);
    assert.deepEqual(
      eu.revisions.map((r) => r.name),
      ["api-rev4", "api-rev3", "api-rev2", "api-rev1", "api-rev0"],
    );
    assert.equal(fake.requests.filter((r) => r.call === "listRevisions").length, 3);
  });

  describe("regions that cannot be read", () => {
    beforeEach(canaryReadyInEuFailedInUs);

    const noStackTrace = (f: LiveReadFailure) => {
      for (const text of [f.reason, f.fix]) {
        assert.doesNotMatch(text, /\n|\s+at \S+ \(|node_modules/);
      }
    };

    it("names the missing permission and role when the caller may not read the service", async () => {
      fake.fail(US, { kind: "denied" });
      const live = await read();
      assert.equal(liveHealth(stateOf(live.regions[0])), "healthy");
      const f = failureOf(live.regions[1]);
      assert.equal(f.kind, "permission-denied");
      assert.equal(f.status, "PERMISSION_DENIED");
      assert.equal(f.attempts, 1);
      assert.match(
        f.reason,
        /permission run\.services\.get denied on projects\/orchestra-prod\/locations\/us-central1\/services\/api/,
      );
      assert.match(
        f.fix,
        /the caller needs run\.services\.get \(roles\/run\.viewer\) in project orchestra-prod/,
      );
      noStackTrace(f);
      assert.equal(fake.requests.filter((r) => r.region === US).length, 1, "a denial is not retried");
    });

    it("names run.revisions.list when only listing revisions is denied", async () => {
      fake.fail(US, { kind: "denied" }, { call: "listRevisions" });
      const f = failureOf((await read()).regions[1]);
      assert.equal(f.kind, "permission-denied");
      assert.match(f.fix, /run\.revisions\.list \(roles\/run\.viewer\)/);
    });

    it("says to enable the API when it is disabled in the project", async () => {
      fake.fail(US, { kind: "api-disabled" });
      const f = failureOf((await read()).regions[1]);
      assert.equal(f.kind, "api-disabled");
      assert.match(f.fix, /gcloud services enable run\.googleapis\.com --project orchestra-prod/);
      noStackTrace(f);
    });

    it("retries a transient 503 and then reads the region", async () => {
      fake.fail(US, { kind: "unavailable" }, { call: "getService", times: 2 });
      fake.fail(EU, { kind: "unavailable" }, { call: "listRevisions", times: 1 });
      const live = await read();
      assert.equal(liveHealth(stateOf(live.regions[0])), "healthy");
      assert.equal(liveHealth(stateOf(live.regions[1])), "failed");
      assert.deepEqual(
        fake.requests.filter((r) => r.region === US).map((r) => r.call),
        ["getService", "getService", "getService", "listRevisions"],
      );
      assert.deepEqual(
        fake.requests.filter((r) => r.region === EU).map((r) => r.call),
        ["getService", "listRevisions", "listRevisions"],
      );
    });

    it("gives up on a region that stays unavailable after a bounded number of attempts", async () => {
      fake.fail(US, { kind: "unavailable" });
      const started = Date.now();
      const live = await read();
      const elapsed = Date.now() - started;
      assert.equal(liveHealth(stateOf(live.regions[0])), "healthy");
      const f = failureOf(live.regions[1]);
      assert.equal(f.kind, "unavailable");
      assert.equal(f.status, "UNAVAILABLE");
      assert.equal(f.attempts, 3);
      assert.match(
        f.reason,
        /did not answer for us-central1 \(3 attempts in [\d.]+ s; last: UNAVAILABLE: The service is currently unavailable\.\)/,
      );
      assert.match(f.fix, /status\.cloud\.google\.com/);
      noStackTrace(f);
      assert.equal(fake.requests.filter((r) => r.region === US).length, 3);
      // Backoff 10-20 ms, then 20-40 ms, plus three local round trips.
      assert.ok(elapsed < 5_000, `took ${elapsed} ms`);
    });

    it("cuts off a region that does not answer, within its deadline, and still reads the other", async () => {
      fake.fail(US, { kind: "hang" });
      const started = Date.now();
      // Two attempts fit in the deadline with 1 s to spare for a late timer on a busy machine.
      const live = await read({ retry: { ...FAST, attemptTimeoutMs: 800, deadlineMs: 1_800 } });
      const elapsed = Date.now() - started;
      assert.equal(liveHealth(stateOf(live.regions[0])), "healthy");
      const f = failureOf(live.regions[1]);
      assert.equal(f.kind, "timeout");
      assert.ok(f.attempts >= 2 && f.attempts <= 3, `${f.attempts} attempts`);
      assert.match(f.reason, /did not answer for us-central1 .*no answer within \d+ ms/);
      assert.ok(elapsed >= 1_600 && elapsed < 10_000, `took ${elapsed} ms, deadline 1,800 ms`);
    });

    it("retries an endpoint that refuses connections, then reports it", async () => {
      const gone = await FakeCloudRunAdmin.start();
      const options = gone.clientOptions();
      await gone.close();
      const live = await read({ clientOptions: options, regions: [EU] });
      const f = failureOf(live.regions[0]);
      assert.equal(f.kind, "unavailable");
      assert.equal(f.attempts, 3);
      assert.match(f.reason, /last: ECONNREFUSED: .*ECONNREFUSED/);
      noStackTrace(f);
    });

    it("reads the regions in parallel", async () => {
      // EU answers only once US has asked: a sequential reader would time out on EU.
      fake.hold(EU, fake.seen(US));
      const live = await read({ retry: { ...FAST, attempts: 1 } });
      assert.equal(liveHealth(stateOf(live.regions[0])), "healthy");
      assert.equal(liveHealth(stateOf(live.regions[1])), "failed");
    });
  });

  it("reads errors from the gRPC transport too", () => {
    // What google-gax raises over gRPC: the canonical code as a number, ErrorInfo already decoded.
    const grpc = Object.assign(new Error("7 PERMISSION_DENIED: Permission 'run.services.get' denied"), {
      code: 7,
      reason: "IAM_PERMISSION_DENIED",
      errorInfoMetadata: { permission: "run.services.get" },
    });
    assert.deepEqual(callError(grpc), {
      status: "PERMISSION_DENIED",
      message: "Permission 'run.services.get' denied",
      errorReason: "IAM_PERMISSION_DENIED",
      errorMetadata: { permission: "run.services.get" },
    });
    assert.equal(
      callError(Object.assign(new Error("14 UNAVAILABLE: no healthy upstream"), { code: 14 })).status,
      "UNAVAILABLE",
    );
  });
});
