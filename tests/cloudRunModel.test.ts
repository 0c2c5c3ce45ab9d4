import { strict as assert } from "node:assert";
import { failedLatestRevision, liveHealth, revisionReadiness } from "../model/live";
import {
  CloudRunService,
  MAX_REVISIONS,
  type ApplyResult,
  type DesiredService,
} from "./support/cloudRunModel";

/**
 * The model the property tests deploy to must itself refuse what Cloud Run refuses, and fail what Cloud
 * Run fails: otherwise a property proven against it proves nothing.
 */

const template = (image: string, extra: Record<string, unknown> = {}) => ({
  containers: [{ image }],
  ...extra,
});
const request = (over: Partial<DesiredService> = {}): DesiredService => ({
  service: "api",
  templateRevision: "api-aaaa",
  template: template("a"),
  traffic: [{ revision: "api-aaaa", percent: 100, tag: "stable" }],
  ...over,
});
/** "accepted", or the rule that refused or failed the update. */
const outcome = (result: ApplyResult) => (result.ok ? "accepted" : result.reason.slice(0, 6));
const stableOnly = (revision: string) => [{ revision, percent: 100, tag: "stable" }];
const split = (stable: string, canary: string, percent: number) => [
  { revision: stable, percent: 100 - percent, tag: "stable" },
  { revision: canary, percent, tag: "canary" },
];

/** A service serving `api-aaaa` at 100%. */
function serving(): CloudRunService {
  const service = new CloudRunService("api", "europe-west1");
  assert.deepEqual(service.apply(request()), { ok: true, created: true });
  return service;
}

/** `serving()`, then an update whose template creates `api-bbbb`, which never becomes ready. */
function withFailedCanary(traffic = stableOnly("api-aaaa")) {
  const service = serving();
  const failed = service.apply(
    request({ templateRevision: "api-bbbb", template: template("b"), traffic }),
    "fails",
  );
  return { service, failed };
}

