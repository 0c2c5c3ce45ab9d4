import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { LlmSide, RegionSides, ScenarioInput, Side } from "../model/judgment/input";
import {
  comparisons,
  judgeLook,
  judgeScenario,
  levels,
  startRollout,
  startStep,
  type Verdict,
} from "../model/judgment/judge";
import { JUDGMENT_DEFAULTS, type JudgmentSettings } from "../model/judgment/settings";
import { isProviderError, latencySource, TOKEN_BUCKETS, TTFT_BUCKETS } from "../model/llm";
import { describeRun } from "./support/cliHarness";
import { lognormal } from "./support/llmData";
import { runInProcess } from "./support/inProcessCli";

/** The rollout judges a service's model calls: tokens per call, provider errors, and time to first token. */

const LATENCY = { numFiniteBuckets: 40, growthFactor: 1.4, scale: 1 };

interface SideShape {
  /** Requests, and as many model calls. */
  readonly n: number;
  readonly providerErrorRatio?: number;
  /** Median output tokens per call. */
  readonly tokens?: number;
  /** Median time to first token in seconds; none for a service that does not stream. */
  readonly ttft?: number;
  /** Median request latency in ms. */
  readonly latencyMs?: number;
  /** No model calls logged (a service without `llm`). */
  readonly plain?: boolean;
}

let seed = 1;
function side(o: SideShape): Side {
  const n = o.n;
  const e5 = Math.round(n * 0.001);
  const llm: LlmSide = {
    calls: n,
    providerErrors: Math.round(n * (o.providerErrorRatio ?? 0.01)),
    outputTokens: lognormal(n, o.tokens ?? 300, 0.6, TOKEN_BUCKETS, seed++),
    ...(o.ttft !== undefined ? { timeToFirstToken: lognormal(n, o.ttft, 0.4, TTFT_BUCKETS, seed++) } : {}),
  };
  return {
    requests: { "2xx": n - e5, "3xx": 0, "4xx": 0, "5xx": e5 },
    latencies: lognormal(n, o.latencyMs ?? 80, 0.4, LATENCY, seed++),
    ...(o.plain ? {} : { llm }),
  };
}

/** Canary and stable at `percent` of `total` requests per interval. */
const split = (
  percent: number,
  canary: Omit<SideShape, "n">,
  stable: Omit<SideShape, "n"> = {},
  total = 40_000,
) =>
  ({
    canary: side({ ...canary, n: (total * percent) / 100 }),
    stable: side({ ...stable, n: (total * (100 - percent)) / 100 }),
  }) satisfies RegionSides;

/** A whole rollout, 5 → 25 → 50 → 100, six intervals a step, fresh data each interval. */
function scenario(
  name: string,
  canary: Omit<SideShape, "n">,
  stable: Omit<SideShape, "n"> = {},
  total = 40_000,
): ScenarioInput {
  return {
    name,
    steps: [5, 25, 50, 100].map((percent) => ({
      percent,
      intervals: Array.from({ length: 6 }, () =>
        percent < 100
          ? split(percent, canary, stable, total)
          : { canary: side({ ...canary, n: total }), stable: side({ ...stable, n: 0 }) },
      ),
    })),
  };
}

const s: JudgmentSettings = JUDGMENT_DEFAULTS;
const tests = (vs: readonly Verdict[]) => [...new Set(vs.map((v) => v.test))].sort();

