import * as assert from "node:assert/strict";
import fc from "fast-check";
import binomialCdf from "@stdlib/stats-base-dists-binomial-cdf";
import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import tCdf from "@stdlib/stats-base-dists-t-cdf";
import {
  addBuckets,
  bucketBounds,
  commonBuckets,
  countFrom,
  countPossiblyAbove,
  quantile,
  quantileEdge,
  toBuckets,
  total,
  type Buckets,
} from "../model/judgment/distribution";
import { binomialLower, binomialUpper, normalUpper, studentUpper } from "../model/judgment/exact";
import type { Interval, RegionSides, ScenarioInput, Side } from "../model/judgment/input";
import {
  detectable5xx,
  judgeLook,
  judgeScenario,
  startRollout,
  startStep,
  type JudgeState,
} from "../model/judgment/judge";
import { JUDGMENT_DEFAULTS, type JudgmentSettings } from "../model/judgment/settings";
import { detectableRatio, mannWhitney, meanAbove, rateAbove, rateBelow } from "../model/judgment/tests";
import { parseDuration, parseSteps } from "../cli/rollout/steps";

const close = (actual: number, expected: number, relative = 1e-9) =>
  assert.ok(
    Math.abs(actual - expected) <= relative * Math.max(Math.abs(expected), 1e-300),
    `${actual} is not within ${relative} of ${expected}`,
  );

