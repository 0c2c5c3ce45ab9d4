import { strict as assert } from "node:assert";
import { parse as parseYaml } from "yaml";
import {
  liveServiceStatus,
  notReadyAdvice,
  type RegionPresent,
  type RegionStatus,
  type ServiceLiveStatus,
} from "../model/canary/liveStatus";
import {
  revisionReadiness,
  type LiveReadFailure,
  type LiveRegionRead,
  type LiveRevision,
  type LiveTrafficTarget,
} from "../model/live";
import { servicePlan } from "../model/release/servicePlan";
import type { CanaryPhase, ServiceConfig, StackConfig } from "../model/types";
import { buildProgram } from "../cli/main";
import { readStackConfig } from "../render/stackFile";
import {
  cleanupTempProjects,
  describeRun,
  makeTempProject,
  stackTraceLines,
  SUGGESTIONS,
  type CliResult,
  type TempProject,
} from "./support/cliHarness";
import {
  FakeCloudRunAdmin,
  runType,
  type DeployOutcome,
  type FakeTraffic,
} from "./support/fakeCloudRunAdmin";
import { docBlock } from "./support/docs";
import { runInProcess } from "./support/inProcessCli";
import { checkMessage } from "./support/protoCheck";
import { ROOT, validate } from "./support/render";

/**
 * `orchestra canary status --live` and `orchestra canary set` against Cloud Run's live state: the pure
 * decision (model/canary/liveStatus.ts) on hand-made reads, then the real CLI process against a local
 * fake of the Admin API, read by the real `@google-cloud/run` client via ORCHESTRA_CLOUD_RUN_ENDPOINT.
 */

const EU1 = "europe-west1";
const EU4 = "europe-west4";
const FAILED_CONTAINER =
  "The user-provided container failed to start and listen on the port defined provided by the PORT=8080 " +
  "environment variable within the allocated timeout.";

/** The repository's prod stack, with the api canary in `phase`. */
function prodConfig(phase: CanaryPhase = "serving"): StackConfig {
  const result = validate("prod", readStackConfig(ROOT, "prod").flat);
  assert.ok(result.ok, "the repository's prod stack is valid");
  return {
    ...result.config,
    services: result.config.services.map((s) => (s.canary ? { ...s, canary: { ...s.canary, phase } } : s)),
  };
}

const service = (config: StackConfig, name: string): ServiceConfig => {
  const found = config.services.find((s) => s.name === name);
  assert.ok(found, `prod has ${name}`);
  return found;
};

const PROD = prodConfig();
const API = service(PROD, "api");
const STABLE = servicePlan(PROD, API).plan!.traffic[0].revision;
const CANARY = API.canary!.revision;
const WORKER_REVISION = servicePlan(PROD, service(PROD, "worker")).plan!.templateRevision;