describe("the rollout judges model calls (model/judgment)", () => {
  it("an identical canary of a logging service is promoted", () => {
    const r = judgeScenario(scenario("same", {}), s);
    assert.equal(r.decision, "promote", r.reason);
  });

  it("a canary with 30% more output tokens per call is rolled back at the first step", () => {
    const r = judgeScenario(scenario("tokens x1.3", { tokens: 390 }), s);
    assert.deepEqual([r.decision, r.step], ["rollback", 5], r.reason);
    assert.match(
      r.reason,
      /Output tokens per model call: canary p50 \d+ tokens.*more tokens per call beyond x1\.15/,
    );
  });

  it("a canary with doubled provider errors (5xx and 429 of model calls) is rolled back at the first step", () => {
    const r = judgeScenario(scenario("provider x2", { providerErrorRatio: 0.02 }), s);
    assert.deepEqual([r.decision, r.step], ["rollback", 5], r.reason);
    assert.match(
      r.reason,
      /Provider errors \(5xx and 429\) of model calls: canary 2\.00% .* vs stable 1\.00%/,
    );
  });

  it("regressions within the margins are not a rollback: 10% more tokens, 20% more provider errors", () => {
    const r = judgeScenario(scenario("small", { tokens: 330, providerErrorRatio: 0.012 }), s);
    assert.equal(r.decision, "promote", r.reason);
  });

  it("--no-llm and the margins turn the model call tests off or loosen them", () => {
    const bad = scenario("tokens x1.3", { tokens: 390, providerErrorRatio: 0.02 });
    assert.equal(judgeScenario(bad, { ...s, llm: false }).decision, "promote");
    const loose: JudgmentSettings = {
      ...s,
      margins: { ...s.margins, tokens: 1.5, providerErrors: 2.5 },
      detect: { ...s.detect, tokens: 2, providerErrors: 4 },
    };
    assert.equal(judgeScenario(bad, loose).decision, "promote");
  });

  it("a service without `llm` is judged exactly as before: no model tests, the same levels", () => {
    const plain = split(5, { plain: true }, { plain: true });
    const state = startStep(startRollout(s), 5, [25, 50, 100]);
    const r = judgeLook(state, plain, s);
    assert.deepEqual(tests(r.verdicts), [
      "clientErrors",
      "errorGuard",
      "errors",
      "latency",
      "p95Guard",
      "sampleRatio",
      "slow",
      "traffic",
    ]);
    // The same data with model calls, judged with --no-llm, decides and explains identically.
    const withLlm = split(5, {}, {});
    const stripped: RegionSides = {
      canary: { ...withLlm.canary, llm: undefined },
      stable: { ...withLlm.stable, llm: undefined },
    };
    const a = judgeLook(state, withLlm, { ...s, llm: false });
    const b = judgeLook(state, stripped, s);
    assert.deepEqual(a.verdicts, b.verdicts);
    assert.equal(a.reason, b.reason);
  });

  it("a logging service's look runs six comparisons per region, each at a sixth of the comparisons' share", () => {
    const state = startStep(startRollout(s), 5, [25, 50, 100]);
    const r = judgeLook(state, split(5, {}, {}), s);
    assert.ok(tests(r.verdicts).includes("tokens") && tests(r.verdicts).includes("providerErrors"));
    const step = state.step!;
    const four = levels(step, 1, false, 1, s, comparisons(false));
    const six = levels(step, 1, false, 1, s, comparisons(true));
    assert.equal(four.look, six.look, "the look spends the same share of the budget");
    assert.ok(Math.abs(six.fail * 6 - four.fail * 4) < 1e-15);
  });

  it("at 100% only the guards run: stable serves nothing to compare model calls with", () => {
    const state = startStep(startRollout(s), 100, []);
    const r = judgeLook(state, { canary: side({ n: 1000 }), stable: side({ n: 0 }) }, s);
    assert.deepEqual(tests(r.verdicts), ["errorGuard", "p95Guard", "traffic"]);
  });
});

describe("a streaming service's latency is its time to first token (model/llm.ts latencySource)", () => {
  it("the decision: streaming services read the time-to-first-token metric, in seconds; others request latency", () => {
    assert.deepEqual(latencySource({ name: "api", llm: { streams: true } }), {
      kind: "timeToFirstToken",
      metric: "api_llm_time_to_first_token",
      perMs: 0.001,
    });
    assert.deepEqual(latencySource({ name: "api", llm: { streams: false } }), { kind: "request" });
    assert.deepEqual(latencySource({ name: "api" }), { kind: "request" });
  });

  it("provider errors are the 5xx and the 429s", () => {
    for (const ok of ["200", "400", "404", "428", "4290", "600", ""])
      assert.equal(isProviderError(ok), false, ok);
    for (const bad of ["429", "500", "503", "599"]) assert.equal(isProviderError(bad), true, bad);
  });

  it("a canary 30% slower to its first token is rolled back, though its whole requests are as fast", () => {
    const r = judgeScenario(scenario("ttft x1.3", { ttft: 0.52 }, { ttft: 0.4 }), s);
    assert.deepEqual([r.decision, r.step], ["rollback", 5], r.reason);
    assert.match(r.reason, /Time to first token: canary p50 5\d\d ms/);
  });

  it("longer streams (whole requests 30% slower) with the same first token are not a latency regression", () => {
    const r = judgeScenario(
      scenario("longer", { ttft: 0.4, latencyMs: 104 }, { ttft: 0.4, latencyMs: 80 }),
      s,
    );
    assert.equal(r.decision, "promote", r.reason);
    // Without time to first token the same request latencies roll back: the test reads what it should.
    const plain = judgeScenario(scenario("longer, not streaming", { latencyMs: 104 }, { latencyMs: 80 }), s);
    assert.equal(plain.decision, "rollback", plain.reason);
  });

  it("the p95 guard holds time to first token to the latency alert's threshold, in ms", () => {
    const state = startStep(startRollout(s), 5, [25, 50, 100]);
    const slowFirstToken = { canary: side({ n: 2000, ttft: 4 }), stable: side({ n: 38_000, ttft: 0.4 }) };
    const r = judgeLook(state, slowFirstToken, s);
    const guard = r.verdicts.find((v) => v.test === "p95Guard")!;
    assert.equal(guard.outcome, "fail");
    assert.match(
      guard.explanation,
      /^p95 guard \(time to first token\): \d+ of 2000 canary model calls surely above 2000 ms/,
    );
  });

  it("per-interval variance compares time to first token and tokens interval by interval", () => {
    const interval: JudgmentSettings = { ...s, variance: "interval" };
    assert.equal(judgeScenario(scenario("same", { ttft: 0.4 }, { ttft: 0.4 }), interval).decision, "promote");
    const r = judgeScenario(scenario("tokens x1.5", { tokens: 450, ttft: 0.4 }, { ttft: 0.4 }), interval);
    assert.equal(r.decision, "rollback", r.reason);
    assert.match(r.reason, /Output tokens per model call/);
  });
});

