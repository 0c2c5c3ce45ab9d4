/**
 * `npm run bench [-- --json] [-- --quick] [-- --sizes] [-- --skip-tests] [-- --skip-runtime] [-- --write-docs]`:
 * the speed targets.
 *
 *  (a) cold `orchestra plan --stack prod` against the floor: a bare Node process that loads the same
 *      Pulumi modules the plan loaded (recorded from a plan run), as a ratio (target: at most 2x);
 *  (b) the test suite (`npm test`), wall time (target: under 30 s on a quiet 2-core machine), and the
 *      end-to-end tests with real processes (`npm run test:e2e`, one run), for information;
 *  (c) the policy pack started as `pulumi preview --policy-pack policy` starts it, from spawn to its
 *      first answered AnalyzeStack with prod's resources (target: under 5 s), beside its floor: Node
 *      loading @pulumi/policy alone;
 *  (d) the program run as `pulumi preview -s prod` runs it, from spawn to exit, for information.
 *  (c) and (d) run under the test harness's engine on 127.0.0.1 (tests/support/pulumiEngine.ts), one
 *      fresh harness process per run.
 *
 * With --sizes, also plan time on synthetic stacks of 1, 10, 50 and 100 services and the marginal
 * cost per declared resource (slope of a least-squares line through the medians), for information.
 *
 * Every run is a fresh process. Medians with min/max; the load average is noted with each series,
 * since other work on the machine slows every number.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeSyntheticProject, SYNTHETIC_STACK } from "./synthetic";

const ROOT = path.resolve(__dirname, "..");
const CLI = path.join(ROOT, "bin", "orchestra.js");

export const TARGETS = { planToFloor: 2, testSuiteMs: 30_000, packStartMs: 5_000 };
const SIZES = [1, 10, 50, 100];

interface Series {
  readonly runs: number[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** 1-minute load average before and after the series. */
  readonly load: [number, number];
}

function load1(): number {
  return Math.round(os.loadavg()[0] * 100) / 100;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function series(times: number, once: () => number): Series {
  const before = load1();
  const runs: number[] = [];
  for (let i = 0; i < times; i++) runs.push(Math.round(once()));
  return seriesOf(runs, [before, load1()]);
}

/**
 * Two measures taken in turns (a, b, a, b...), so that a machine that slows down or speeds up during
 * the series weighs on both alike: their ratio is what is compared.
 */
function pairedSeries(times: number, a: () => number, b: () => number): [Series, Series] {
  const before = load1();
  const runsA: number[] = [];
  const runsB: number[] = [];
  for (let i = 0; i < times; i++) {
    runsA.push(Math.round(a()));
    runsB.push(Math.round(b()));
  }
  const load: [number, number] = [before, load1()];
  return [seriesOf(runsA, load), seriesOf(runsB, load)];
}

function seriesOf(runs: number[], load: [number, number]): Series {
  return { runs, median: median(runs), min: Math.min(...runs), max: Math.max(...runs), load };
}

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-bench-state-"));
// Plan runs keep no history and suggest nothing; the test suite runs with this process's own environment.
const env = { ...process.env, NO_COLOR: "1", ORCHESTRA_STATE_DIR: stateDir, ORCHESTRA_NO_SUGGESTIONS: "1" };

/** Runs a command to completion; returns its wall time in ms, or throws with its output. */
function timed(
  command: string,
  args: string[],
  cwd: string,
  runEnv: NodeJS.ProcessEnv = env,
): { ms: number; stdout: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd, env: runEnv, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(" ")} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return { ms, stdout: r.stdout };
}

/** The @pulumi/* module files a plan of `stack` loads, in load order. */
function pulumiModulesOfPlan(cwd: string, stack: string): string[] {
  const out = path.join(stateDir, "modules.json");
  const recorder = path.join(stateDir, "record-modules.js");
  fs.writeFileSync(
    recorder,
    `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify(` +
      `Object.keys(require.cache).filter((k) => k.includes("${path.sep}node_modules${path.sep}@pulumi${path.sep}")))));\n`,
  );
  timed(process.execPath, ["-r", recorder, CLI, "plan", "--stack", stack], cwd);
  return JSON.parse(fs.readFileSync(out, "utf8")) as string[];
}

/** What one preview under the test harness measured (tests/support/pulumiEngine.ts `preview`). */
interface PreviewTimes {
  readonly programMs: number;
  readonly resources: number;
  readonly packPortMs: number;
  readonly packFirstAnalyzeStackMs: number;
}

/**
 * `times` previews of `stack`, each in a fresh harness process: the harness starts the program and the
 * policy pack as the Pulumi CLI does and reports their times. It is run, not imported: the bench sits
 * below the tests.
 */
