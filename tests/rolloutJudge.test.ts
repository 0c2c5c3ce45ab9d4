import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describeRun } from "./support/cliHarness";
import { errors, healthy, side, steps } from "./support/judgeInput";
import { runInProcess } from "./support/inProcessCli";

describe("orchestra rollout judge", function () {
  let dir: string;
  const write = (name: string, value: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
    return file;
  };
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-judge-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("prints exactly { scenarios: [{ name, decision, step, interval, reason }] } with --json", async () => {
    const input = write("in.json", {
      scenarios: [
        { name: "healthy", steps: steps(healthy) },
        { name: "5xx x3", steps: steps((p) => errors(p, 3)) },
        {
          name: "per region",
          steps: steps((p) => ({ regions: { "europe-west1": healthy(p), "us-central1": errors(p, 4) } })),
        },
      ],
    });
    const r = await runInProcess(dir, ["rollout", "judge", "--input", input, "--json"]);
    assert.equal(r.status, 0, describeRun(r));
    const out = JSON.parse(r.stdout) as { scenarios: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(out), ["scenarios"]);
    for (const s of out.scenarios)
      assert.deepEqual(Object.keys(s), ["name", "decision", "step", "interval", "reason"]);
    const [ok, bad, region] = out.scenarios;
    assert.deepEqual([ok.name, ok.decision, ok.step], ["healthy", "promote", 100]);
    // The first look tests at the strictest level of the step's spending schedule; the second rolls back.
    assert.deepEqual([bad.decision, bad.step, bad.interval], ["rollback", 5, 2]);
    assert.match(String(bad.reason), /5xx ratio: canary 3\.00% \(60\/2000\) vs stable 1\.00% \(380\/38000\)/);
    assert.deepEqual([region.decision, region.step], ["rollback", 5]);
    assert.match(String(region.reason), /\[us-central1\] 5xx ratio/);
  });

  it("the analysis flags change the decision the same way they change a rollout's", async () => {
    const input = write("margin.json", {
      scenarios: [{ name: "x1.6", steps: steps((p) => errors(p, 1.6)) }],
    });
    const run = async (...flags: string[]) => {
      const r = await runInProcess(dir, ["rollout", "judge", "--input", input, "--json", ...flags]);
      assert.equal(r.status, 0, describeRun(r));
      return (JSON.parse(r.stdout) as { scenarios: { decision: string }[] }).scenarios[0].decision;
    };
    assert.equal(await run(), "rollback");
    assert.equal(await run("--margins", "5xx=2", "--detect", "5xx=3"), "promote");
  });

  it("judges thousands of scenarios in one call", async () => {
    const scenarios = Array.from({ length: 3000 }, (_, i) => ({
      name: `s${i}`,
      steps: steps((p) => errors(p, i % 2 === 0 ? 1 : 5), 2),
    }));
    const input = write("many.json", { scenarios });
    const r = await runInProcess(dir, ["rollout", "judge", "--input", input, "--json"]);
    assert.equal(r.status, 0, describeRun(r));
    const out = JSON.parse(r.stdout) as { scenarios: { name: string; decision: string }[] };
    assert.equal(out.scenarios.length, 3000);
    assert.deepEqual(
      out.scenarios.slice(0, 4).map((s) => s.decision),
      ["promote", "rollback", "promote", "rollback"],
    );
  });

  it("a bad input names the scenario (index and name) and the field, and judges nothing", async () => {
    const good = { name: "fine", steps: steps(healthy, 1) };
    const broken = structuredClone(good);
    (broken.steps[1].intervals[0].canary.latencies as { bucketCounts: number[] }).bucketCounts =
      Array(50).fill(1);
    const cases: [unknown, RegExp][] = [
      [
        { scenarios: [good, { ...broken, name: "too many buckets" }] },
        /scenario 1 \("too many buckets"\): steps\[1\]\.intervals\[0\]\.canary\.latencies: bucketCounts has 50 entries but the layout has 42 buckets/,
      ],
      [
        { scenarios: [{ ...good, steps: [{ percent: 150, intervals: [] }] }] },
        /scenario 0 \("fine"\): steps\[0\]\.percent: .*100[\s\S]*steps\[0\]\.intervals: needs at least one interval/,
      ],
      [
        { scenarios: [{ name: "x", steps: [{ percent: 5, intervals: [{ canary: side(1, 0) }] }] }] },
        /scenario 0 \("x"\): steps\[0\]\.intervals\[0\]/,
      ],
      [{ scenario: [] }, /is not a valid judge input/],
      ["{ not json", /is not JSON/],
    ];
    for (const [value, message] of cases) {
      const input = write("bad.json", value);
      const r = await runInProcess(dir, ["rollout", "judge", "--input", input, "--json"]);
      assert.equal(r.status, 1, describeRun(r));
      assert.match(r.stderr, message);
      // With --json, stdout holds one error document (as every --json command's failure does).
      const doc = JSON.parse(r.stdout) as { ok: boolean; error: { kind: string; message: string } };
      assert.equal(doc.ok, false);
      assert.match(doc.error.message, message);
    }
    const missing = await runInProcess(dir, ["rollout", "judge", "--input", path.join(dir, "nope.json")]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /Cannot read the judge input .*nope\.json: ENOENT/);
  });

  it("bad analysis flags are usage errors (exit 2) naming the option", async () => {
    const input = write("ok.json", { scenarios: [] });
    for (const [flags, message] of [
      [["--budget", "2"], /option '--budget <probability>' argument '2' is invalid.*between 0 and 1/],
      [["--margins", "5xx=0.5"], /A ratio is at least 1/],
      [["--margins", "p99=2"], /metrics 5xx, 4xx, slow, latency/],
      [["--variance", "minute"], /"request" .* or "interval"/],
      [["--margins", "5xx=3"], /detect errors must be above its margin/],
    ] as const) {
      const r = await runInProcess(dir, ["rollout", "judge", "--input", input, ...flags]);
      assert.equal(r.status, 2, describeRun(r));
      assert.match(r.stderr, message);
    }
  });
});
