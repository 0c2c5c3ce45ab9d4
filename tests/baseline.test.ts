import { strict as assert } from "node:assert";
import { applyToObject, type Edit } from "../model/canary/edits";
import {
  CanaryRuleError,
  promoteCanary,
  rollbackCanary,
  setCanaryPercent,
  startAttempt,
  startCanary,
} from "../model/canary/lifecycle";
import { runtimeAccountId, serviceAccountEmail } from "../model/identity";
import { liveHealth, revisionReadiness } from "../model/live";
import { canaryPercentViolation } from "../model/policy";
import {
  awaitedRevision,
  MAX_PERCENT_WITH_BASELINE,
  MAX_SERVICE_NAME_WITH_BASELINE,
} from "../model/release/baseline";
import { desiredState } from "../model/release/desiredState";
import { attemptId, builtFrom, canonicalJson, nextAttemptId } from "../model/release/revisionName";
import { serviceScaling } from "../model/release/template";
import { planRelease } from "../model/release/traffic";
import type { ServiceConfig, StackConfig } from "../model/types";
import { fromRendered, ruleContext } from "../policy/context";
import { canaryPercent } from "../policy/rules/cloudrun";
import { evaluate } from "../policy/rules/run";
import { CloudRunService, type DesiredService, type RevisionOutcome } from "./support/cloudRunModel";
import { baseConfig, byName, digest, REPO, renderWithConfig, validate } from "./support/render";

/**
 * The baseline: the stable release deployed afresh at the canary's percent under the tag `baseline`.
 * Each state the lifecycle writes is rendered by the program's own desiredState and sent to the model of
 * Cloud Run (tests/support/cloudRunModel.ts), which must accept it; and a baseline that never becomes
 * ready must leave a way back.
 */

const CANARY = `${REPO}@${digest("canary")}`;
type Flat = Record<string, string>;

function ok(flat: Flat): StackConfig {
  const result = validate("prod", flat);
  if (!result.ok) throw new Error(`does not validate: ${JSON.stringify(result.issues)}`);
  return result.config;
}
const api = (config: StackConfig) => config.services.find((s) => s.name === "api")!;

function edit(flat: Flat, edits: readonly Edit[]): Flat {
  const file = applyToObject(
    { config: { "ai-orchestra:services": JSON.parse(flat["ai-orchestra:services"]) } },
    edits,
  );
  return { ...flat, "ai-orchestra:services": JSON.stringify(file.config["ai-orchestra:services"]) };
}

/** The update `pulumi up` sends for `svc`, from the program's own decision. */
function desired(config: StackConfig, svc: ServiceConfig): DesiredService {
  const email = serviceAccountEmail(runtimeAccountId(svc.name), config.project);
  const d = desiredState(svc, svc.stable.image!, email);
  return {
    service: svc.name,
    templateRevision: d.plan.templateRevision,
    template: d.template,
    traffic: d.plan.traffic,
    minInstances: serviceScaling(svc).minInstanceCount,
  };
}

const REGIONS = ["europe-west1", "us-central1"];

/** One model of Cloud Run per region, serving the first deploy of `flat`. */
function deployFirst(flat: Flat) {
  const config = ok(flat);
  const regions = new Map(REGIONS.map((r) => [r, new CloudRunService("api", r)]));
  for (const m of regions.values()) assert.ok(m.apply(desired(config, api(config))).ok);
  return regions;
}

/** `pulumi up` of `flat` in every region; `outcome` for a revision the update creates. */
function up(regions: Map<string, CloudRunService>, flat: Flat, outcome: RevisionOutcome = "ready") {
  const config = ok(flat);
  const d = desired(config, api(config));
  return [...regions.values()].map((m) => m.apply(d, outcome));
}

const readiness = (regions: Map<string, CloudRunService>, revision: string) =>
  revisionReadiness(
    revision,
    [...regions.values()].map((m) => m.read()),
  );

const start = (extra: Record<string, unknown> = {}) => baseConfig({ regions: REGIONS, ...extra });