function previews(times: number, stack: string): { runs: PreviewTimes[]; load: [number, number] } {
  const harness = path.join(ROOT, "tests", "support", "pulumiEngine.ts");
  const before = load1();
  const runs: PreviewTimes[] = [];
  for (let i = 0; i < times; i++) {
    const { stdout } = timed(
      process.execPath,
      ["--require", "@swc-node/register", harness, "preview", "--stack", stack],
      ROOT,
      process.env,
    );
    runs.push(JSON.parse(stdout.trim().split("\n").pop() ?? "") as PreviewTimes);
  }
  return { runs, load: [before, load1()] };
}

/** Least-squares slope and intercept of y over x. */
export function linearFit(
  xs: readonly number[],
  ys: readonly number[],
): { slope: number; intercept: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

function main(argv: string[]): void {
  const json = argv.includes("--json");
  const quick = argv.includes("--quick");
  const skipTests = argv.includes("--skip-tests");
  const skipRuntime = argv.includes("--skip-runtime");
  const withSizes = argv.includes("--sizes");
  const writeDocs = argv.includes("--write-docs");
  const runs = quick
    ? { plan: 3, sizes: 2, tests: 1, runtime: 3 }
    : { plan: 7, sizes: 3, tests: 3, runtime: 5 };
  const log = (msg: string) => {
    if (!json) process.stderr.write(`${msg}\n`);
  };

  // (a) prod plan against the floor.
  log("recording the Pulumi modules a prod plan loads...");
  const modules = pulumiModulesOfPlan(ROOT, "prod");
  const floorScript = path.join(stateDir, "floor.js");
  fs.writeFileSync(floorScript, `for (const m of ${JSON.stringify(modules)}) require(m);\n`);
  // The floor loads exactly these files, so it loads @pulumi/gcp whole only if the plan does.
  const gcpWhole = modules.some((m) => m.endsWith(path.join("@pulumi", "gcp", "index.js")));
  const gcpLoaded = gcpWhole ? "@pulumi/gcp whole" : "@pulumi/gcp by submodule";
  log(
    `floor: node loading the same ${modules.length} @pulumi module files, ${gcpLoaded}, and ` +
      `plan --stack prod, in turns (${runs.plan} runs each)`,
  );
  const [floor, plan] = pairedSeries(
    runs.plan,
    () => timed(process.execPath, [floorScript], ROOT).ms,
    () => timed(process.execPath, [CLI, "plan", "--stack", "prod"], ROOT).ms,
  );
  const ratio = Math.round((plan.median / floor.median) * 100) / 100;

  // Synthetic stacks, on request.
  const sizes = (withSizes ? SIZES : []).map((services) => {
    const project = makeSyntheticProject(ROOT, services);
    try {
      const rendered = JSON.parse(
        timed(process.execPath, [CLI, "plan", "--stack", SYNTHETIC_STACK, "--json"], project.dir).stdout,
      ) as { resources: unknown[] };
      log(`plan of ${services} services, ${rendered.resources.length} resources (${runs.sizes} runs)`);
      const s = series(
        runs.sizes,
        () => timed(process.execPath, [CLI, "plan", "--stack", SYNTHETIC_STACK], project.dir).ms,
      );
      return { services, resources: rendered.resources.length, ...s };
    } finally {
      project.cleanup();
    }
  });
  const fit = linearFit(
    sizes.map((s) => s.resources),
    sizes.map((s) => s.median),
  );
  const msPerResource = Math.round(fit.slope * 1000) / 1000;

  // (c) and (d): the policy pack and the program as the Pulumi CLI starts them.
  let runtime: { pack: Series; packFloor: Series; program: Series; resources: number } | undefined;
  if (!skipRuntime) {
    log(`policy pack and program under the Pulumi runtime, prod (${runs.runtime} runs)`);
    const previewed = previews(runs.runtime, "prod");
    log(`floor: node loading @pulumi/policy from policy/ (${runs.runtime} runs)`);
    const packFloor = series(
      runs.runtime,
      () => timed(process.execPath, ["-e", 'require("@pulumi/policy")'], path.join(ROOT, "policy")).ms,
    );
    runtime = {
      pack: seriesOf(
        previewed.runs.map((r) => r.packFirstAnalyzeStackMs),
        previewed.load,
      ),
      packFloor,
      program: seriesOf(
        previewed.runs.map((r) => r.programMs),
        previewed.load,
      ),
      resources: previewed.runs[0].resources,
    };
  }

  // (b) the test suite.
  let tests: Series | undefined;
  let e2e: Series | undefined;
  if (!skipTests) {
    log(`npm test (${runs.tests} runs)`);
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    tests = series(runs.tests, () => timed(npm, ["test", "--", "--reporter", "dot"], ROOT, process.env).ms);
    log("npm run test:e2e (1 run)");
    e2e = series(1, () => timed(npm, ["run", "test:e2e", "--", "--reporter", "dot"], ROOT, process.env).ms);
  }
  fs.rmSync(stateDir, { recursive: true, force: true });

  const targets = {
    planToFloor: { value: ratio, target: TARGETS.planToFloor, met: ratio <= TARGETS.planToFloor },
    ...(tests
      ? {
          testSuiteMs: {
            value: tests.median,
            target: TARGETS.testSuiteMs,
            met: tests.median < TARGETS.testSuiteMs,
          },
        }
      : {}),
    ...(runtime
      ? {
          packStartMs: {
            value: runtime.pack.median,
            target: TARGETS.packStartMs,
            met: runtime.pack.median < TARGETS.packStartMs,
          },
        }
      : {}),
  };
  const report = {
    machine: {
      cpus: os.availableParallelism(),
      node: process.version,
      loadAfter: os.loadavg().map((l) => Math.round(l * 100) / 100),
    },
    floor: { ...floor, moduleFiles: modules.length, gcpWholePackage: gcpWhole },
    plan,
    ratio,
    ...(withSizes ? { sizes, fit: { msPerResource, interceptMs: Math.round(fit.intercept) } } : {}),
    ...(tests ? { tests } : {}),
    ...(e2e ? { e2e } : {}),
    ...(runtime ? { runtime } : {}),
    targets,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const fmt = (s: Series) =>
    `median ${s.median} ms (min ${s.min}, max ${s.max}; load ${s.load[0]} -> ${s.load[1]})`;
  const mark = (met: boolean) => (met ? "met" : "NOT met");
  const lines = [
    `Machine: ${report.machine.cpus} CPUs, Node ${process.version}`,
    "",
    `(a) floor (node + the plan's ${modules.length} @pulumi module files, ${gcpLoaded}): ${fmt(floor)}`,
    `    orchestra plan --stack prod:                ${fmt(plan)}`,
    `    ratio ${ratio}x (target <= ${TARGETS.planToFloor}x: ${mark(targets.planToFloor.met)})`,
    "",
    tests
      ? `(b) npm test: ${fmt(tests)} (target < ${TARGETS.testSuiteMs} ms: ${mark(tests.median < TARGETS.testSuiteMs)})`
      : "(b) npm test: skipped (--skip-tests)",
    ...(e2e ? [`    npm run test:e2e (real processes, CI runs it too; no target): ${fmt(e2e)}`] : []),
    "",
    ...(runtime
      ? [
          `(c) policy pack, spawn to first answered AnalyzeStack (prod, ${runtime.resources} resources): ${fmt(runtime.pack)}`,
          `    (target < ${TARGETS.packStartMs} ms: ${mark(runtime.pack.median < TARGETS.packStartMs)})`,
          `    floor, node loading @pulumi/policy alone: ${fmt(runtime.packFloor)}`,
          `(d) the program as \`pulumi preview -s prod\` runs it, spawn to exit: ${fmt(runtime.program)}`,
        ]
      : ["(c), (d) policy pack and program under the Pulumi runtime: skipped (--skip-runtime)"]),
    ...(withSizes
      ? [
          "",
          "    services  resources  plan (--sizes)",
          ...sizes.map(
            (s) => `    ${String(s.services).padStart(8)}  ${String(s.resources).padStart(9)}  ${fmt(s)}`,
          ),
          `    marginal cost ${msPerResource} ms per declared resource; fixed ${Math.round(fit.intercept)} ms`,
        ]
      : []),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (writeDocs) writeLatestNumbers(lines, quick);
}

/** Puts this run's report between the markers of docs/performance.md, so the docs' numbers are measured ones. */
function writeLatestNumbers(lines: readonly string[], quick: boolean): void {
  const file = path.join(ROOT, "docs", "performance.md");
  const text = fs.readFileSync(file, "utf8");
  const begin = "<!-- bench:begin -->";
  const end = "<!-- bench:end -->";
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} has no ${begin} ... ${end} section to write into`);
  const run = `\`npm run bench${quick ? " -- --quick" : ""}\`, ${new Date().toISOString().slice(0, 10)}`;
  const block = [begin, "", `${run}:`, "", "```text", ...lines, "```", "", end].join("\n");
  fs.writeFileSync(file, text.slice(0, from) + block + text.slice(to + end.length));
  process.stderr.write(`wrote the numbers into ${path.relative(ROOT, file)}\n`);
}

if (require.main === module) main(process.argv.slice(2));
