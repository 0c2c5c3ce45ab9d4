import { smokeSkipReason } from "../../model/queue";
import * as fs from "node:fs";
import * as path from "node:path";
import pc from "picocolors";
import type { RolloutFlags } from "../commands/rollout";
import { CliError, projectDir } from "../output";
import { loadValidStack } from "../stackEditor";
import type { StackConfig } from "../../model/types";
import {
  runRollout,
  rolloutSettings,
  type FinalState,
  type ProgressEvent,
  type RolloutDeps,
  type RolloutOptions,
  type RolloutReport,
} from "./machine";
import {
  smokeCheck,
  systemClock,
  type Clock,
  type IntervalSource,
  type LiveCloudRun,
  type PulumiDriver,
} from "./ports";
import { judgmentSettings } from "./judgmentFlags";
import { oneLine } from "./pulumiErrors";
import { detectable5xx } from "../../model/judgment/judge";
import type { JudgmentSettings } from "../../model/judgment/settings";
import { reportMarkdown } from "./report";
import { writeAtomic } from "./state";
import { formatDuration } from "./steps";
import { recordedRollout, reportPathProblem, rolloutTarget, RolloutRefusal } from "./target";
import type { RolloutState } from "./state";
import {
  acceptGate,
  findingLines,
  gateSources,
  runGate,
  type GateResult,
  type GateSources,
} from "../supplyChain/gate";