describe("baseline: the stable release deployed afresh beside the canary", () => {
  it("planRelease: the template creates the baseline, then the canary; serving splits stable 100 - 2p", () => {
    const base: ServiceConfig = api(ok(start()));
    const canary = { image: CANARY, revision: "api-c-1", percent: 10 } as const;
    const revisions = { stable: "api-s", canary: "api-c-1" };
    const plan = (c: ServiceConfig["canary"]) => planRelease({ ...base, canary: c }, revisions);

    assert.deepEqual(
      plan({ ...canary, phase: "staged", baseline: { revision: "api-s-1", phase: "staged" } }),
      {
        templateRelease: "baseline",
        templateRevision: "api-s-1",
        traffic: [{ revision: "api-s", percent: 100, tag: "stable" }],
      },
    );
    assert.deepEqual(
      plan({ ...canary, phase: "staged", baseline: { revision: "api-s-1", phase: "ready" } }),
      {
        templateRelease: "canary",
        templateRevision: "api-c-1",
        traffic: [{ revision: "api-s", percent: 100, tag: "stable" }],
      },
    );
    assert.deepEqual(
      plan({ ...canary, phase: "serving", baseline: { revision: "api-s-1", phase: "ready" } }).traffic,
      [
        { revision: "api-s", percent: 80, tag: "stable" },
        { revision: "api-c-1", percent: 10, tag: "canary" },
        { revision: "api-s-1", percent: 10, tag: "baseline" },
      ],
    );
    assert.deepEqual(
      plan({ ...canary, percent: 0, phase: "serving", baseline: { revision: "api-s-1", phase: "ready" } })
        .traffic,
      [
        { revision: "api-s", percent: 100, tag: "stable" },
        { revision: "api-c-1", percent: 0, tag: "canary" },
        { revision: "api-s-1", percent: 0, tag: "baseline" },
      ],
      "a dark launch reaches both at their tag URLs",
    );
    assert.deepEqual(
      plan({ ...canary, phase: "rolled-back", baseline: { revision: "api-s-1", phase: "ready" } }),
      {
        templateRelease: "stable",
        templateRevision: "api-s",
        traffic: [{ revision: "api-s", percent: 100, tag: "stable" }],
      },
    );
  });

  it("the baseline's template is stable's exact spec under its own attempt name", () => {
    const flat = start();
    const config = ok(flat);
    const staged = ok(edit(flat, startCanary(config, "api", CANARY, { attempt: "0zmkgc", baseline: true })));
    const svc = api(staged);
    const baseline = svc.canary?.baseline;
    assert.ok(baseline);
    assert.equal(baseline.phase, "staged");
    const stableUpdate = desired(config, api(config));
    const baselineUpdate = desired(staged, svc);
    assert.equal(baselineUpdate.templateRevision, baseline.revision);
    assert.equal(baseline.revision, `${stableUpdate.templateRevision}-0zmkgc`);
    assert.equal(canonicalJson(baselineUpdate.template), canonicalJson(stableUpdate.template));
    const email = serviceAccountEmail(runtimeAccountId("api"), "proj-test");
    assert.ok(builtFrom(baseline.revision, "api", desiredState(svc, svc.stable.image!, email).template));
    assert.equal(awaitedRevision(svc), baseline.revision);
  });

  it("every state of a release with a baseline is accepted by Cloud Run, in every region, to promotion", () => {
    let flat = start();
    const regions = deployFirst(flat);
    const step = (edits: Edit[], outcome: RevisionOutcome = "ready") => {
      flat = edit(flat, edits);
      for (const result of up(regions, flat, outcome))
        assert.ok(result.ok, `refused or failed: ${result.ok ? "" : result.reason}`);
      return api(ok(flat));
    };
    let svc = step(startCanary(ok(flat), "api", CANARY, { attempt: "0zmkgc", percent: 5, baseline: true }));
    const baseline = svc.canary!.baseline!.revision;
    const canary = svc.canary!.revision;
    for (const m of regions.values()) {
      assert.ok(m.isReady(baseline), "the first up creates the baseline");
      assert.ok(!m.revisions.has(canary), "and not yet the canary");
    }

    // The canary cannot take traffic before it exists; the baseline's readiness moves it on.
    assert.throws(
      () => setCanaryPercent(ok(flat), "api", 5, readiness(regions, canary)),
      /baseline revision .* is not known to be ready/,
    );
    svc = step(setCanaryPercent(ok(flat), "api", 5, readiness(regions, baseline)));
    assert.equal(svc.canary?.phase, "staged");
    assert.equal(svc.canary?.baseline?.phase, "ready");
    for (const m of regions.values()) assert.ok(m.isReady(canary), "the next up creates the canary");

    svc = step(setCanaryPercent(ok(flat), "api", 5, readiness(regions, canary)));
    assert.equal(svc.canary?.phase, "serving");
    for (const m of regions.values())
      assert.deepEqual(
        m.serving.map((t) => [t.tag, t.percent]),
        [
          ["stable", 90],
          ["canary", 5],
          ["baseline", 5],
        ],
      );

    step(setCanaryPercent(ok(flat), "api", MAX_PERCENT_WITH_BASELINE));
    assert.throws(
      () => setCanaryPercent(ok(flat), "api", 50),
      (e: unknown) => {
        assert.ok(e instanceof CanaryRuleError);
        assert.match(e.message, /take 100% of the traffic, leaving stable nothing.*--drop-baseline/);
        return true;
      },
    );
    svc = step(setCanaryPercent(ok(flat), "api", 80, undefined, { dropBaseline: true }));
    assert.equal(svc.canary?.baseline, undefined);
    for (const m of regions.values())
      assert.deepEqual(
        m.serving.map((t) => [t.tag, t.percent]),
        [
          ["stable", 20],
          ["canary", 80],
        ],
        "the baseline's traffic and tag are gone",
      );

    svc = step(promoteCanary(ok(flat), "api"));
    assert.equal(svc.stable.revision, canary);
    for (const m of regions.values()) {
      assert.equal(liveHealth(m.state()), "healthy");
      assert.deepEqual(m.serving, [{ revision: canary, percent: 100, tag: "stable" }]);
    }
  });

  it("promote and rollback while the baseline serves drop its traffic and tag", () => {
    let flat = start();
    const regions = deployFirst(flat);
    flat = edit(flat, startCanary(ok(flat), "api", CANARY, { attempt: "0zmkgc", baseline: true }));
    up(regions, flat);
    const baseline = api(ok(flat)).canary!.baseline!.revision;
    flat = edit(flat, setCanaryPercent(ok(flat), "api", 10, readiness(regions, baseline)));
    up(regions, flat);
    flat = edit(
      flat,
      setCanaryPercent(ok(flat), "api", 10, readiness(regions, api(ok(flat)).canary!.revision)),
    );
    up(regions, flat);

    const promoted = ok(edit(flat, promoteCanary(ok(flat), "api")));
    assert.equal(api(promoted).canary, undefined);
    const rolledFlat = edit(flat, rollbackCanary(ok(flat), "api"));
    const rolled = api(ok(rolledFlat));
    assert.deepEqual(rolled.canary?.baseline?.revision, baseline, "kept in the file as a record");
    for (const [, m] of regions) {
      for (const next of [promoted, ok(rolledFlat)]) {
        const copy = m.clone();
        const d = desired(next, api(next));
        assert.ok(copy.apply(d).ok);
        assert.ok(!copy.serving.some((t) => t.tag === "baseline" || t.revision === baseline));
      }
    }
  });

  it("a baseline that never becomes ready fails the update, users keep stable, and the rollback is accepted", () => {
    let flat = start();
    const regions = deployFirst(flat);
    const before = [...regions.values()].map((m) => canonicalJson(m.serving));
    flat = edit(flat, startCanary(ok(flat), "api", CANARY, { attempt: "0zmkgc", baseline: true }));
    const baseline = api(ok(flat)).canary!.baseline!.revision;
    for (const result of up(regions, flat, "fails")) {
      assert.ok(!result.ok && result.recorded);
      assert.equal(result.reason, `rule 7: Revision '${baseline}' is not ready and cannot serve traffic.`);
    }
    assert.deepEqual(
      [...regions.values()].map((m) => canonicalJson(m.serving)),
      before,
      "users keep the old split",
    );
    const evidence = readiness(regions, baseline);
    assert.deepEqual(evidence.failedIn, REGIONS);
    assert.throws(() => setCanaryPercent(ok(flat), "api", 10, evidence), /not known to be ready/);
    assert.equal(awaitedRevision(api(ok(flat))), baseline);

    flat = edit(flat, rollbackCanary(ok(flat), "api"));
    for (const result of up(regions, flat)) assert.ok(result.ok, result.ok ? "" : result.reason);
    for (const m of regions.values()) assert.equal(liveHealth(m.state()), "healthy");

    // And the release goes on: a new attempt names a fresh baseline and a fresh canary.
    flat = edit(flat, startCanary(ok(flat), "api", CANARY, { attempt: "0zmkgd", baseline: true }));
    const retried = api(ok(flat)).canary!;
    assert.notEqual(retried.baseline?.revision, baseline);
    for (const result of up(regions, flat)) assert.ok(result.ok);
  });

  it("a start within the second of a rolled-back one, or with a clock behind it, names revisions never used", () => {
    const t = Date.UTC(2026, 10, 30, 9, 0, 0);
    let flat = start();
    const first = startAttempt(ok(flat), "api", t);
    assert.equal(first, attemptId(t), "the clock's attempt when nothing later is recorded");
    flat = edit(flat, startCanary(ok(flat), "api", CANARY, { attempt: first, baseline: true }));
    const used = api(ok(flat)).canary!;
    flat = edit(flat, rollbackCanary(ok(flat), "api"));
    for (const now of [t + 400, t - 60_000]) {
      const again = startAttempt(ok(flat), "api", now);
      assert.ok(parseInt(again, 36) > parseInt(first, 36), `${again} after ${first}`);
      const retried = api(
        ok(edit(flat, startCanary(ok(flat), "api", CANARY, { attempt: again, baseline: true }))),
      );
      assert.notEqual(retried.canary!.revision, used.revision);
      assert.notEqual(retried.canary!.baseline!.revision, used.baseline!.revision);
    }
    // Content names carry no attempt; an attempt is the six characters after the content hash.
    assert.equal(nextAttemptId(t, ["api-0123456789", undefined]), attemptId(t));
    assert.equal(nextAttemptId(0, ["api-0123456789-zzzzzz"]), "1000000");
  });

  it("a staged baseline can be dropped without evidence: the template moves on to the canary", () => {
    let flat = start();
    flat = edit(flat, startCanary(ok(flat), "api", CANARY, { attempt: "0zmkgc", baseline: true }));
    const edits = setCanaryPercent(ok(flat), "api", 10, undefined, { dropBaseline: true });
    const svc = api(ok(edit(flat, edits)));
    assert.equal(svc.canary?.phase, "staged");
    assert.equal(svc.canary?.baseline, undefined);
    assert.equal(awaitedRevision(svc), svc.canary?.revision);
  });

  it("start refuses a baseline that could not run: a name too long for its tag, a percent above 49", () => {
    const long = "a".repeat(MAX_SERVICE_NAME_WITH_BASELINE + 1);
    const flat = baseConfig();
    const services = JSON.parse(flat["ai-orchestra:services"]) as Record<string, unknown>;
    const longFlat = {
      ...flat,
      "ai-orchestra:services": JSON.stringify({ [long]: { ...(services.api as object) } }),
    };
    assert.throws(
      () => startCanary(ok(longFlat), long, CANARY, { attempt: "0zmkgc", baseline: true }),
      /cannot have a baseline: the service name .* at most 38.*without --baseline/,
    );
    assert.doesNotThrow(() => startCanary(ok(longFlat), long, CANARY, { attempt: "0zmkgc" }));
    assert.throws(
      () => startCanary(ok(start()), "api", CANARY, { attempt: "0zmkgc", baseline: true, percent: 50 }),
      /take 100% of the traffic, leaving stable nothing.*at 49% or less/,
    );
  });

  describe("the stack file's canary.baseline, validated", () => {
    const withCanary = (canary: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
      const flat = start();
      const staged = edit(flat, startCanary(ok(flat), "api", CANARY, { attempt: "0zmkgc", baseline: true }));
      const services = JSON.parse(staged["ai-orchestra:services"]) as Record<string, Record<string, unknown>>;
      const api = services.api;
      api.canary = { ...(api.canary as object), ...canary };
      Object.assign(api, extra);
      return validate("prod", { ...staged, "ai-orchestra:services": JSON.stringify(services) });
    };
    const issue = (result: ReturnType<typeof validate>, path: string) => {
      assert.ok(!result.ok, "expected a validation error");
      const found = result.issues.find((i) => i.path === path);
      assert.ok(found, `no issue at ${path}: ${JSON.stringify(result.issues)}`);
      return found.message;
    };

    it("accepts what `canary start --baseline` writes", () => {
      assert.ok(withCanary({}).ok);
    });
    it("refuses a serving canary whose baseline is not known ready", () => {
      assert.match(
        issue(withCanary({ phase: "serving" }), "ai-orchestra:services.api.canary.baseline.phase"),
        /is `staged` while the canary serves.*Fix:/s,
      );
    });
    it("refuses a percent that leaves stable nothing", () => {
      assert.match(
        issue(withCanary({ percent: 50 }), "ai-orchestra:services.api.canary.percent"),
        /too high beside a baseline.*--drop-baseline/s,
      );
      assert.ok(withCanary({ percent: 50, phase: "rolled-back" }).ok, "a rolled-back record is history");
    });
    it("refuses a malformed baseline, naming the key and the fix", () => {
      assert.match(
        issue(
          withCanary({ baseline: { revision: "api-x" } }),
          "ai-orchestra:services.api.canary.baseline.phase",
        ),
        /must be one of staged, ready/,
      );
      assert.match(
        issue(
          withCanary({ baseline: { revision: "API!", phase: "staged" } }),
          "ai-orchestra:services.api.canary.baseline.revision",
        ),
        /must be a Cloud Run revision name/,
      );
      assert.match(
        issue(withCanary({ baseline: "yes" }), "ai-orchestra:services.api.canary.baseline"),
        /must be `\{revision, phase\}`.*--baseline/s,
      );
    });
    it("refuses a baseline that is not a fresh revision of stable's current settings", () => {
      const pinned = ok(withCanaryFlat());
      const stable = api(pinned).stable.revision!;
      assert.match(
        issue(
          withCanary({ baseline: { revision: stable, phase: "staged" } }),
          "ai-orchestra:services.api.canary.baseline.revision",
        ),
        /is also the stable revision/,
      );
      assert.match(
        issue(withCanary({}, { memory: "1Gi" }), "ai-orchestra:services.api.canary.baseline.revision"),
        /built from other settings than the stable release has now/,
      );
    });

    function withCanaryFlat(): Flat {
      const flat = start();
      return edit(flat, startCanary(ok(flat), "api", CANARY, { attempt: "0zmkgc", baseline: true }));
    }
  });

  it("the canary-percent guardrail: canary and baseline must leave stable serving", () => {
    const at = (percent: number, baselinePercent?: number) =>
      canaryPercentViolation({
        service: "api",
        stack: "prod",
        percent,
        maxCanaryPercent: 80,
        ...(baselinePercent === undefined ? {} : { baselinePercent }),
      });
    assert.equal(at(49, 49), undefined);
    assert.match(at(50, 50)?.message ?? "", /take 100% of the traffic, leaving stable nothing/);
    assert.match(at(50, 50)?.fix ?? "", /--drop-baseline/);
    assert.equal(at(50), undefined);
  });

  it("renders a stack with a serving baseline: three tagged targets, the guardrail passes", async () => {
    let flat = start();
    flat = edit(
      flat,
      startCanary(ok(flat), "api", CANARY, { attempt: "0zmkgc", percent: 20, baseline: true }),
    );
    const svc = api(ok(flat));
    const baseline = svc.canary!.baseline!.revision;
    flat = edit(flat, setCanaryPercent(ok(flat), "api", 20, { revision: baseline, readyIn: REGIONS }));
    flat = edit(
      flat,
      setCanaryPercent(ok(flat), "api", 20, { revision: svc.canary!.revision, readyIn: REGIONS }),
    );
    const config = ok(flat);
    const r = await renderWithConfig("prod", flat);
    const inputs = byName(r, "api-service").inputs as {
      template: { revision: string };
      traffics: { revision: string; percent: number; tag: string }[];
    };
    assert.equal(inputs.template.revision, svc.canary!.revision);
    assert.deepEqual(
      inputs.traffics.map((t) => [t.tag, t.percent, t.revision]),
      [
        ["stable", 60, svc.stable.revision],
        ["canary", 20, svc.canary!.revision],
        ["baseline", 20, baseline],
      ],
    );
    const report = evaluate(
      [canaryPercent],
      fromRendered(r.resources),
      ruleContext(config, { flat, secretKeys: [] }),
      config.policy.levels,
    );
    assert.deepEqual(report.violations, []);
  });
});