describe("Cloud Run model", () => {
  describe("refusals: nothing changes (rules 1-6)", () => {
    it("rule 1: revision names", () => {
      const fresh = new CloudRunService("api", "europe-west1");
      for (const name of ["web-aaaa", "api-Aaaa", "api-aaaa-", `api-${"a".repeat(60)}`, "api-a_b"]) {
        assert.equal(outcome(fresh.apply(request({ templateRevision: name }))), "rule 1", name);
      }
      assert.equal(fresh.state().exists, false, "a refused request creates no service");
    });

    it("rule 2: the same name with another template is a 409; with the same template, nothing is created", () => {
      const service = serving();
      const before = service.state();
      assert.equal(outcome(service.apply(request({ template: template("b") }))), "rule 2");
      assert.deepEqual(service.state(), before, "a 409 changes neither spec nor status");
      assert.deepEqual(service.apply(request()), { ok: true, created: false });
      assert.deepEqual([...service.revisions.keys()], ["api-aaaa"]);
    });

    it("rule 3: a traffic target names an existing revision or the one the request creates", () => {
      const service = serving();
      const traffic = split("api-aaaa", "api-cccc", 10);
      assert.equal(outcome(service.apply(request({ traffic }))), "rule 3");
      assert.equal(
        outcome(service.apply(request({ templateRevision: "api-cccc", template: template("c"), traffic }))),
        "accepted",
      );
    });

    it("rule 4: whole percents >= 0 summing to 100", () => {
      const fresh = new CloudRunService("api", "europe-west1");
      for (const percents of [[50, 40], [50.5, 49.5], [-10, 110], [100, 1], []]) {
        const traffic = percents.map((percent, i) => ({ revision: "api-aaaa", percent, tag: `t${i}` }));
        assert.equal(outcome(fresh.apply(request({ traffic }))), "rule 4", JSON.stringify(percents));
      }
    });

    it("rule 5: unique tags, tag + service name <= 46 characters", () => {
      const fresh = new CloudRunService("api", "europe-west1");
      const twice = [50, 50].map((percent) => ({ revision: "api-aaaa", percent, tag: "stable" }));
      assert.equal(outcome(fresh.apply(request({ traffic: twice }))), "rule 5");
      const long = [{ revision: "api-aaaa", percent: 100, tag: "t".repeat(44) }];
      assert.equal(outcome(fresh.apply(request({ traffic: long }))), "rule 5");
      const fits = [{ revision: "api-aaaa", percent: 100, tag: "t".repeat(43) }];
      assert.equal(outcome(fresh.apply(request({ traffic: fits }))), "accepted");
    });

    it("rule 6: at most 1000 revisions, failed ones included", () => {
      const full = new CloudRunService("api", "europe-west1");
      for (let i = 0; i < MAX_REVISIONS; i++) {
        const name = `api-${i}`;
        const result = full.apply(
          request({ templateRevision: name, template: template(name), traffic: stableOnly(name) }),
          i % 2 === 0 ? "ready" : "fails",
        );
        assert.equal(result.ok, i % 2 === 0);
      }
      assert.equal(full.revisions.size, MAX_REVISIONS);
      const next = request({
        templateRevision: "api-1000",
        template: template("api-1000"),
        traffic: stableOnly("api-1000"),
      });
      assert.equal(outcome(full.apply(next)), "rule 6");
      // Reverting to an existing revision creates none, so it is still accepted.
      assert.equal(
        outcome(
          full.apply(
            request({
              templateRevision: "api-998",
              template: template("api-998"),
              traffic: stableOnly("api-998"),
            }),
          ),
        ),
        "accepted",
      );
    });
  });

  describe("failures: the spec is recorded, the status keeps serving (rules 7-8)", () => {
    it("a first revision that becomes ready: spec and status agree, healthy", () => {
      const service = serving();
      const state = service.state();
      assert.ok(state.exists, "no service");
      assert.equal(liveHealth(state), "healthy");
      assert.equal(state.generation, 1);
      assert.equal(state.observedGeneration, 1);
      assert.equal(state.latestReadyRevision, "api-aaaa");
      assert.equal(state.latestCreatedRevision, "api-aaaa");
      assert.deepEqual(state.traffic, state.trafficStatuses);
    });

    it("rule 7: a created revision that fails fails the update; users keep the last serving state", () => {
      const { service, failed } = withFailedCanary();
      assert.deepEqual(failed, {
        ok: false,
        recorded: true,
        created: true,
        reason: "rule 7: Revision 'api-bbbb' is not ready and cannot serve traffic.",
      });
      const state = service.state();
      assert.ok(state.exists, "no service");
      assert.equal(liveHealth(state), "failed");
      assert.equal(state.generation, 2, "the spec records the update");
      assert.equal(state.observedGeneration, 1, "the serving generation is the old one");
      assert.equal(state.latestReadyRevision, "api-aaaa");
      assert.equal(state.latestCreatedRevision, "api-bbbb");
      assert.equal(state.terminalCondition?.state, "failed");
      assert.match(state.terminalCondition?.message ?? "", /api-bbbb' is not ready and cannot serve traffic/);
      assert.deepEqual(service.serving, stableOnly("api-aaaa"));
      assert.equal(failedLatestRevision(state)?.name, "api-bbbb");
      assert.equal(service.spec?.templateRevision, "api-bbbb");
    });

    it("rule 7: the same update with the traffic naming the failing revision fails too, status unchanged", () => {
      const { service, failed } = withFailedCanary(split("api-aaaa", "api-bbbb", 10));
      assert.equal(outcome(failed), "rule 7");
      assert.deepEqual(service.serving, stableOnly("api-aaaa"));
      const state = service.state();
      assert.ok(state.exists, "no service");
      assert.deepEqual(
        state.traffic.map((t) => t.revision),
        ["api-aaaa", "api-bbbb"],
        "the spec keeps what was asked",
      );
    });

    it("rule 8: a traffic list naming a failed revision fails, whatever its percent or tag", () => {
      for (const traffic of [
        split("api-aaaa", "api-bbbb", 10),
        split("api-aaaa", "api-bbbb", 0),
        [
          { revision: "api-aaaa", percent: 100, tag: "stable" },
          { revision: "api-bbbb", percent: 0 },
        ],
        [{ revision: "api-bbbb", percent: 100 }],
      ]) {
        const { service } = withFailedCanary();
        // The template is back on the ready revision, but the list still names the failed one.
        const result = service.apply(request({ traffic }));
        assert.equal(outcome(result), "rule 8", JSON.stringify(traffic));
        assert.ok(!result.ok && result.reason.includes("api-bbbb"), JSON.stringify(result));
        const state = service.state();
        assert.ok(state.exists, "no service");
        assert.equal(liveHealth(state), "failed");
        assert.deepEqual(service.serving, stableOnly("api-aaaa"));
      }
    });

    it("a template that still names the failed revision keeps the service not ready", () => {
      const { service } = withFailedCanary();
      const again = service.apply(
        request({ templateRevision: "api-bbbb", template: template("b"), traffic: stableOnly("api-aaaa") }),
      );
      assert.deepEqual(again, {
        ok: false,
        recorded: true,
        created: false,
        reason: "rule 7: Revision 'api-bbbb' is not ready and cannot serve traffic.",
      });
      const state = service.state();
      assert.ok(state.exists, "no service");
      assert.equal(liveHealth(state), "failed");
    });

    it("same name + same spec never re-creates a revision: a failed one stays failed, even if the retry would start", () => {
      const { service } = withFailedCanary();
      const retry = service.apply(
        request({ templateRevision: "api-bbbb", template: template("b"), traffic: stableOnly("api-aaaa") }),
        "ready",
      );
      assert.equal(outcome(retry), "rule 7");
      assert.equal(service.isReady("api-bbbb"), false);
      assert.deepEqual([...service.revisions.keys()], ["api-aaaa", "api-bbbb"]);
      // A new name is created afresh and may become ready.
      const renamed = service.apply(
        request({
          templateRevision: "api-bbbb-2",
          template: template("b"),
          traffic: split("api-aaaa", "api-bbbb-2", 10),
        }),
      );
      assert.deepEqual(renamed, { ok: true, created: true });
    });

    it("reverting the template to an older revision's exact name and spec is accepted: latest ready again, nothing created", () => {
      const { service } = withFailedCanary();
      const revert = service.apply(request());
      assert.deepEqual(revert, { ok: true, created: false });
      const state = service.state();
      assert.ok(state.exists, "no service");
      assert.equal(liveHealth(state), "healthy");
      assert.equal(state.latestCreatedRevision, "api-aaaa");
      assert.equal(state.latestReadyRevision, "api-aaaa");
      assert.equal(state.observedGeneration, state.generation);
      assert.equal(service.revisions.size, 2);
      // The older name with another spec is still a 409.
      assert.equal(
        outcome(service.apply(request({ template: template("a", { timeout: "60s" }) }))),
        "rule 2",
      );
    });

    it("a revert also leaves a ready canary: a later update may name it again", () => {
      const service = serving();
      const canary = request({
        templateRevision: "api-bbbb",
        template: template("b"),
        traffic: split("api-aaaa", "api-bbbb", 20),
      });
      assert.deepEqual(service.apply(canary), { ok: true, created: true });
      assert.deepEqual(service.apply(request()), { ok: true, created: false });
      assert.deepEqual(service.serving, stableOnly("api-aaaa"));
      assert.deepEqual(service.apply(canary), { ok: true, created: false });
    });

    it("status reads give the CLI's readiness evidence: ready, failed, or missing per region", () => {
      const ready = serving();
      ready.apply(
        request({ templateRevision: "api-bbbb", template: template("b"), traffic: stableOnly("api-aaaa") }),
      );
      const { service: failed } = withFailedCanary();
      const behind = serving();
      const absent = new CloudRunService("api", "asia-east1");
      const reads = [ready, failed, behind, absent].map((s, i) => ({ ...s.read(), region: `r${i}` }));
      const readiness = revisionReadiness("api-bbbb", reads);
      assert.deepEqual(readiness.readyIn, ["r0"]);
      assert.equal(readiness.problems.length, 3);
      assert.match(readiness.problems[0], /^r1: revision api-bbbb failed and will never serve/);
      assert.match(readiness.problems[1], /^r2: revision api-bbbb does not exist yet/);
      assert.match(readiness.problems[2], /^r3: the service does not exist there/);
    });

    it("a clone takes updates without changing the service it was cloned from", () => {
      const { service } = withFailedCanary();
      const before = service.state();
      const copy = service.clone();
      assert.deepEqual(copy.state(), before);
      assert.deepEqual(copy.apply(request()), { ok: true, created: false });
      copy.apply(request({ templateRevision: "api-cccc", template: template("c") }), "fails");
      assert.deepEqual(service.state(), before);
      assert.deepEqual([...service.revisions.keys()], ["api-aaaa", "api-bbbb"]);
    });

    it("min instances on the template keep every addressable revision warm, a tagged one at 0% too; on the service they count once", () => {
      const warmTemplate = (image: string) => template(image, { scaling: { minInstanceCount: 2 } });
      const onTemplate = new CloudRunService("api", "europe-west1");
      onTemplate.apply(request({ template: warmTemplate("a") }));
      onTemplate.apply(
        request({
          templateRevision: "api-bbbb",
          template: warmTemplate("b"),
          traffic: split("api-aaaa", "api-bbbb", 0),
        }),
      );
      assert.equal(onTemplate.warmInstances(), 4, "a dark launch doubles warm instances");

      const onService = new CloudRunService("api", "europe-west1");
      onService.apply(request({ minInstances: 2 }));
      onService.apply(
        request({
          templateRevision: "api-bbbb",
          template: template("b"),
          traffic: split("api-aaaa", "api-bbbb", 0),
          minInstances: 2,
        }),
      );
      assert.equal(onService.warmInstances(), 2);
    });
  });
});