describe("judgment numerics (model/judgment/exact.ts)", () => {
  it("the exact one-sided count test gives the check values", () => {
    // Canary x of n vs stable x of n, margin 1: P(X >= xc), X ~ Binomial(xc + xs, nc / (nc + ns)).
    close(rateAbove(1, 100, 0, 1900, 1), 0.05);
    close(rateAbove(2, 1000, 2, 19000, 1), 0.01401875, 1e-6);
    // 1 - P(X <= 5), X ~ Binomial(25, 0.05): 0.0012130 (python: sum(comb(25,k) .05^k .95^(25-k), k >= 6)).
    close(rateAbove(6, 1000, 19, 19000, 1), 0.00121296132209725, 1e-9);
  });

  it("binomial tails match @stdlib's binomial CDF, deep into both tails", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.double({ min: 1e-4, max: 0.9999, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n, p, at) => {
          const k = Math.floor(at * n);
          const lower = binomialCdf(k, n, p);
          const upper = 1 - binomialCdf(k - 1, n, p);
          // Relative agreement where the reference keeps precision (above 1e-12), absolute below.
          const near = (a: number, b: number) => Math.abs(a - b) <= Math.max(1e-9 * b, 1e-12);
          return near(binomialLower(k, n, p), lower) && near(binomialUpper(k, n, p), upper);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("tails are summed in log space: exact far out, and below 1e-308 they are 0, never NaN", () => {
    close(binomialUpper(9, 9, 0.05), 0.05 ** 9, 1e-12);
    assert.equal(binomialUpper(5000, 10000, 0.01), 0);
    assert.equal(binomialLower(0, 100_000, 0.5), 0);
    close(binomialUpper(61000, 1_200_000, 0.05), 1.4825096355974843e-5, 1e-6);
  });

  it("the normal and Student t tails match @stdlib", () => {
    // P(X > x) = P(X < -x): the reference's lower tail keeps its precision far out.
    for (const z of [-3, -1, 0, 0.5, 2, 4, 6, 8]) close(normalUpper(z), normalCdf(-z, 0, 1), 2e-7);
    for (const df of [1, 2, 5, 30])
      for (const t of [-2, 0.3, 1.5, 4, 10]) close(studentUpper(t, df), tCdf(-t, df), 1e-9);
  });
});

const exp = (n: number, g: number, scale: number) => ({
  exponentialBuckets: { numFiniteBuckets: n, growthFactor: g, scale },
});

describe("latency distributions (model/judgment/distribution.ts)", () => {
  it("every layout has its edges: exponential, linear, explicit", () => {
    assert.deepEqual(bucketBounds(exp(3, 2, 1)), [1, 2, 4, 8]);
    assert.deepEqual(
      bucketBounds({ linearBuckets: { numFiniteBuckets: 3, width: 10, offset: 5 } }),
      [5, 15, 25, 35],
    );
    assert.deepEqual(bucketBounds({ explicitBuckets: { bounds: [10, 100] } }), [10, 100]);
  });

  it("trailing zeros may be left out; counts that cannot fit the layout are refused", () => {
    const b = toBuckets({ count: 3, bucketOptions: exp(3, 2, 1), bucketCounts: [0, 3] });
    assert.deepEqual(b.counts, [0, 3, 0, 0, 0]);
    assert.throws(
      () => toBuckets({ count: 3, bucketOptions: exp(1, 2, 1), bucketCounts: [0, 1, 1, 1] }),
      /bucketCounts has 4 entries but the layout has 3 buckets/,
    );
    assert.throws(
      () => toBuckets({ count: 5, bucketOptions: exp(3, 2, 1), bucketCounts: [0, 3] }),
      /count is 5 but bucketCounts add up to 3/,
    );
    assert.throws(
      () => toBuckets({ count: 0, bucketOptions: { explicitBuckets: { bounds: [5, 5] } }, bucketCounts: [] }),
      /strictly increasing/,
    );
  });

  it("differing layouts are coarsened onto their shared edges, never split", () => {
    const fine = toBuckets({ count: 8, bucketOptions: exp(4, 2, 1), bucketCounts: [1, 1, 2, 1, 1, 2] });
    const coarse = toBuckets({ count: 4, bucketOptions: exp(2, 4, 1), bucketCounts: [1, 1, 1, 1] });
    const [a, b] = commonBuckets(fine, coarse);
    assert.deepEqual(a.bounds, [1, 4, 16]);
    assert.deepEqual(a.counts, [1, 3, 2, 2]);
    assert.deepEqual(b.counts, [1, 1, 1, 1]);
    // Unrelated layouts share no edge: all in one bucket, which no rank test can tell apart.
    const linear = toBuckets({
      count: 2,
      bucketOptions: { linearBuckets: { numFiniteBuckets: 2, width: 3, offset: 3 } },
      bucketCounts: [0, 2],
    });
    const [x, y] = commonBuckets(fine, linear);
    assert.deepEqual([x.counts, y.counts], [[8], [2]]);
    assert.equal(total(addBuckets(fine, linear)), 10);
    assert.equal(mannWhitney(x, y).pValue, 1);
  });

  it("quantiles interpolate in their bucket; edges and counts above a value", () => {
    const b: Buckets = { bounds: [10, 20, 40, 80], counts: [0, 10, 0, 0, 0] };
    assert.equal(quantile(b, 0.5), 15);
    assert.equal(quantile({ bounds: [10], counts: [0, 0] }, 0.5), undefined);
    assert.equal(quantile({ bounds: [10], counts: [0, 4] }, 0.5), 10, "overflow: its lower edge");
    const c: Buckets = { bounds: [10, 20, 40, 80], counts: [5, 80, 10, 4, 1] };
    assert.equal(quantileEdge(c, 0.95), 40);
    assert.equal(countFrom(c, 40), 5);
    assert.equal(countFrom(c, 30), 5, "a bucket straddling 30 is not surely above it");
    assert.equal(countPossiblyAbove(c, 30), 15);
  });
});

describe("judgment tests (model/judgment/tests.ts)", () => {
  it("a margin moves the count test: a regression smaller than the margin is not significant", () => {
    // 60/1000 vs 950/19000 is x1.2: with margin 1 it is significant, with margin 1.25 it is not.
    assert.ok(rateAbove(60, 1000, 950, 19000, 1) < 0.1);
    assert.ok(rateAbove(60, 1000, 950, 19000, 1.25) > 0.5);
    // And the pass side: x1.2 rules out x2.
    assert.ok(rateBelow(60, 1000, 950, 19000, 2) < 1e-4);
    // No events at all is no evidence either way.
    assert.equal(rateBelow(0, 1000, 0, 19000, 2), 1);
  });

  it("p-values grow with the margin (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 2000 }),
        fc.double({ min: 1, max: 3, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (xc, xr, m, dm) =>
          rateAbove(xc, 1000, xr, 19000, m) <= rateAbove(xc, 1000, xr, 19000, m + dm) + 1e-12,
      ),
    );
  });

  it("Mann-Whitney on buckets equals the tie-corrected test on the expanded samples", () => {
    // canary 3 x bucket0, 2 x bucket2; reference 4 x bucket0, 1 x bucket1. Ranks: bucket0 ties
    // 7 values, ranks 1..7 → 4; bucket1 rank 8; bucket2 ranks 9, 10 → 9.5.
    const bounds = [10, 20, 40, 80];
    const r = mannWhitney({ bounds, counts: [3, 0, 2, 0, 0] }, { bounds, counts: [4, 1, 0, 0, 0] });
    assert.equal(r.u, 3 * 4 + 2 * 9.5 - (5 * 6) / 2);
    const variance = ((5 * 5) / 12) * (11 - (7 ** 3 - 7 + 2 ** 3 - 2) / (10 * 9));
    close(r.z, (r.u - 12.5) / Math.sqrt(variance), 1e-12);
  });

  it("per-interval variance: a one-sided t-test on the intervals' values", () => {
    close(meanAbove([1, 2, 3, 4], 1), 1 - tCdf(1.5 / (Math.sqrt(5 / 3) / 2), 3), 1e-9);
    assert.equal(meanAbove([1], 0), 1, "one interval says nothing about the spread");
    assert.equal(meanAbove([2, 2, 2], 0), 1, "no spread: no evidence");
  });

  it("the detectable ratio shrinks with traffic and is rejected when counts come out as expected", () => {
    const a = detectableRatio(1000, 20, 19000, 1.25, 1e-4);
    const b = detectableRatio(10000, 200, 190000, 1.25, 1e-4);
    assert.ok(a > b && b > 1.25, `${a} ${b}`);
    assert.ok(rateAbove(Math.ceil((a * 20 * 1000) / 19000), 1000, 20, 19000, 1.25) < 1e-4);
  });
});

// ---- judgeLook and judgeScenario ----------------------------------------------------------------

const LAYOUT = { explicitBuckets: { bounds: [50, 100, 200, 400] } };
/** `n` requests, `e5` 5xx and `e4` 4xx, latencies spread by `shape` over <50, 50-100, 100-200, 200-400, >=400 ms. */
function side(n: number, e5 = 0, e4 = 0, shape = [30, 50, 15, 5, 0]): Side {
  const w = shape.reduce((a, b) => a + b, 0);
  const counts = shape.map((s) => Math.floor((s / w) * n));
  counts[1] += n - counts.reduce((a, b) => a + b, 0);
  return {
    requests: { "2xx": n - e5 - e4, "3xx": 0, "4xx": e4, "5xx": e5 },
    latencies: { count: n, bucketOptions: LAYOUT, bucketCounts: counts },
  };
}
const SLOW = [5, 25, 40, 25, 5];
const s: JudgmentSettings = { ...JUDGMENT_DEFAULTS, maxIntervals: 6 };
const stepOf = (percent: number, later: number[] = []) => startStep(startRollout(s), percent, later);
const look = (state: JudgeState, interval: Interval, settings = s, last = false) =>
  judgeLook(state, interval, settings, last);

describe("judgeLook", () => {
  it("guards from the first request: a canary failing every one of 9 requests rolls back at the first look", () => {
    const r = look(stepOf(5, [25, 50, 100]), { canary: side(9, 9), stable: side(171, 1) });
    assert.equal(r.decision, "rollback");
    assert.equal(r.look, 1);
    assert.match(r.reason, /5xx guard: canary 100% \(9\/9\) against the limit 5%; above it \(p = 2\.0e-12\)/);
  });

  it("a canary answering every request with a fast 4xx rolls back at the first look", () => {
    const r = look(stepOf(5), { canary: side(50, 0, 50, [100, 0, 0, 0, 0]), stable: side(950, 5, 20) });
    assert.equal(r.decision, "rollback");
    assert.match(r.reason, /4xx ratio: canary 100% \(50\/50\)/);
  });

  it("one 5xx against none is not a rollback (exact test, not a z-test's 6.5e-6)", () => {
    const r = look(stepOf(5), { canary: side(100, 1, 2), stable: side(1900, 0, 38) });
    assert.notEqual(r.decision, "rollback");
    const errors = r.verdicts.find((v) => v.test === "errors")!;
    // With the 1.25 margin the canary's share of the one 5xx is 125 / (125 + 1900).
    close(errors.values.failP ?? 0, 125 / 2025);
  });

  it("passes early only on evidence; with no 5xx anywhere it cannot, and decides at the last look", () => {
    let state = stepOf(25, [50, 100]);
    let r = look(state, { canary: side(1000, 0, 20), stable: side(3000, 0, 60) });
    assert.equal(r.decision, "wait");
    assert.match(r.reason, /not yet ruled out: .*errors/);
    for (let i = 2; i <= 6; i++) {
      state = r.state;
      r = look(state, { canary: side(1000, 0, 20), stable: side(3000, 0, 60) });
    }
    assert.equal(r.decision, "advance");
    assert.equal(r.look, 6);
    assert.match(
      r.reason,
      /Decided at look 6 on what was seen: .*smallest regression this traffic could detect: 5xx/,
    );
  });

  it("a rare 5xx the step cannot catch is not waited for: the pass rules out what the step could detect", () => {
    // 5% step, 1,000 canary requests a look, a 0.1% 5xx ratio on both sides, counts as expected.
    const run = (perLook: number) => {
      let state = stepOf(5, [25, 50, 100]);
      const stable = perLook * 19;
      for (let i = 1; i <= 6; i++) {
        const r = look(state, {
          canary: side(perLook, perLook / 1000, perLook / 50),
          stable: side(stable, stable / 1000, stable / 50),
        });
        const errors = r.verdicts.find((v) => v.test === "errors")!;
        if (r.decision !== "wait") return { r, detect: errors.values.detect ?? NaN };
        state = r.state;
      }
      throw new Error("no decision in six looks");
    };
    const quiet = run(1000);
    assert.equal(quiet.r.decision, "advance");
    assert.ok(quiet.r.look < 6, `advanced at look ${quiet.r.look}`);
    assert.ok(quiet.detect > 2.5 && quiet.detect < 4, `ruled out x${quiet.detect}`);
    assert.match(quiet.r.reason, /every regression the judgment must catch is ruled out/);
    // With ten times the traffic x2 is within reach, and x2 is what a pass rules out.
    const busy = run(10_000);
    assert.equal(busy.r.decision, "advance");
    assert.equal(busy.detect, 2);
  });

  it("a regression within the margin is never a rollback, however much traffic", () => {
    // x1.15 at a 2% 5xx ratio with 10 million canary requests: inside the 1.25 margin.
    const r = look(stepOf(50, [100]), {
      canary: side(1e7, 230_000, 200_000),
      stable: side(1e7, 200_000, 200_000),
    });
    assert.notEqual(r.decision, "rollback");
  });

  it("each region is judged on its own: a regression in a small region is not diluted", () => {
    const r = look(stepOf(5), {
      regions: {
        "europe-west1": { canary: side(50_000, 1000, 1000), stable: side(950_000, 19_000, 19_000) },
        "us-central1": { canary: side(2000, 160, 40), stable: side(38_000, 760, 760) },
      },
    });
    assert.equal(r.decision, "rollback");
    assert.match(r.reason, /\[us-central1\] 5xx ratio: canary 8\.00% \(160\/2000\) vs stable 2\.00%/);
    assert.ok(!r.reason.includes("[europe-west1]"));
  });

  it("like with like: a canary as slow as the fresh baseline is not rolled back; against warm stable it is", () => {
    const interval: RegionSides = {
      canary: side(2000, 40, 40, SLOW),
      baseline: side(2000, 40, 40, SLOW),
      stable: side(36_000, 720, 720),
    };
    assert.notEqual(look(stepOf(5), interval).decision, "rollback");
    const off = look(stepOf(5), interval, { ...s, baseline: false });
    assert.equal(off.decision, "rollback");
    assert.match(off.reason, /Latency: .* vs stable/);
  });

  it("a traffic split far from the configured percent is not trusted: no pass, and a rollback at the last look", () => {
    const interval = { canary: side(5000, 50, 100), stable: side(5000, 50, 100) };
    const r = look(stepOf(5), interval, s, true);
    assert.equal(r.decision, "rollback");
    assert.match(r.reason, /traffic split does not match the configured 5%.*cannot be trusted/);
    assert.ok(r.verdicts.some((v) => v.test === "sampleRatio" && v.outcome === "fail"));
  });

  it("at 100% only the guards are judged, and they can pass on their own", () => {
    const r = look(stepOf(100), { canary: side(20_000, 100, 200), stable: side(0) });
    assert.equal(r.decision, "advance");
    assert.deepEqual([...new Set(r.verdicts.map((v) => v.test))].sort(), [
      "errorGuard",
      "p95Guard",
      "traffic",
    ]);
  });

  it("too little traffic never passes: the last look rolls back", () => {
    const r = look(stepOf(5), { canary: side(20, 0, 0), stable: side(380, 0, 8) }, s, true);
    assert.equal(r.decision, "rollback");
    assert.match(r.reason, /Too little traffic to verify the canary after 1 look/);
  });

  it("per-interval variance: intervals that disagree are no evidence, where pooled requests would be", () => {
    const perInterval: JudgmentSettings = { ...s, variance: "interval" };
    const decide = (settings: JudgmentSettings) => {
      let state = stepOf(25, [50, 100]);
      let r = look(state, { canary: side(1000, 5, 20), stable: side(3000, 60, 60) }, settings);
      for (const e of [95, 5, 95]) {
        state = r.state;
        r = look(state, { canary: side(1000, e, 20), stable: side(3000, 60, 60) }, settings);
        if (r.decision !== "wait") break;
      }
      return r;
    };
    assert.equal(decide(s).decision, "rollback");
    assert.equal(decide(perInterval).decision, "wait");
  });

  it("the budget: looks spend it by the schedule, never more than the total, and it carries across steps", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 8 }),
        (looksPerStep, maxIntervals) => {
          const settings = { ...s, maxIntervals };
          const percents = looksPerStep.map((_, i) => (i === looksPerStep.length - 1 ? 100 : 5 * (i + 1)));
          let state = startRollout(settings);
          for (const [i, n] of looksPerStep.entries()) {
            state = startStep(state, percents[i], percents.slice(i + 1));
            for (let k = 1; k <= Math.min(n, maxIntervals); k++)
              state = look(state, { canary: side(0), stable: side(0) }, settings, k === n).state;
            if (state.budget.spent > settings.budget * (1 + 1e-12)) return false;
          }
          return true;
        },
      ),
    );
    // A step that spends all its looks leaves the later steps their shares.
    let state = stepOf(5, [25, 50, 100]);
    for (let k = 1; k <= 6; k++) state = look(state, { canary: side(0), stable: side(0) }).state;
    close(state.budget.spent, 0.01 / 3.25);
  });
});

