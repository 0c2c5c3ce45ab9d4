import * as fs from "node:fs";
import * as path from "node:path";
import pc from "picocolors";
import type { RolloutFlags } from "../commands/rollout";
import { CliError, projectDir } from "../output";
import { loadValidStack } from "../stackEditor";
import {
  runRollout,
  analysisSettings,
  type ProgressEvent,
  type RolloutDeps,
  type RolloutOptions,
} from "./machine";
import { smokeCheck, systemClock, type Clock, type MetricsSource, type PulumiDriver } from "./ports";
import { reportMarkdown } from "./report";
import { LockHeldError, writeAtomic } from "./state";
import { formatDuration } from "./steps";

/** The flags, already parsed by commander (cli/commands/options.ts), as the rollout takes them. */
export function parseOptions(dir: string, service: string, f: RolloutFlags): RolloutOptions {
  if (f.image && f.resume)
    throw new CliError("--resume continues the recorded rollout: leave out --image.", 2);
  return {
    dir,
    stack: f.stack,
    service,
    image: f.image,
    steps: f.steps,
    intervalMs: f.interval,
    metricsLagMs: f.metricsLag,
    maxIntervals: f.maxIntervals,
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
  readonly clock: Clock;
  readonly smoke: RolloutDeps["smoke"];
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signals: SignalSource;
  /** Quits at once: a second Ctrl-C. */
  readonly exit: (code: number) => void;
}

/** The production runtime: the Automation API, Cloud Monitoring, real time, this process. */
export function processRuntime(): RolloutRuntime {
  return {
    dir: projectDir(),
    cwd: process.cwd(),
    // Loaded on use, so that tests and dry runs never load the Automation API or the Monitoring client.
    /* eslint-disable @typescript-eslint/no-require-imports */
    pulumi: async () =>
      new (require("./automation") as typeof import("./automation")).AutomationPulumiDriver(),
    metrics: async (project) =>
      new (require("./cloudMonitoring") as typeof import("./cloudMonitoring")).CloudMonitoringSource(project),
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

/** Steps, countdown and verdicts: a live line on a terminal, plain timestamped log lines otherwise. */
export function progressPrinter(
  out: OutputStream,
  tty: boolean,
  clock: Pick<Clock, "now"> = systemClock,
): (e: ProgressEvent) => void {
  let live = false;
  return (e) => {
    if (e.kind === "bake") {
      if (!tty) return;
      const s = Math.ceil(e.msLeft / 1000);
      const left = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
      out.write(`\r\x1b[2K  baking step ${e.step} (${e.percent}%), interval ${e.interval}: ${left} left`);
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

/**
 * `orchestra rollout`: returns the exit code (0 promoted, 1 rolled back or interrupted, 130 or 143
 * when a SIGINT or SIGTERM ended it); usage errors and refusals are thrown as CliError.
 */
export async function runRolloutCommand(
  service: string,
  flags: RolloutFlags,
  rt: RolloutRuntime,
): Promise<number> {
  const dir = rt.dir;
  const o = parseOptions(dir, service, flags);
  const { config } = loadValidStack(dir, o.stack);
  const svc = config.services.find((s) => s.name === service);
  if (!svc) throw new CliError(`Stack "${o.stack}" has no service "${service}".`, 2);
  const tty = Boolean(rt.stdout.isTTY) && !rt.env.NO_COLOR;
  const c = pc.createColors(tty);

  if (flags.dryRun) {
    const s = analysisSettings(config, service, o);
    const image = o.image ?? svc.canary?.image ?? "(none: give --image)";
    rt.stdout.write(
      [
        c.bold(`Rollout plan for ${service} on ${o.stack} (dry run: nothing is changed)`),
        `  image     ${image}`,
        ...o.steps.map(
          (p, i) =>
            `  step ${i + 1}   ${p}%: set percent, pulumi up, verify + smoke ${svc.healthCheckPath ?? "/"}, ` +
            `bake ${formatDuration(o.intervalMs)} x up to ${o.maxIntervals}, analyse`,
        ),
        `  then      promote ${image} to stable`,
        `  guards    5xx ratio <= ${s.maxErrorRatio}, p95 <= ${s.maxP95Ms} ms, at least ${s.minRequests} requests per revision`,
        `  tests     5xx: two-proportion z (fail p < ${s.failPValue}); latency: Mann-Whitney U (fail p < ${s.failPValue})`,
        "",
      ].join("\n"),
    );
    return 0;
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
  try {
    const deps: RolloutDeps = {
      pulumi: await rt.pulumi(),
      metrics: await rt.metrics(config.project),
      clock: rt.clock,
      smoke: rt.smoke,
      progress: progressPrinter(rt.stdout, tty, rt.clock),
    };
    const report = await runRollout({ ...o, signal: controller.signal }, deps);
    const md = reportMarkdown(report);
    const base = path.resolve(rt.cwd, flags.report);
    writeAtomic(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeAtomic(`${base}.md`, md);
    // Appended, never overwritten: other steps of the job write to the same summary.
    if (rt.env.GITHUB_ACTIONS === "true" && rt.env.GITHUB_STEP_SUMMARY)
      fs.appendFileSync(rt.env.GITHUB_STEP_SUMMARY, md);
    const line = `${report.final}: ${report.reason ?? ""}`;
    rt.stdout.write(`${report.final === "promoted" ? c.green(line) : c.red(line)}\n`);
    rt.stdout.write(`Report: ${base}.json, ${base}.md\n`);
    if (received) return SIGNAL_EXIT_CODES[received];
    return report.final === "promoted" ? 0 : 1;
  } catch (e) {
    if (e instanceof LockHeldError) throw new CliError(e.message, 1);
    // Refusals (nothing to resume, another canary in the way) and cloud errors: a message, not a trace.
    if (e instanceof Error && e.constructor === Error) throw new CliError(e.message, 1);
    throw e;
  } finally {
    for (const off of handlers) off();
  }
}
