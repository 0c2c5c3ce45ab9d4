import * as assert from "node:assert/strict";
import { analyse, ANALYSIS_DEFAULTS, decideStep, type RevisionMetrics } from "../cli/rollout/analysis";
import { simulate } from "../cli/rollout/simulate";
import { mannWhitneyBuckets, normalCdf, quantile, twoProportionTest } from "../cli/rollout/stats";
import { parseDuration, parseSteps } from "../cli/rollout/steps";

const settings = { ...ANALYSIS_DEFAULTS, maxErrorRatio: 0.1, maxP95Ms: 1000 };
const bounds = [10, 20, 40, 80, Infinity];
const metrics = (requests: number, errors: number, counts: number[]): RevisionMetrics => ({
  requests,
  errors,
  latency: { bounds, counts },
});

describe("rollout statistics", () => {
  it("normal CDF", () => {
    assert.ok(Math.abs(normalCdf(1.959964) - 0.975) < 1e-6);
    assert.ok(Math.abs(normalCdf(-3.090232) - 0.001) < 1e-6);
  });

  it("two-proportion test: one-sided, pooled, no evidence without failures", () => {
    const r = twoProportionTest(40, 1000, 20, 1000);
    // pooled 0.03, se = sqrt(0.03*0.97*0.002) = 0.007629; z = 0.02 / se
    assert.ok(Math.abs(r.z - 2.6216) < 1e-3);
    assert.deepEqual(twoProportionTest(0, 500, 0, 500), { z: 0, pValue: 0.5 });
  });

  it("Mann-Whitney U on buckets equals the tie-corrected test on the expanded samples", () => {
    // canary 3 x bucket0, 2 x bucket2; stable 4 x bucket0, 1 x bucket1. Ranks by hand:
    // bucket0 ties 7 values ranks 1..7 → 4; bucket1 rank 8; bucket2 ranks 9,10 → 9.5.
    const r = mannWhitneyBuckets({ bounds, counts: [3, 0, 2, 0, 0] }, { bounds, counts: [4, 1, 0, 0, 0] });
    assert.equal(r.u, 3 * 4 + 2 * 9.5 - (5 * 6) / 2);
    const variance = ((5 * 5) / 12) * (11 - (7 ** 3 - 7 + 2 ** 3 - 2) / (10 * 9));
    assert.ok(Math.abs(r.z - (r.u - 12.5) / Math.sqrt(variance)) < 1e-12);
    assert.throws(() =>
      mannWhitneyBuckets({ bounds, counts: [1, 0, 0, 0, 0] }, { bounds: [1], counts: [1] }),
    );
  });

  it("quantiles interpolate inside a bucket", () => {
    assert.equal(quantile({ bounds, counts: [0, 10, 0, 0, 0] }, 0.5), 15);
    assert.equal(quantile({ bounds, counts: [0, 0, 0, 0, 0] }, 0.5), undefined);
  });
});

describe("rollout analysis", () => {
  it("too little traffic is inconclusive, never a pass, and fails at the limit", () => {
    const r = analyse(metrics(20, 0, [20, 0, 0, 0, 0]), metrics(500, 0, [500, 0, 0, 0, 0]), settings);
    assert.equal(r.outcome, "inconclusive");
    assert.equal(r.waitingFor, "traffic");
    assert.match(r.summary, /Too little traffic.*canary 20 requests/);
    assert.equal(decideStep(r, 1, 3).action, "wait");
    assert.equal(decideStep(r, 3, 3).action, "rollback");
  });

  it("explains an error regression with numbers", () => {
    const r = analyse(
      metrics(1000, 60, [1000, 0, 0, 0, 0]),
      metrics(9000, 180, [9000, 0, 0, 0, 0]),
      settings,
    );
    assert.equal(r.outcome, "fail");
    assert.match(r.summary, /5xx ratio: canary 6\.00% \(60\/1000\) vs stable 2\.00% \(180\/9000\)/);
  });

  it("an absolute guard fails even when stable is as bad", () => {
    const r = analyse(metrics(1000, 0, [0, 0, 0, 0, 1000]), metrics(1000, 0, [0, 0, 0, 0, 1000]), {
      ...settings,
      maxP95Ms: 50,
    });
    assert.equal(r.outcome, "fail");
    assert.match(r.summary, /p95 latency 80 ms is above the limit of 50 ms/);
  });

  it("a small seeded simulation separates aa from error2x", () => {
    const s = { ...settings, maxErrorRatio: 1, maxP95Ms: Number.MAX_VALUE };
    const aa = simulate("aa", 25, 2000, s, 6, 100, 7);
    const bad = simulate("error2x", 25, 2000, s, 6, 100, 8);
    assert.ok((aa.falseRollbackRate ?? 1) <= 0.03, JSON.stringify(aa));
    assert.ok((bad.detectionRate ?? 0) >= 0.9, JSON.stringify(bad));
  });
});

describe("rollout steps", () => {
  it("parses steps and durations", () => {
    assert.deepEqual(parseSteps("5,25,50,100"), [5, 25, 50, 100]);
    assert.throws(() => parseSteps("5,50"), /end at 100/);
    assert.throws(() => parseSteps("50,25,100"), /increase/);
    assert.equal(parseDuration("10m"), 600_000);
    assert.equal(parseDuration("250ms"), 250);
    assert.throws(() => parseDuration("10"), /30s, 10m/);
    // ms's long forms are accepted too; zero, negative and garbage are not.
    assert.equal(parseDuration("1.5h"), 5_400_000);
    assert.equal(parseDuration(" 10 minutes "), 600_000);
    for (const bad of ["0s", "-1h", "0.0001s", "soon", ""])
      assert.throws(() => parseDuration(bad), /30s, 10m or 1h; got/, bad);
  });
});
