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
  analysisSettings,
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
  type LiveCloudRun,
  type MetricsSource,
  type PulumiDriver,
} from "./ports";
import { oneLine } from "./pulumiErrors";
import { reportMarkdown } from "./report";
import { writeAtomic } from "./state";
import { formatDuration, planSteps } from "./steps";

/** The flags, already parsed by commander (cli/commands/options.ts), as the rollout takes them. */
export function parseOptions(dir: string, service: string, f: RolloutFlags): RolloutOptions {
  if (f.image && f.resume)
    throw new CliError("--resume continues the recorded rollout: leave out --image.", 2);
  if (f.baseline && f.resume)
    throw new CliError("--resume continues the recorded rollout, baseline or not: leave out --baseline.", 2);
  return {
    dir,
    stack: f.stack,
    service,
    image: f.image,
    ...(f.baseline ? { baseline: true } : {}),
    steps: f.steps,
    intervalMs: f.interval,
    metricsLagMs: f.metricsLag,
    maxIntervals: f.maxIntervals,
    readyTimeoutMs: f.readyTimeout,
    maxFailedReads: f.maxFailedReads,
    resume: Boolean(f.resume),
    guards: { maxErrorRatio: f.maxErrorRatio, maxP95Ms: f.maxP95, minRequests: f.minRequests },
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
  readonly metrics: (project: string) => Promise<MetricsSource>;
  readonly live: (project: string) => Promise<LiveCloudRun>;
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
    metrics: async (project) =>
      new (require("./cloudMonitoring") as typeof import("./cloudMonitoring")).CloudMonitoringSource(project),
    live: async (project) =>
      new (require("../live/liveCloudRun") as typeof import("../live/liveCloudRun")).AdminApiLiveCloudRun(
        project,
        process.env,
      ),
    /* eslint-enable @typescript-eslint/no-require-imports */
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

/** The plan of `--dry-run`: offline, from the stack file alone. */
function dryRun(
  service: string,
  o: RolloutOptions,
  config: StackConfig,
  out: OutputStream,
  c: ReturnType<typeof pc.createColors>,
): number {
  const svc = config.services.find((s) => s.name === service)!;
  const cur = svc.canary?.phase === "rolled-back" ? undefined : svc.canary;
  const continuing = cur && (!o.image || o.image === cur.image);
  const image = o.image ?? cur?.image ?? "(none: give --image)";
  const plan = planSteps(o.steps, {
    service,
    stack: o.stack,
    maxCanaryPercent: config.policy.maxCanaryPercent,
    current: continuing && cur.phase === "serving" ? cur.percent : undefined,
    baseline: continuing ? cur.baseline !== undefined : Boolean(o.baseline),
  });
  const s = analysisSettings(config, service, o);
  const lines = [c.bold(`Rollout plan for ${service} on ${o.stack} (dry run: nothing is changed or read)`)];
  lines.push(`  image     ${image}`);
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
  if (!plan.ok) {
    lines.push(c.red(`  refused   ${plan.reason}`), "");
    out.write(lines.join("\n"));
    return EXIT_CODES.refused;
  }
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
    `  guards    5xx ratio <= ${s.maxErrorRatio}, p95 <= ${s.maxP95Ms} ms, at least ${s.minRequests} requests per revision`,
    `  tests     5xx: two-proportion z (fail p < ${s.failPValue}); latency: Mann-Whitney U (fail p < ${s.failPValue})`,
    `  metrics   ${o.maxFailedReads} failed reads in a row (after retries) roll back`,
    "",
  );
  out.write(lines.join("\n"));
  return 0;
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

  if (flags.dryRun) {
    const { config } = loadValidStack(rt.dir, o.stack);
    if (!config.services.some((s) => s.name === service))
      throw new CliError(`Stack "${o.stack}" has no service "${service}".`, 2);
    return dryRun(service, o, config, rt.stdout, c);
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
    metrics: await rt.metrics(config.project),
    live: await rt.live(config.project),
    clock: rt.clock,
    smoke: rt.smoke,
    progress: progressPrinter(rt.stdout, tty, rt.clock),
  };
}