describe("orchestra rollout judge with model calls", () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-judge-llm-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const judge = async (input: unknown, ...flags: string[]) => {
    const file = path.join(dir, "in.json");
    fs.writeFileSync(file, JSON.stringify(input));
    return runInProcess(dir, ["rollout", "judge", "--input", file, "--json", ...flags]);
  };

  it("reads the optional llm object of each side, and prints the same document", async () => {
    const r = await judge({
      scenarios: [
        scenario("same", {}, {}, 10_000),
        scenario("tokens x1.3", { tokens: 390 }, {}, 10_000),
        scenario("ttft x1.3", { ttft: 0.52 }, { ttft: 0.4 }, 10_000),
      ],
    });
    assert.equal(r.status, 0, describeRun(r));
    const out = JSON.parse(r.stdout) as { scenarios: Record<string, unknown>[] };
    for (const x of out.scenarios)
      assert.deepEqual(Object.keys(x), ["name", "decision", "step", "interval", "reason"]);
    assert.deepEqual(
      out.scenarios.map((x) => [x.name, x.decision]),
      [
        ["same", "promote"],
        ["tokens x1.3", "rollback"],
        ["ttft x1.3", "rollback"],
      ],
    );
    const again = await judge(
      { scenarios: [scenario("tokens x1.3", { tokens: 390 }, {}, 10_000)] },
      "--no-llm",
    );
    assert.equal(
      (JSON.parse(again.stdout) as { scenarios: { decision: string }[] }).scenarios[0].decision,
      "promote",
    );
    const loose = await judge(
      { scenarios: [scenario("tokens x1.3", { tokens: 390 }, {}, 10_000)] },
      "--margins",
      "tokens=1.5",
      "--detect",
      "tokens=2",
    );
    assert.equal(
      (JSON.parse(loose.stdout) as { scenarios: { decision: string }[] }).scenarios[0].decision,
      "promote",
    );
  });

  it("a bad llm object is refused, naming the scenario and field", async () => {
    const bad = scenario("bad", {});
    const first = bad.steps[0].intervals[0] as RegionSides;
    const r = await judge({
      scenarios: [
        {
          ...bad,
          steps: [
            {
              ...bad.steps[0],
              intervals: [{ ...first, canary: { ...first.canary, llm: { calls: 3, providerErrors: 4 } } }],
            },
          ],
        },
      ],
    });
    assert.equal(r.status, 1, describeRun(r));
    assert.match(
      r.stderr,
      /scenario 0 \("bad"\): steps\[0\]\.intervals\[0\]\.canary\.llm\.providerErrors: providerErrors cannot exceed calls/,
    );
    const unknown = await judge({
      scenarios: [
        {
          ...bad,
          steps: [
            {
              ...bad.steps[0],
              intervals: [
                { ...first, canary: { ...first.canary, llm: { calls: 3, providerErrors: 0, tokens: 1 } } },
              ],
            },
          ],
        },
      ],
    });
    assert.equal(unknown.status, 1, describeRun(unknown));
    assert.match(unknown.stderr, /scenario 0 \("bad"\): steps\[0\]\.intervals\[0\]\.canary(\.llm)?/);
  });
});