/** The flags, already parsed by commander (cli/commands/options.ts), as the rollout takes them. */
export function parseOptions(dir: string, service: string, f: RolloutFlags): RolloutOptions {
  if (f.image && f.resume)
    throw new CliError("--resume continues the recorded rollout: leave out --image.", 2);
  try {
    judgmentSettings(f); // settings that do not fit together are a usage error, before anything runs
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
  if (f.withBaseline && f.resume)
    throw new CliError(
      "--resume continues the recorded rollout, baseline or not: leave out --with-baseline.",
      2,
    );
  return {
    dir,
    stack: f.stack,
    service,
    image: f.image,
    ...(f.withBaseline ? { baseline: true } : {}),
    ...(f.allowVulnerable ? { allowVulnerable: f.allowVulnerable } : {}),
    steps: f.steps,
    intervalMs: f.interval,
    metricsLagMs: f.metricsLag,
    maxIntervals: f.maxIntervals,
    readyTimeoutMs: f.readyTimeout,
    maxFailedReads: f.maxFailedReads,
    resume: Boolean(f.resume),
    analysis: {
      minRequests: f.minRequests,
      budget: f.budget,
      passRisk: f.passRisk,
      margins: f.margins,
      detect: f.detect,
      baseline: f.baseline,
      variance: f.variance,
      llm: f.llm,
      maxErrorRatio: f.maxErrorRatio,
      maxP95: f.maxP95,
    },
  };
}

/** Where output goes: process.stdout and process.stderr, or a test's capture. */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Where SIGINT and SIGTERM come from: the process, or a test's emitter. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

/**
 * Everything a rollout touches outside the project folder. The CLI uses the real clients
 * (processRuntime); tests put stand-ins in, so the report files, the step summary and the progress
 * output are exercised end to end.
 */
export interface RolloutRuntime {
  /** The folder holding Pulumi.yaml. */
  readonly dir: string;
  /** Relative --report paths are resolved from here. */
  readonly cwd: string;
  readonly pulumi: () => Promise<PulumiDriver>;
  readonly intervals: (project: string) => Promise<IntervalSource>;
  readonly live: (project: string) => Promise<LiveCloudRun>;
  /** Where the vulnerability gate reads (a dry run reads it too). */
  readonly gate: GateSources;
  readonly clock: Clock;
  readonly smoke: RolloutDeps["smoke"];
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signals: SignalSource;
  /** Quits at once: a second Ctrl-C. */
  readonly exit: (code: number) => void;
}

/** The production runtime: the Automation API, Cloud Monitoring, Cloud Run's Admin API, real time, this process. */
export function processRuntime(): RolloutRuntime {
  return {
    dir: projectDir(),
    cwd: process.cwd(),
    // Loaded on use, so that tests and dry runs never load the Automation API or the Google clients.
    /* eslint-disable @typescript-eslint/no-require-imports */
    pulumi: async () =>
      new (require("./automation") as typeof import("./automation")).AutomationPulumiDriver(process.env),
    intervals: async (project) =>
      new (require("./cloudMonitoring") as typeof import("./cloudMonitoring")).CloudMonitoringIntervalSource(
        project,
      ),
    live: async (project) =>
      new (require("../live/liveCloudRun") as typeof import("../live/liveCloudRun")).AdminApiLiveCloudRun(
        project,
        process.env,
      ),
    /* eslint-enable @typescript-eslint/no-require-imports */
    gate: gateSources(process.env),
    clock: systemClock,
    smoke: (url, headers) => smokeCheck(url, headers),
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signals: process,
    exit: (code) => process.exit(code),
  };
}

/** Exit codes of a rollout ended by a signal: 128 + the signal's number, as shells report them. */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** The exit code of each end; docs/cli.md and `--help` list them. */
export const EXIT_CODES: Readonly<Record<FinalState, number>> = {
  promoted: 0,
  "rolled back": 1,
  interrupted: 1,
  refused: 2,
  failed: 3,
};

/**
 * A signal's code replaces 1 (rolled back or interrupted because of it) but never 2 or 3: a refusal
 * changed nothing, and a state to check must not read as a plain interruption.
 */
export function exitCode(final: FinalState, signal?: keyof typeof SIGNAL_EXIT_CODES): number {
  const code = EXIT_CODES[final];
  return signal && code <= 1 ? SIGNAL_EXIT_CODES[signal] : code;
}

/** Steps, countdowns and verdicts: a live line on a terminal, plain timestamped log lines otherwise. */
export function progressPrinter(
  out: OutputStream,
  tty: boolean,
  clock: Pick<Clock, "now"> = systemClock,
): (e: ProgressEvent) => void {
  let live = false;
  const clock2 = (ms: number) => {
    const s = Math.ceil(ms / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  };
  return (e) => {
    if (e.kind === "bake" || e.kind === "wait") {
      if (!tty) return;
      out.write(
        e.kind === "bake"
          ? `\r\x1b[2K  baking step ${e.step} (${e.percent}%), interval ${e.interval}: ${clock2(e.msLeft)} left`
          : `\r\x1b[2K  waiting for ${e.what}: ${clock2(e.msLeft)} left`,
      );
      live = true;
      return;
    }
    if (live) out.write("\r\x1b[2K");
    live = false;
    out.write(`${tty ? "" : `${new Date(clock.now()).toISOString()} `}${e.message}\n`);
  };
}

/** The commander action: runs the rollout in this process and sets its exit code. */
export async function rollout(service: string, flags: RolloutFlags): Promise<void> {
  process.exitCode = await runRolloutCommand(service, flags, processRuntime());
}

/** "5%: x3.1 / x1.6, 25%: ..." : what each step can detect at two base 5xx ratios. */
function detectableSteps(
  steps: readonly number[],
  canaryPerInterval: number,
  s: JudgmentSettings,
  llm: boolean,
): string {
  const low = detectable5xx(steps, canaryPerInterval, 0.001, s, llm);
  const high = detectable5xx(steps, canaryPerInterval, 0.02, s, llm);
  const x = (r: number) => (Number.isFinite(r) ? `x${r.toFixed(1)}` : "none");
  return low.map((l, i) => `${l.percent}%: ${x(l.ratio)} / ${x(high[i].ratio)}`).join(", ");
}

/**
 * The plan of `--dry-run`: from the stack file, and for a new image its vulnerability findings. What
 * to roll out is decided as the run decides it (rolloutTarget, then the gate), so it refuses what the
 * run would refuse before its preflight.
 */
async function dryRun(
  service: string,
  o: RolloutOptions,
  expectedRequests: number,
  config: StackConfig,
  rt: RolloutRuntime,
  c: ReturnType<typeof pc.createColors>,
): Promise<number> {
  const out = rt.stdout;
  const head = c.bold(
    `Rollout plan for ${service} on ${o.stack} (dry run: nothing is changed; only a new image's findings are read)`,
  );
  const refuse = (message: string) => {
    out.write(`${[head, c.red(`  refused   ${message.replace(/\n/g, "\n            ")}`)].join("\n")}\n`);
    return EXIT_CODES.refused;
  };
  let target;
  let recorded;
  try {
    recorded = recordedRollout(o.dir, o);
    target = recorded.state ? undefined : rolloutTarget(o.dir, config, o, rt.clock.now());
  } catch (e) {
    if (!(e instanceof RolloutRefusal)) throw e;
    return refuse(e.message);
  }
  let gate: GateResult | undefined;
  if (target?.attempt) {
    gate = await runGate(config, target.image, rt.gate, {
      ...(o.allowVulnerable ? { override: o.allowVulnerable } : {}),
      progress: (line) => rt.stderr.write(`${line}\n`),
    });
    try {
      acceptGate(gate, "the run would change nothing", () => undefined);
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      return refuse(e.message);
    }
  }
  const s = rolloutSettings(config, service, o);
  if (recorded.state) {
    out.write(resumePlan(head, recorded.state, recorded.says!, s.budget));
    return 0;
  }
  const plan = target!;
  const { svc, image, continues: cur } = plan;
  const continuing = cur !== undefined;
  const lines = [head];
  lines.push(`  image     ${image}`);
  if (gate)
    lines.push(
      ...[`  gate      ${gate.outcome}: ${gate.reason}`, ...findingLines(gate)].map((l) =>
        gate.outcome === "warn" ? c.yellow(l) : l,
      ),
    );
  lines.push(
    "  preflight pulumi CLI, login, stack, secrets provider; Cloud Run readable in " + svc.regions.join(", "),
  );
  if (!continuing && o.baseline)
    lines.push(
      `  stage     start the canary staged with a baseline (stable deployed afresh, tag baseline): pulumi up ` +
        `for the baseline, then for the canary, waiting up to ${formatDuration(o.readyTimeoutMs)} each for its ` +
        "revision to be ready in every region; no traffic until both are",
    );
  else if (!continuing)
    lines.push(
      `  stage     start the canary staged (no traffic), pulumi up, wait up to ${formatDuration(o.readyTimeoutMs)} ` +
        "for its revision to be ready in every region",
    );
  else
    lines.push(
      `  continue  the running canary (${cur.phase === "serving" ? `at ${cur.percent}%` : "staged"})`,
    );
  lines.push(
    ...plan.steps.map(
      (p, i) =>
        `  step ${i + 1}   ${p}%: set percent, pulumi up, verify live${smokeSkipReason(svc) ? "" : ` + smoke ${svc.healthCheckPath ?? "/"}`}, ` +
        `bake ${formatDuration(o.intervalMs)} x up to ${o.maxIntervals}, analyse`,
    ),
  );
  for (const n of plan.notes) lines.push(c.yellow(`  note      ${n}`));
  const unreachable = smokeSkipReason(svc);
  if (unreachable) lines.push(c.yellow(`  note      no smoke check: ${unreachable}`));
  lines.push(`  then      promote ${image} to stable`);
  lines.push(
    `  guards    5xx ratio <= ${s.guards.maxErrorRatio}, ${svc.llm?.streams ? "time to first token " : ""}p95 <= ${s.guards.maxP95Ms} ms, exact binomial tests from the first request`,
    `  judgment  per region, canary vs ${s.baseline ? "baseline when one serves, else stable" : "stable"}; false-rollback budget ${s.budget} ` +
      `for the whole rollout; margins 5xx x${s.margins.errors}, 4xx x${s.margins.clientErrors}, ` +
      `above p95 x${s.margins.slow}, median x${s.margins.latency}; a pass rules out 5xx x${s.detect.errors}, ` +
      `4xx x${s.detect.clientErrors}, above p95 x${s.detect.slow}, above median x${s.detect.latency}`,
    ...(svc.llm
      ? [
          `  model     ${svc.llm.streams ? "latency is time to first token (the service streams); " : ""}` +
            (s.llm
              ? `output tokens per call: median margin x${s.margins.tokens}, a pass rules out x${s.detect.tokens} above median; ` +
                `provider errors (5xx and 429): margin x${s.margins.providerErrors}, a pass rules out x${s.detect.providerErrors}`
              : "model calls not judged (--no-llm)"),
        ]
      : []),
    `  detects   at ${expectedRequests} canary requests per interval at ${plan.steps[0]}%, the smallest 5xx regression each step rolls back ` +
      "(at a 0.1% / 2% stable 5xx ratio): " +
      detectableSteps(plan.steps, expectedRequests, s, svc.llm !== undefined),
    `  metrics   ${o.maxFailedReads} failed reads in a row (after retries) roll back`,
    "",
  );
  out.write(lines.join("\n"));
  return 0;
}

/** The plan of `--resume --dry-run`: what the recorded rollout has left, from its state alone. */
function resumePlan(head: string, state: RolloutState, says: string, budget: number): string {
  const left = state.steps.slice(state.lastVerified + 1);
  const spent = state.judgment
    ? `${state.judgment.spent.toPrecision(2)} of ${state.judgment.total}`
    : `none of ${budget}`;
  return [
    head,
    `  resume    ${says}`,
    `  image     ${state.image}`,
    state.rollback
      ? `  rollback  apply the recorded rollback (${state.rollback.reason}), verify it live, then stop`
      : `  steps     ${left.map((p) => `${p}%`).join(", ")} left of ${state.steps.map((p) => `${p}%`).join(", ")}, then promote`,
    `  budget    false-rollback budget spent so far: ${spent}; the resumed run spends only what is left`,
    "",
  ].join("\n");
}

/**
 * `orchestra rollout`: returns the exit code (EXIT_CODES, or 130/143 when a SIGINT or SIGTERM ended
 * it). Every end writes the report and the step summary; only usage errors are thrown (CliError).
 */
export async function runRolloutCommand(
  service: string,
  flags: RolloutFlags,
  rt: RolloutRuntime,
): Promise<number> {
  const o = parseOptions(rt.dir, service, flags);
  const tty = Boolean(rt.stdout.isTTY) && !rt.env.NO_COLOR;
  const c = pc.createColors(tty);

  // Checked first, by a dry run too: the report is the last thing a rollout writes.
  const reportProblem = reportPathProblem(path.resolve(rt.cwd, flags.report));
  if (reportProblem) throw new CliError(reportProblem, 2);

  if (flags.dryRun) {
    const { config } = loadValidStack(rt.dir, o.stack);
    if (!config.services.some((s) => s.name === service))
      throw new CliError(`Stack "${o.stack}" has no service "${service}".`, 2);
    return dryRun(service, o, flags.expectedRequests, config, rt, c);
  }

  const controller = new AbortController();
  let received: keyof typeof SIGNAL_EXIT_CODES | undefined;
  const handlers = (Object.keys(SIGNAL_EXIT_CODES) as (keyof typeof SIGNAL_EXIT_CODES)[]).map((signal) => {
    const handler = () => {
      if (controller.signal.aborted) return rt.exit(SIGNAL_EXIT_CODES[signal]);
      received = signal;
      rt.stderr.write(
        `\n${signal === "SIGINT" ? "Interrupted" : "Terminated"}: returning to the last verified step ` +
          "(Ctrl-C again to quit at once).\n",
      );
      controller.abort();
    };
    rt.signals.on(signal, handler);
    return () => rt.signals.off(signal, handler);
  });
  const ended = (final: FinalState, reason: string, next?: string): RolloutReport => ({
    stack: o.stack,
    service,
    image: o.image ?? "",
    requestedSteps: [...o.steps],
    steps: [],
    notes: [],
    startedAt: new Date(rt.clock.now()).toISOString(),
    finishedAt: new Date(rt.clock.now()).toISOString(),
    records: [],
    final,
    reason,
    ...(next ? { next } : {}),
  });
  const ends = async (): Promise<RolloutReport> => {
    let d: RolloutDeps;
    try {
      d = await deps(rt, o, tty);
    } catch (e) {
      // An invalid stack file, a client that cannot be built: nothing was changed.
      return ended("refused", oneLine(e instanceof Error ? e.message : String(e), 1000));
    }
    try {
      return await runRollout({ ...o, signal: controller.signal }, d);
    } catch (e) {
      // Not an end the rollout knows (a bug): still a report and one line.
      const status = `orchestra canary status --stack ${o.stack} --live`;
      return ended(
        "failed",
        `The rollout stopped: ${oneLine(e instanceof Error ? e.message : String(e))}. Check the stack with \`${status}\`.`,
        status,
      );
    }
  };
  let report: RolloutReport;
  try {
    report = await ends();
  } finally {
    for (const off of handlers) off();
  }
  const md = reportMarkdown(report);
  const base = path.resolve(rt.cwd, flags.report);
  writeAtomic(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeAtomic(`${base}.md`, md);
  // Appended, never overwritten: other steps of the job write to the same summary.
  if (rt.env.GITHUB_ACTIONS === "true" && rt.env.GITHUB_STEP_SUMMARY)
    fs.appendFileSync(rt.env.GITHUB_STEP_SUMMARY, md);
  const final = report.final ?? "failed";
  const line = `${final}: ${report.reason ?? ""}`;
  rt.stdout.write(`${final === "promoted" ? c.green(line) : c.red(line)}\n`);
  if (report.next) rt.stdout.write(`Next: ${report.next}\n`);
  rt.stdout.write(`Report: ${base}.json, ${base}.md\n`);
  return exitCode(final, received);
}

async function deps(rt: RolloutRuntime, o: RolloutOptions, tty: boolean): Promise<RolloutDeps> {
  const { config } = loadValidStack(rt.dir, o.stack);
  return {
    pulumi: await rt.pulumi(),
    intervals: await rt.intervals(config.project),
    live: await rt.live(config.project),
    clock: rt.clock,
    gate: rt.gate,
    smoke: rt.smoke,
    progress: progressPrinter(rt.stdout, tty, rt.clock),
  };
}