describe("canary live status: the decision (model/canary/liveStatus.ts)", () => {
  type Outcome = "ready" | "failed" | "pending";

  const revision = (name: string, outcome: Outcome): LiveRevision =>
    outcome === "ready"
      ? { name, ready: true, failed: false, reconciling: false }
      : outcome === "failed"
        ? {
            name,
            ready: false,
            failed: true,
            reconciling: false,
            reason: "HEALTH_CHECK_CONTAINER_ERROR",
            message: FAILED_CONTAINER,
          }
        : { name, ready: undefined, failed: false, reconciling: true, reason: "PENDING" };

  const split = (...entries: [string, number, string?][]): LiveTrafficTarget[] =>
    entries.map(([rev, percent, tag]) => ({
      allocation: "revision",
      revision: rev,
      percent,
      ...(tag ? { tag } : {}),
    }));

  interface Sketch {
    /** Latest ready revision. */
    readonly ready: string;
    /** Latest created revision; default `ready`. */
    readonly created?: string;
    readonly serving: LiveTrafficTarget[];
    /** The spec's traffic; default `serving`. */
    readonly asked?: LiveTrafficTarget[];
    readonly revisions: Readonly<Record<string, Outcome>>;
    readonly reconciling?: boolean;
    /** The last update failed for a reason of its own (a quota, say), not a revision's. */
    readonly updateFailed?: string;
  }

  /** One region's read, shaped the way the Admin API reports a service in that state. */
  function region(name: string, s: Sketch, service = "api"): LiveRegionRead {
    const created = s.created ?? s.ready;
    const failedRevision = s.revisions[created] === "failed";
    const failed = failedRevision || s.updateFailed !== undefined;
    return {
      region: name,
      ok: true,
      state: {
        region: name,
        service,
        exists: true,
        reconciling: s.reconciling ?? false,
        generation: 3,
        observedGeneration: failed || s.reconciling ? 2 : 3,
        latestReadyRevision: s.ready,
        latestCreatedRevision: created,
        terminalCondition: failedRevision
          ? {
              state: "failed",
              message: `Revision '${created}' is not ready and cannot serve traffic. ${FAILED_CONTAINER}`,
            }
          : s.updateFailed
            ? { state: "failed", message: s.updateFailed }
            : s.reconciling
              ? { state: "reconciling", message: "Deploying revision." }
              : { state: "succeeded" },
        traffic: s.asked ?? s.serving,
        trafficStatuses: s.serving,
        revisions: Object.entries(s.revisions).map(([n, o]) => revision(n, o)),
      },
    };
  }

  const unread = (name: string, failure: Partial<LiveReadFailure> = {}): LiveRegionRead => ({
    region: name,
    ok: false,
    failure: {
      kind: "permission-denied",
      reason: `permission run.services.get denied on projects/ai-orchestra-prod/locations/${name}/services/api`,
      fix: "the caller needs run.services.get (roles/run.viewer) in project ai-orchestra-prod",
      status: "PERMISSION_DENIED",
      attempts: 1,
      ...failure,
    },
  });

  const absent = (name: string): LiveRegionRead => ({
    region: name,
    ok: true,
    state: { region: name, service: "api", exists: false },
  });

  function statusOf(phase: CanaryPhase | "none", reads: LiveRegionRead[], name = "api"): ServiceLiveStatus {
    const config = phase === "none" ? PROD : prodConfig(phase);
    const svc = service(config, name);
    return liveServiceStatus({ stack: "prod", service: svc, plan: servicePlan(config, svc).plan, reads });
  }

  const presentOf = (r: RegionStatus): RegionPresent => {
    assert.ok(r.read === "ok" && r.exists, `expected ${r.region} read and present`);
    return r;
  };

  // Cloud Run's state after each step of the lifecycle, per region.
  const stableOnly: Sketch = {
    ready: STABLE,
    serving: split([STABLE, 100, "stable"]),
    revisions: { [STABLE]: "ready" },
  };
  const stagedUp = (outcome: Outcome): Sketch => ({
    ready: outcome === "ready" ? CANARY : STABLE,
    created: CANARY,
    serving: split([STABLE, 100, "stable"]),
    revisions: { [CANARY]: outcome, [STABLE]: "ready" },
    reconciling: outcome === "pending",
  });
  const servingUp = (percent: number): Sketch => ({
    ready: CANARY,
    serving: split([STABLE, 100 - percent, "stable"], [CANARY, percent, "canary"]),
    revisions: { [CANARY]: "ready", [STABLE]: "ready" },
  });

  it("staged, applied and ready in every region: `canary set` to its percent", () => {
    const s = statusOf("staged", [region(EU1, stagedUp("ready")), region(EU4, stagedUp("ready"))]);
    assert.equal(s.advice.kind, "set");
    assert.equal(
      s.advice.text,
      `\`orchestra canary set api 10 --stack prod\`, then \`pulumi up --refresh -s prod\`: revision ${CANARY} is ready in ${EU1}, ${EU4} and serves no traffic yet.`,
    );
    assert.equal(s.ok, true);
    assert.deepEqual(s.disagreements, []);
    for (const r of s.regions.map(presentOf)) {
      assert.equal(r.health, "healthy");
      assert.deepEqual(r.canary, { revision: CANARY, state: "ready" });
      assert.deepEqual(r.file, {
        templateRevision: CANARY,
        templateApplied: true,
        askedMatches: true,
        servingMatches: true,
      });
      assert.equal(r.latestCreatedRevision, undefined, "shown only when it differs from the latest ready");
    }
  });

  it("canary revision failed in one region: roll back (works ready or not), then up; Cloud Run's words", () => {
    const s = statusOf("staged", [region(EU1, stagedUp("ready")), region(EU4, stagedUp("failed"))]);
    assert.equal(s.advice.kind, "rollback");
    assert.ok(
      s.advice.text.startsWith(
        "`orchestra canary rollback api --stack prod`, then `pulumi up --refresh -s prod`: ",
      ),
      s.advice.text,
    );
    assert.match(
      s.advice.text,
      new RegExp(`revision ${CANARY} failed in ${EU4} \\(The user-provided container`),
    );
    assert.match(s.advice.text, /whether or not the canary became ready anywhere\.$/);
    assert.doesNotMatch(s.advice.text, /\.\./);
    assert.equal(s.ok, false, "a failed update is an error");
    const eu4 = presentOf(s.regions[1]);
    assert.equal(eu4.health, "failed");
    assert.equal(eu4.latestReadyRevision, STABLE);
    assert.equal(eu4.latestCreatedRevision, CANARY);
    assert.deepEqual(eu4.failedRevision, {
      name: CANARY,
      reason: "HEALTH_CHECK_CONTAINER_ERROR",
      message: FAILED_CONTAINER,
    });
    assert.match(eu4.terminalCondition?.message ?? "", new RegExp(`^Revision '${CANARY}' is not ready`));
    assert.equal(eu4.canary?.state, "failed");
    assert.equal(presentOf(s.regions[0]).canary?.state, "ready");
    // Both regions still serve stable 100%: they agree, whatever the failure.
    assert.deepEqual(s.disagreements, []);
  });

  it("a failed canary decides even when another region cannot be read", () => {
    const s = statusOf("staged", [unread(EU1), region(EU4, stagedUp("failed"))]);
    assert.equal(s.advice.kind, "rollback");
    assert.equal(s.ok, false);
    const eu1 = s.regions[0];
    assert.ok(eu1.read === "failed");
    assert.equal(eu1.failure.kind, "permission-denied");
  });

  it("staged in the file but never applied: `pulumi up`, and a green up proves nothing until it serves", () => {
    const s = statusOf("staged", [region(EU1, stableOnly), region(EU4, stableOnly)]);
    assert.equal(s.advice.kind, "apply");
    assert.ok(
      s.advice.text.startsWith("`pulumi up --refresh -s prod`, then re-run `orchestra canary status"),
      s.advice.text,
    );
    assert.match(
      s.advice.text,
      new RegExp(
        `${EU1} has not applied the stack file \\(its latest revision is ${STABLE}, the file's is ${CANARY}\\)`,
      ),
    );
    assert.match(s.advice.text, /A green `up` proves nothing until --live shows the file's split serving\.$/);
    assert.equal(s.ok, true, "an edit not applied yet is a normal state");
    assert.deepEqual(presentOf(s.regions[0]).canary, { revision: CANARY, state: "missing" });
  });

  it("a region left behind by an interrupted up disagrees with the other: an error, and `pulumi up`", () => {
    // The file says serving at 10%: europe-west1 got the update, europe-west4 still has the staged list.
    const s = statusOf("serving", [region(EU1, servingUp(10)), region(EU4, stagedUp("ready"))]);
    assert.equal(s.advice.kind, "apply");
    assert.match(s.advice.text, new RegExp(`${EU4} serves stable ${STABLE} 100%, not the file's split`));
    assert.equal(s.ok, false);
    assert.deepEqual(s.disagreements, [
      `${EU4} serves stable ${STABLE} 100%, but ${EU1} serves stable ${STABLE} 90%, canary ${CANARY} 10%.`,
    ]);
    const eu4 = presentOf(s.regions[1]);
    assert.deepEqual(eu4.file, {
      templateRevision: CANARY,
      templateApplied: true,
      askedMatches: false,
      servingMatches: false,
    });
  });

  it("a region whose last update failed for a reason of its own: the spec asks, the old split serves", () => {
    const behind: Sketch = {
      ...servingUp(10),
      serving: split([STABLE, 100, "stable"]),
      asked: split([STABLE, 90, "stable"], [CANARY, 10, "canary"]),
      updateFailed: "Quota exceeded for total allowable CPU per project per region.",
    };
    const s = statusOf("serving", [region(EU1, servingUp(10)), region(EU4, behind)]);
    assert.equal(s.advice.kind, "apply");
    assert.match(
      s.advice.text,
      new RegExp(
        `${EU4}'s last update failed \\(Quota exceeded for total allowable CPU per project per region\\) and it still serves stable ${STABLE} 100%`,
      ),
    );
    assert.equal(s.ok, false);
    const eu4 = presentOf(s.regions[1]);
    assert.equal(eu4.health, "failed");
    assert.equal(eu4.file?.askedMatches, true);
    assert.equal(eu4.file?.servingMatches, false);
  });

  it("Cloud Run still reconciling: wait and re-run", () => {
    const s = statusOf("staged", [region(EU1, stagedUp("ready")), region(EU4, stagedUp("pending"))]);
    assert.equal(s.advice.kind, "wait");
    assert.equal(
      s.advice.text,
      `wait a minute and re-run \`orchestra canary status --stack prod --live\`: Cloud Run is still applying the last update in ${EU4}.`,
    );
    assert.equal(s.ok, true);
    const eu4 = presentOf(s.regions[1]);
    assert.equal(eu4.health, "reconciling");
    assert.equal(eu4.canary?.state, "not-ready");
  });

  it("a region that cannot be read: the advice is to fix access; the reason and fix stay in the region", () => {
    const s = statusOf("serving", [region(EU1, servingUp(10)), unread(EU4, { kind: "api-disabled" })]);
    assert.equal(s.advice.kind, "read-failed");
    assert.match(s.advice.text, new RegExp(`^fix the access to ${EU4} \\(see above\\), then re-run`));
    assert.equal(s.ok, false);
    assert.equal(s.regions[1].read, "failed");
  });

  it("serving everywhere: promote, move or roll back", () => {
    const s = statusOf("serving", [region(EU1, servingUp(10)), region(EU4, servingUp(10))]);
    assert.equal(s.advice.kind, "serving");
    assert.match(
      s.advice.text,
      /^the canary serves 10% in every region: `orchestra canary promote api --stack prod`/,
    );
    assert.equal(s.ok, true);
  });

  it("rolled back: once applied, start again; until then, `pulumi up` applies the rollback", () => {
    const reverted: Sketch = {
      ready: STABLE,
      serving: split([STABLE, 100, "stable"]),
      revisions: { [STABLE]: "ready", [CANARY]: "failed" },
    };
    const done = statusOf("rolled-back", [region(EU1, reverted), region(EU4, reverted)]);
    assert.equal(done.advice.kind, "start");
    assert.match(
      done.advice.text,
      /`orchestra canary start api --image REPOSITORY@sha256:DIGEST --stack prod`/,
    );
    assert.equal(done.ok, true);
    assert.equal(presentOf(done.regions[0]).canary, undefined, "a rolled-back canary is not followed");

    const pending = statusOf("rolled-back", [region(EU1, reverted), region(EU4, stagedUp("failed"))]);
    assert.equal(pending.advice.kind, "apply", "the rollback is in the file: applying it is the step");
    assert.match(
      pending.advice.text,
      new RegExp(`${EU4}'s last update failed \\(Revision '${CANARY}' is not ready`),
    );
  });

  it("no canary and in step: nothing to do; a release whose own revision fails: fix the file", () => {
    const worker = (s: Partial<Sketch>) =>
      region(
        EU1,
        {
          ready: WORKER_REVISION,
          serving: split([WORKER_REVISION, 100, "stable"]),
          revisions: { [WORKER_REVISION]: "ready" },
          ...s,
        },
        "worker",
      );
    const fine = statusOf("none", [worker({})], "worker");
    assert.deepEqual(fine.advice, { kind: "none", text: "nothing to do: every region runs the stack file." });

    // A settings change made a new stable revision that never starts: re-sending it fails the same way.
    const broken = statusOf(
      "none",
      [
        worker({
          ready: "worker-0000000000",
          created: WORKER_REVISION,
          serving: split(["worker-0000000000", 100, "stable"]),
          asked: split([WORKER_REVISION, 100, "stable"]),
          revisions: { [WORKER_REVISION]: "failed", "worker-0000000000": "ready" },
        }),
      ],
      "worker",
    );
    assert.equal(broken.advice.kind, "fix-release");
    assert.match(
      broken.advice.text,
      new RegExp(
        `^fix the release in Pulumi.prod.yaml \\(image or settings\\), then \`pulumi up --refresh -s prod\`: its revision ${WORKER_REVISION} failed in ${EU1}`,
      ),
    );
  });

  it("a region without the service: `pulumi up` creates it", () => {
    const s = statusOf("serving", [region(EU1, servingUp(10)), absent(EU4)]);
    assert.equal(s.advice.kind, "apply");
    assert.match(s.advice.text, new RegExp(`the service does not exist in ${EU4}`));
    assert.deepEqual(s.regions[1], { region: EU4, read: "ok", exists: false });
  });

  it("a `latest` entry and an empty list are what the latest ready revision serves", () => {
    const latest = region(EU1, {
      ...stableOnly,
      serving: [{ allocation: "latest", percent: 100 }],
      asked: [],
    });
    const s = statusOf("none", [latest, region(EU4, stableOnly)]);
    const eu1 = presentOf(s.regions[0]);
    assert.deepEqual(eu1.serving, [{ revision: STABLE, percent: 100 }]);
    assert.deepEqual(eu1.asked, [{ revision: STABLE, percent: 100 }]);
    // Untagged, it is not the file's split (which tags stable), and the regions disagree.
    assert.equal(eu1.file?.servingMatches, false);
    assert.equal(s.advice.kind, "apply");
  });

  it("a release built at deploy time (dev) has no split to compare offline: health alone decides", () => {
    const worker = service(PROD, "worker");
    const built: ServiceConfig = { ...worker, stable: { build: { context: "services/worker" } } };
    assert.equal(servicePlan(PROD, built).plan, undefined, "no revision name before the build");
    const served = split(["worker-0a1b2c3d4e", 100]);
    const s = liveServiceStatus({
      stack: "dev",
      service: built,
      plan: undefined,
      reads: [
        region(
          EU1,
          { ready: "worker-0a1b2c3d4e", serving: served, revisions: { "worker-0a1b2c3d4e": "ready" } },
          "worker",
        ),
      ],
    });
    assert.equal(presentOf(s.regions[0]).file, undefined);
    assert.equal(s.advice.kind, "none");
    assert.equal(s.ok, true);
  });

  describe("canary set's refusal (revisionReadiness, notReadyAdvice)", () => {
    it("a failed region: named with Cloud Run's message, and the rollback advice", () => {
      const readiness = revisionReadiness(CANARY, [
        region(EU1, stagedUp("ready")),
        region(EU4, stagedUp("failed")),
      ]);
      assert.deepEqual(readiness.readyIn, [EU1]);
      assert.deepEqual(readiness.failedIn, [EU4]);
      assert.deepEqual(readiness.unreadIn, []);
      assert.deepEqual(readiness.problems, [
        `${EU4}: revision ${CANARY} failed and will never serve: ${FAILED_CONTAINER}`,
      ]);
      assert.equal(notReadyAdvice("prod", "api", readiness).kind, "rollback");
    });

    it("an unread region: its reason and fix, and no rollback advice", () => {
      const readiness = revisionReadiness(CANARY, [region(EU1, stagedUp("ready")), unread(EU4)]);
      assert.deepEqual(readiness.unreadIn, [EU4]);
      assert.match(
        readiness.problems[0],
        /^europe-west4: not read \(permission run\.services\.get denied .*\)\. Fix: the caller needs/,
      );
      const advice = notReadyAdvice("prod", "api", readiness);
      assert.equal(advice.kind, "read-failed");
      assert.doesNotMatch(advice.text, /rollback/);
    });

    it("not created or not ready yet: up, wait, and run it again", () => {
      const readiness = revisionReadiness(CANARY, [
        region(EU1, stableOnly),
        region(EU4, stagedUp("pending")),
      ]);
      assert.deepEqual(readiness.problems, [
        `${EU1}: revision ${CANARY} does not exist yet (run \`pulumi up --refresh\`).`,
        `${EU4}: revision ${CANARY} is not ready yet (PENDING).`,
      ]);
      const advice = notReadyAdvice("prod", "api", readiness);
      assert.equal(advice.kind, "wait");
      assert.match(
        advice.text,
        /^`pulumi up --refresh -s prod` if it has not run since `orchestra canary start`/,
      );
    });
  });
});

describe("orchestra canary status --live and canary set, against a fake Cloud Run Admin API", () => {
  let fake: FakeCloudRunAdmin;
  let project: TempProject;

  /** The repository's prod stack file with the api canary in `phase`. */
  const stackFile = (phase: CanaryPhase) => (original: string) => {
    const text = original.replace(/^(\s+)phase: serving$/m, `$1phase: ${phase}`);
    assert.ok(phase === "serving" || text !== original, "the prod stack has a serving canary to restage");
    return text;
  };

  const run = (...args: string[]): Promise<CliResult> =>
    runInProcess(project.dir, args, { env: { ORCHESTRA_CLOUD_RUN_ENDPOINT: fake.url } });

  const expectExit = (r: CliResult, code: number) => {
    assert.equal(r.status, code, describeRun(r));
    assert.deepEqual(stackTraceLines(r.stdout + r.stderr), [], describeRun(r));
  };

  /** What `pulumi up` left in Cloud Run, per region. */
  const up = (
    region: string,
    svc: string,
    revision: string,
    traffic: FakeTraffic[],
    outcome: DeployOutcome,
  ) => fake.deploy(PROD.project, region, svc, { revision, traffic, outcome });
  const stable100 = [{ revision: STABLE, percent: 100, tag: "stable" }];

  /** Stable deployed everywhere, then `up` of the staged canary ending as each region says. */
  function stagedAndUp(outcomes: Readonly<Record<string, DeployOutcome>>): void {
    for (const region of API.regions) up(region, "api", STABLE, stable100, "ready");
    up(EU1, "worker", WORKER_REVISION, [{ revision: WORKER_REVISION, percent: 100, tag: "stable" }], "ready");
    for (const region of API.regions) up(region, "api", CANARY, stable100, outcomes[region] ?? "ready");
  }

  beforeEach(async () => {
    fake = await FakeCloudRunAdmin.start();
  });
  afterEach(async () => {
    for (const { type, body } of fake.sentBodies) assert.deepEqual(checkMessage(runType(type), body), []);
    await fake.close();
    project?.cleanup();
  });
  after(cleanupTempProjects);

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Json = any;
  const apiOf = (r: CliResult): Json =>
    (JSON.parse(r.stdout) as Json).stacks[0].services.find((s: Json) => s.name === "api");

  describe("status --live", () => {
    it("a service Cloud Run does not have: names what was asked and what the next step is", async () => {
      project = makeTempProject();
      // Only the worker was ever deployed: the api is absent in every region.
      up(
        EU1,
        "worker",
        WORKER_REVISION,
        [{ revision: WORKER_REVISION, percent: 100, tag: "stable" }],
        "ready",
      );
      const r = await run("canary", "status", "--stack", "prod", "--live");
      expectExit(r, 0);
      for (const region of API.regions)
        assert.match(
          r.stdout,
          new RegExp(
            `^ {4}${region} +absent: the Admin API has no projects/${PROD.project}/locations/${region}/services/api$`,
            "m",
          ),
        );
      assert.match(
        r.stdout,
        /^ {4}next: `pulumi up --refresh -s prod`, then re-run .*the service does not exist in/m,
      );
    });

    it("staged and ready everywhere: each region healthy, and `canary set` as the next step", async () => {
      project = makeTempProject({ stacks: { prod: stackFile("staged") } });
      stagedAndUp({});
      const r = await run("canary", "status", "--stack", "prod", "--live");
      expectExit(r, 0);
      assert.match(r.stdout, new RegExp(`^ {4}${EU1}  healthy, latest ready ${CANARY}$`, "m"));
      assert.match(r.stdout, new RegExp(`^ {4}${EU4}  healthy, latest ready ${CANARY}$`, "m"));
      assert.match(r.stdout, new RegExp(`serving: +stable ${STABLE} 100%  \\(the stack file's split\\)`));
      assert.match(r.stdout, new RegExp(`canary: +${CANARY} ready$`, "m"));
      assert.match(
        r.stdout,
        /^ {4}next: `orchestra canary set api 10 --stack prod`, then `pulumi up --refresh -s prod`/m,
      );
      assert.match(r.stdout, /^ {4}next: nothing to do: every region runs the stack file\.$/m, "worker");
      // Two reads per service and region, nothing else.
      assert.equal(fake.requests.length, 2 * (API.regions.length + 1));

      const json = await run("canary", "status", "--stack", "prod", "--live", "--json");
      expectExit(json, 0);
      const api = apiOf(json);
      assert.equal(api.canary.phase, "staged");
      assert.equal(api.live.advice.kind, "set");
      assert.equal(api.live.ok, true);
      assert.deepEqual(
        api.live.regions.map((x: Json) => [x.region, x.health, x.canary.state]),
        [
          [EU1, "healthy", "ready"],
          [EU4, "healthy", "ready"],
        ],
      );
    });

    it("canary failed in one region: the region, Cloud Run's message, rollback advice, exit 1", async () => {
      project = makeTempProject({ stacks: { prod: stackFile("staged") } });
      stagedAndUp({ [EU4]: "fails" });
      const r = await run("canary", "status", "--stack", "prod", "--live");
      expectExit(r, 1);
      assert.match(
        r.stdout,
        new RegExp(
          `^ {4}${EU4}  failed, latest ready ${STABLE}, latest created ${CANARY} \\(failed\\)$`,
          "m",
        ),
      );
      assert.match(
        r.stdout,
        new RegExp(`update: +failed: Revision '${CANARY}' is not ready and cannot serve traffic\\.`),
      );
      assert.match(
        r.stdout,
        new RegExp(`canary: +${CANARY} failed, will never serve: HEALTH_CHECK_CONTAINER_ERROR`),
      );
      assert.match(
        r.stdout,
        new RegExp(
          `next: \`orchestra canary rollback api --stack prod\`, then \`pulumi up --refresh -s prod\`: revision ${CANARY} failed in ${EU4} \\(The user-provided container failed to start`,
        ),
      );

      // docs/canary-and-rollout.md shows this very output.
      const shown = docBlock("cannot serve traffic", "text");
      assert.ok(shown, "the docs show a failed canary's live status");
      const apiSection = r.stdout.slice(r.stdout.indexOf("  api "), r.stdout.indexOf("  worker "));
      assert.equal(apiSection.trimEnd(), shown.trimEnd());

      const json = await run("canary", "status", "--stack", "prod", "--live", "--json");
      expectExit(json, 1);
      const eu4 = apiOf(json).live.regions[1];
      assert.equal(eu4.health, "failed");
      assert.equal(eu4.failedRevision.name, CANARY);
      assert.equal(eu4.failedRevision.message, FAILED_CONTAINER);
      assert.equal(apiOf(json).live.advice.kind, "rollback");
    });

    it("a region left behind after an interrupted up: both splits, and `pulumi up`, exit 1", async () => {
      project = makeTempProject();
      stagedAndUp({});
      up(
        EU1,
        "api",
        CANARY,
        [...stable100.map((t) => ({ ...t, percent: 90 })), { revision: CANARY, percent: 10, tag: "canary" }],
        "ready",
      );
      const r = await run("canary", "status", "--stack", "prod", "--live");
      expectExit(r, 1);
      assert.match(
        r.stdout,
        new RegExp(
          `error: ${EU4} serves stable ${STABLE} 100%, but ${EU1} serves stable ${STABLE} 90%, canary ${CANARY} 10%\\.`,
        ),
      );
      assert.match(
        r.stdout,
        /next: `pulumi up --refresh -s prod`, then re-run .*A green `up` proves nothing until --live shows the file's split serving\./,
      );
    });

    it("rolled back after the canary failed in one region: once `up` reverts to stable, start again", async () => {
      project = makeTempProject({ stacks: { prod: stackFile("rolled-back") } });
      stagedAndUp({ [EU4]: "fails" });
      // The rollback's `up`: template and traffic are the stable revision's exact name and spec, which
      // creates no revision, whether the canary became ready (europe-west1) or not (europe-west4).
      for (const region of API.regions) up(region, "api", STABLE, stable100, "ready");
      // A failed revision is never re-created: the fake refuses to pretend otherwise.
      assert.throws(() => up(EU4, "api", CANARY, stable100, "ready"), /never re-created/);
      const r = await run("canary", "status", "--stack", "prod", "--live", "--json");
      expectExit(r, 0);
      const api = apiOf(r);
      assert.equal(api.live.advice.kind, "start");
      assert.deepEqual(
        api.live.regions.map((x: Json) => [
          x.region,
          x.health,
          x.latestReadyRevision,
          x.latestCreatedRevision,
        ]),
        [
          [EU1, "healthy", STABLE, undefined],
          [EU4, "healthy", STABLE, undefined],
        ],
      );
    });

    it("a region that cannot be read: the reason and the fix, exit 1; the other region is still shown", async () => {
      project = makeTempProject({ stacks: { prod: stackFile("staged") } });
      stagedAndUp({});
      fake.fail(EU4, { kind: "denied" });
      const r = await run("canary", "status", "--stack", "prod", "--live");
      expectExit(r, 1);
      assert.match(r.stdout, new RegExp(`^ {4}${EU1}  healthy`, "m"));
      assert.match(
        r.stdout,
        new RegExp(
          `^ {4}${EU4}  not read \\(permission-denied\\): permission run\\.services\\.get denied on projects/${PROD.project}/locations/${EU4}/services/api`,
          "m",
        ),
      );
      assert.match(
        r.stdout,
        /fix: +the caller needs run\.services\.get \(roles\/run\.viewer\) in project ai-orchestra-prod/,
      );
      assert.match(r.stdout, new RegExp(`next: fix the access to ${EU4} \\(see above\\)`));
    });

    it("adds no next-step hint from the stack files: the live advice is the only next step", async () => {
      project = makeTempProject();
      stagedAndUp({});
      const env = { ...SUGGESTIONS, ORCHESTRA_CLOUD_RUN_ENDPOINT: fake.url };
      const offline = await runInProcess(project.dir, ["canary", "status", "--stack", "prod"], { env });
      assert.match(
        offline.stderr,
        /^next: the api canary on prod takes 10%/m,
        "the hint is on without --live",
      );
      const live = await runInProcess(project.dir, ["canary", "status", "--stack", "prod", "--live"], {
        env,
      });
      assert.doesNotMatch(live.stderr, /^next:/m);
      assert.match(live.stdout, /^ {4}next: /m);
    });

    it("refuses a malformed ORCHESTRA_CLOUD_RUN_ENDPOINT before any request", async () => {
      project = makeTempProject();
      const r = await runInProcess(project.dir, ["canary", "status", "--stack", "prod", "--live"], {
        env: { ORCHESTRA_CLOUD_RUN_ENDPOINT: "https://127.0.0.1:9" },
      });
      expectExit(r, 1);
      assert.match(
        r.stderr,
        /ORCHESTRA_CLOUD_RUN_ENDPOINT must be an http:\/\/ emulator address \(got https:\/\/127\.0\.0\.1:9\)/,
      );
    });
  });

  describe("canary set from a staged canary", () => {
    it("with a baseline: the first set finds the baseline ready, the second the canary; --drop-baseline removes it", async () => {
      project = makeTempProject();
      expectExit(await run("canary", "rollback", "api", "--stack", "prod"), 0);
      const image = API.canary!.image;
      expectExit(await run("canary", "start", "api", "--image", image, "--baseline", "--stack", "prod"), 0);
      const canaryOf = (): Json =>
        (parseYaml(project.read("prod")) as Json).config["ai-orchestra:services"].api.canary;
      const started = canaryOf();
      const baseline: string = started.baseline.revision;
      assert.equal(started.baseline.phase, "staged");
      assert.match(baseline, new RegExp(`^${STABLE}-[0-9a-z]{6}$`), "stable's content name, a fresh attempt");

      // pulumi up: the baseline is created first (stable's spec), the traffic unchanged.
      for (const region of API.regions) up(region, "api", STABLE, stable100, "ready");
      for (const region of API.regions) up(region, "api", baseline, stable100, "ready");
      const first = await run("canary", "set", "api", "5", "--stack", "prod");
      expectExit(first, 0);
      assert.match(first.stderr, new RegExp(`Reading the readiness of ${baseline} from Cloud Run`));
      assert.match(first.stdout, /baseline of api ready; the next `pulumi up` creates the canary/);
      assert.deepEqual([canaryOf().phase, canaryOf().baseline.phase], ["staged", "ready"]);

      // pulumi up: now the canary.
      for (const region of API.regions) up(region, "api", started.revision, stable100, "ready");
      const second = await run("canary", "set", "api", "5", "--stack", "prod");
      expectExit(second, 0);
      assert.match(second.stderr, new RegExp(`Reading the readiness of ${started.revision} from Cloud Run`));
      assert.match(second.stdout, /baseline +\S+ +5%/);
      assert.equal(canaryOf().phase, "serving");

      const before = project.read("prod");
      const tooHigh = await run("canary", "set", "api", "60", "--stack", "prod");
      expectExit(tooHigh, 1);
      assert.match(tooHigh.stderr, /take 120% of the traffic, leaving stable nothing.*--drop-baseline/s);
      assert.equal(project.read("prod"), before);
      expectExit(await run("canary", "set", "api", "60", "--drop-baseline", "--stack", "prod"), 0);
      assert.equal(canaryOf().baseline, undefined);
      assert.equal(canaryOf().percent, 60);
    });

    it("ready in every region: the file now serves the canary at N%", async () => {
      project = makeTempProject({ stacks: { prod: stackFile("staged") } });
      const before = project.read("prod");
      stagedAndUp({});
      const r = await run("canary", "set", "api", "25", "--stack", "prod");
      expectExit(r, 0);
      assert.match(
        r.stderr,
        new RegExp(`Reading the readiness of ${CANARY} from Cloud Run in ${EU1}, ${EU4}`),
      );
      const api = (parseYaml(project.read("prod")) as Json).config["ai-orchestra:services"].api;
      assert.deepEqual(api.canary, {
        image: API.canary!.image,
        revision: CANARY,
        percent: 25,
        phase: "serving",
      });
      // Only the two values changed; every other line, comments included, is as it was.
      const changed = diffLines(before, project.read("prod"));
      assert.deepEqual(changed, [
        [
          "        percent: 10 # raise with `orchestra canary set api N --stack prod`",
          "        percent: 25 # raise with `orchestra canary set api N --stack prod`",
        ],
        ["        phase: staged", "        phase: serving"],
      ]);
      assert.deepEqual(
        [...new Set(fake.requests.map((q) => q.region))].sort(),
        [EU1, EU4],
        "read in every region of the service",
      );
    });

    it("failed in one region: refused with the region and the revision's message, file byte-identical", async () => {
      project = makeTempProject({ stacks: { prod: stackFile("staged") } });
      const before = project.read("prod");
      stagedAndUp({ [EU4]: "fails" });
      const r = await run("canary", "set", "api", "25", "--stack", "prod");
      expectExit(r, 1);
      assert.equal(project.read("prod"), before);
      assert.match(r.stderr, /Pulumi\.prod\.yaml was not changed/);
      assert.match(
        r.stderr,
        new RegExp(
          `${EU4}: revision ${CANARY} failed and will never serve: The user-provided container failed to start`,
        ),
      );
      assert.doesNotMatch(r.stderr, new RegExp(`${EU1}:`), "a ready region is not a problem");
      assert.match(
        r.stderr,
        /Next: `orchestra canary rollback api --stack prod`, then `pulumi up --refresh -s prod`/,
      );
    });

    for (const [fault, kind, fix] of [
      [
        { kind: "denied" },
        "permission-denied",
        /Fix: the caller needs run\.services\.get \(roles\/run\.viewer\)/,
      ],
      [
        { kind: "unavailable" },
        "unavailable",
        /Fix: retry in a few minutes; https:\/\/status\.cloud\.google\.com/,
      ],
    ] as const) {
      it(`a region that cannot be read (${kind}): refused with the fix, file unchanged`, async () => {
        project = makeTempProject({ stacks: { prod: stackFile("staged") } });
        const before = project.read("prod");
        stagedAndUp({});
        fake.fail(EU4, fault);
        const r = await run("canary", "set", "api", "25", "--stack", "prod");
        expectExit(r, 1);
        assert.equal(project.read("prod"), before);
        assert.match(r.stderr, new RegExp(`${EU4}: not read \\(`));
        assert.match(r.stderr, fix);
        assert.match(
          r.stderr,
          new RegExp(`Next: fix the access to ${EU4} \\(see above\\), then run the command again`),
        );
        assert.doesNotMatch(r.stderr, /canary rollback/);
      });
    }
  });
});

/** Pairs of lines that differ between two texts of the same length in lines. */
function diffLines(before: string, after: string): [string, string][] {
  const a = before.split("\n");
  const b = after.split("\n");
  assert.equal(a.length, b.length, "no line added or removed");
  return a.flatMap((line, i) => (line === b[i] ? [] : [[line, b[i]] as [string, string]]));
}

describe("canary status --live and canary set: --help", () => {
  /** The whole `--help` of a canary subcommand, the text added after the options included. */
  function helpOf(name: string): string {
    const canary = buildProgram().commands.find((c) => c.name() === "canary");
    const command = canary?.commands.find((c) => c.name() === name);
    assert.ok(command, `orchestra canary ${name}`);
    let text = "";
    command.configureOutput({ writeOut: (s) => (text += s) });
    command.outputHelp();
    return text.replace(/\s+/g, " ");
  }

  it("status says what --live reads, shows and exits with, and how to reach an emulator", () => {
    const help = helpOf("status");
    assert.match(help, /--live also read every region from the Cloud Run Admin API/);
    assert.match(help, /the latest created one when it differs \(and why it failed\)/);
    assert.match(help, /It exits 1 when a region cannot be read \(with the reason and the fix\)/);
    assert.match(help, /ORCHESTRA_CLOUD_RUN_ENDPOINT=http:\/\/HOST:PORT/);
  });

  it("set says a staged canary's readiness is read first, and nothing is written unless it is ready", () => {
    const help = helpOf("set");
    assert.match(help, /readiness is first read from the Cloud Run Admin API in every region/);
    assert.match(help, /run\.services\.get and run\.revisions\.list/);
    assert.match(help, /Unless it is ready everywhere, nothing is written/);
  });
});
