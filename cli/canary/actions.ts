import type { Edit } from "../../canary/edits";
import {
  DEFAULT_CANARY_PERCENT,
  promoteCanary,
  rollbackCanary,
  setCanaryPercent,
  startCanary,
} from "../../canary/lifecycle";
import { servicePlan } from "../../canary/plan";
import type { StackConfig } from "../../config/types";
import { listStacks, StackFileError } from "../../render/stackFile";
import { CliError, color, projectDir } from "../output";
import { editStack, loadValidStack } from "../stackEditor";
import { describeService, splitLine } from "../trafficView";

/** A percent argument; anything but a whole number 0-100 is a usage error, like a malformed option. */
export function parsePercent(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 100) {
    throw new CliError(`Percent must be a whole number from 0 to 100, without %; got "${value}".`, 2);
  }
  return Number(value);
}

/** Runs one lifecycle operation against a stack file and reports the resulting split. */
export function run(
  stack: string,
  service: string,
  verb: string,
  decide: (config: StackConfig) => Edit[],
): void {
  const result = editStack(projectDir(), stack, decide);
  const after = result.after.services.find((s) => s.name === service);
  if (!after) throw new CliError(`Service "${service}" is gone after the edit.`);
  const sp = servicePlan(result.after, after);
  const lines = result.changed
    ? [`${color.green("✓")} ${verb}: ${result.file} updated.`]
    : [`Nothing to change: ${service} is already in that state; ${result.file} was not touched.`];
  lines.push("", describeService(sp), "");
  lines.push(
    `Next: ${color.cyan(`pulumi preview -s ${stack}`)} to see the change, then \`pulumi up -s ${stack}\` (or merge the pull request) to apply it.`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

export function start(service: string, opts: { image: string; percent?: string; stack: string }): void {
  const percent = opts.percent === undefined ? DEFAULT_CANARY_PERCENT : parsePercent(opts.percent);
  run(opts.stack, service, `canary of ${service} started at ${percent}%`, (c) =>
    startCanary(c, service, opts.image, percent),
  );
}

export function set(service: string, percent: string, opts: { stack: string }): void {
  const p = parsePercent(percent);
  run(opts.stack, service, `canary of ${service} set to ${p}%`, (c) => setCanaryPercent(c, service, p));
}

export function promote(service: string, opts: { stack: string }): void {
  run(opts.stack, service, `canary of ${service} promoted to stable`, (c) => promoteCanary(c, service));
}

export function rollback(service: string, opts: { stack: string }): void {
  run(opts.stack, service, `canary of ${service} rolled back`, (c) => rollbackCanary(c, service));
}

export function status(opts: { stack?: string; json?: boolean }): void {
  const dir = projectDir();
  const stacks = opts.stack ? [opts.stack] : listStacks(dir);
  const report: unknown[] = [];
  const text: string[] = [];
  let failed = false;
  for (const stack of stacks) {
    try {
      const { config } = loadValidStack(dir, stack);
      const services = config.services.map((s) => servicePlan(config, s));
      report.push({
        stack,
        services: services.map((sp) => ({
          name: sp.service.name,
          state: sp.state,
          stable: {
            image: sp.service.stable.image ?? null,
            revision: sp.plan?.traffic.find((t) => t.tag === "stable")?.revision ?? null,
          },
          canary: sp.service.canary
            ? {
                image: sp.service.canary.image,
                percent: sp.service.canary.percent,
                revision: sp.plan?.traffic.find((t) => t.tag === "canary")?.revision ?? null,
              }
            : null,
          traffic: sp.plan?.traffic ?? [],
        })),
      });
      text.push(
        color.bold(`Stack ${stack}`),
        ...services.map((sp) => `  ${sp.service.name.padEnd(16)} ${splitLine(sp).padEnd(28)} ${sp.state}`),
        "",
      );
    } catch (e) {
      if (!(e instanceof StackFileError)) throw e;
      failed = true;
      report.push({ stack, error: e.message });
      text.push(color.bold(`Stack ${stack}`), color.red(e.message), "");
    }
  }
  process.stdout.write(opts.json ? `${JSON.stringify({ stacks: report }, null, 2)}\n` : `${text.join("\n")}`);
  if (failed) process.exitCode = 1;
}