describe("judgeScenario", () => {
  const healthy = (percent: number): RegionSides => ({
    canary: side(100 * percent, percent * 2, percent * 2),
    stable: side(100 * (100 - percent), (100 - percent) * 2, (100 - percent) * 2),
  });
  const scenario = (steps: ScenarioInput["steps"]): ScenarioInput => ({ name: "s", steps });

  it("promotes after the last step passes, saying where", () => {
    const r = judgeScenario(
      scenario([5, 25, 50, 100].map((p) => ({ percent: p, intervals: Array(6).fill(healthy(p)) }))),
      s,
    );
    assert.equal(r.decision, "promote");
    assert.equal(r.step, 100);
    assert.equal(r.interval, 1);
    assert.match(r.reason, /^Every step passed; the last: /);
  });

  it("a step whose intervals run out is decided as at its last look", () => {
    const r = judgeScenario(
      scenario([
        { percent: 5, intervals: [healthy(5), healthy(5)] },
        { percent: 100, intervals: [healthy(100)] },
      ]),
      s,
    );
    assert.equal(r.decision, "promote");
    const cut = judgeScenario(scenario([{ percent: 5, intervals: [healthy(5)] }]), { ...s, maxIntervals: 1 });
    assert.equal(cut.interval, 1);
  });

  it("rolls back where the regression shows, 1-based", () => {
    const bad: RegionSides = { canary: side(500, 60, 10), stable: side(9500, 190, 190) };
    const r = judgeScenario(
      scenario([
        { percent: 5, intervals: [healthy(5), bad, bad, bad] },
        { percent: 100, intervals: [healthy(100)] },
      ]),
      s,
    );
    assert.deepEqual([r.decision, r.step], ["rollback", 5]);
    assert.ok(r.interval >= 2 && r.interval <= 4, String(r.interval));
  });

  it("what the defaults can detect shrinks as traffic grows (--dry-run prints it)", () => {
    const low = detectable5xx([5, 25, 50, 100], 200, 0.001, s);
    const high = detectable5xx([5, 25, 50, 100], 10_000, 0.001, s);
    assert.deepEqual(
      low.map((d) => d.percent),
      [5, 25, 50],
    );
    assert.ok(
      low.every((d, i) => d.ratio > high[i].ratio),
      JSON.stringify({ low, high }),
    );
    assert.ok(high[0].ratio < 2, "x2 at a 0.1% base is detectable at 10,000 requests an interval");
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
