import * as fs from "node:fs";
import type { RolloutFlags } from "../commands/rollout";
import { CliError, color, projectDir } from "../output";
import { loadValidStack } from "../stackEditor";
import {
  runRollout,
  analysisSettings,
  type ProgressEvent,
  type RolloutDeps,
  type RolloutOptions,
} from "./machine";
import { smokeCheck, systemClock } from "./ports";
import { reportMarkdown } from "./report";
import { LockHeldError, writeAtomic } from "./state";
import { formatDuration, parseDuration, parseSteps } from "./steps";

function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
}

function positive(name: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new CliError(`${name} must be a positive ${integer ? "whole " : ""}number; got "${text}".`, 2);
  }
  return n;
}

export function parseOptions(dir: string, service: string, f: RolloutFlags): RolloutOptions {
  if (f.image && f.resume)
    throw new CliError("--resume continues the recorded rollout: leave out --image.", 2);
  return {
    dir,
    stack: f.stack,
    service,
    image: f.image,
    steps: usage(() => parseSteps(f.steps)),
    intervalMs: usage(() => parseDuration(f.interval)),
    metricsLagMs: usage(() => parseDuration(f.metricsLag)),
    maxIntervals: positive("--max-intervals", f.maxIntervals, true) ?? 6,
    resume: Boolean(f.resume),
    guards: {
      maxErrorRatio: positive("--max-error-ratio", f.maxErrorRatio, false),
      maxP95Ms: positive("--max-p95", f.maxP95, false),
      minRequests: positive("--min-requests", f.minRequests, true),
    },
  };
}

/** Steps, countdown and verdicts: a live line on a terminal, plain log lines otherwise. */
export function progressPrinter(tty: boolean): (e: ProgressEvent) => void {
  let live = false;
  return (e) => {
    if (e.kind === "bake") {
      if (!tty) return;
      const s = Math.ceil(e.msLeft / 1000);
      const left = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
      process.stdout.write(
        `\r\x1b[2K  baking step ${e.step} (${e.percent}%), interval ${e.interval}: ${left} left`,
      );
      live = true;
      return;
    }
    if (live) process.stdout.write("\r\x1b[2K");
    live = false;
    process.stdout.write(`${tty ? "" : `${new Date().toISOString()} `}${e.message}\n`);
  };
}

export async function rollout(service: string, flags: RolloutFlags): Promise<void> {
  const dir = projectDir();
  const o = parseOptions(dir, service, flags);
  const { config } = loadValidStack(dir, o.stack);
  const svc = config.services.find((s) => s.name === service);
  if (!svc) throw new CliError(`Stack "${o.stack}" has no service "${service}".`, 2);

  if (flags.dryRun) {
    const s = analysisSettings(config, service, o);
    const image = o.image ?? svc.canary?.image ?? "(none: give --image)";
    process.stdout.write(
      [
        color.bold(`Rollout plan for ${service} on ${o.stack} (dry run: nothing is changed)`),
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
    return;
  }

  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(
      "\nInterrupted: returning to the last verified step (Ctrl-C again to quit at once).\n",
    );
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  const { AutomationPulumiDriver } = await import("./automation");
  const { CloudMonitoringSource } = await import("./cloudMonitoring");
  const deps: RolloutDeps = {
    pulumi: new AutomationPulumiDriver(dir),
    metrics: new CloudMonitoringSource(config.project),
    clock: systemClock,
    smoke: (url) => smokeCheck(url),
    progress: progressPrinter(Boolean(process.stdout.isTTY) && !process.env.NO_COLOR),
  };
  try {
    const report = await runRollout({ ...o, signal: controller.signal }, deps);
    const md = reportMarkdown(report);
    writeAtomic(`${flags.report}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeAtomic(`${flags.report}.md`, md);
    if (process.env.GITHUB_STEP_SUMMARY) fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, md);
    const line = `${report.final}: ${report.reason ?? ""}`;
    process.stdout.write(`${report.final === "promoted" ? color.green(line) : color.red(line)}\n`);
    process.stdout.write(`Report: ${flags.report}.json, ${flags.report}.md\n`);
    if (report.final !== "promoted") process.exitCode = 1;
  } catch (e) {
    if (e instanceof LockHeldError) throw new CliError(e.message, 1);
    // Refusals (nothing to resume, another canary in the way) and cloud errors: a message, not a trace.
    if (e instanceof Error && e.constructor === Error) throw new CliError(e.message, 1);
    throw e;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
