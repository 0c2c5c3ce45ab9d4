import type { Edit } from "../../model/canary/edits";
import {
  DEFAULT_CANARY_PERCENT,
  promoteCanary,
  type ReadyRevision,
  rollbackCanary,
  setCanaryPercent,
  startCanary,
} from "../../model/canary/lifecycle";
import { servicePlan, type ServicePlan } from "../../model/release/servicePlan";
import { regionAgreement, type RegionAgreement } from "../../model/canary/regions";
import type { StackConfig } from "../../model/types";
import { listStacks, StackFileError } from "../../render/stackFile";
import { CliError, color, projectDir } from "../output";
import { editStack, loadForEdit, loadValidStack } from "../stackEditor";
import { describeService, splitLine } from "../trafficView";
import { readLiveRegions, type LiveRead } from "./liveRegions";
import { readRevisionReadiness } from "../live/readiness";
import { attemptId } from "../../model/release/revisionName";

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

/** `percent` as commander parsed it (cli/commands/options.ts): a whole number from 0 to 100. */
export function start(service: string, opts: { image: string; percent?: number; stack: string }): void {
  const percent = opts.percent ?? DEFAULT_CANARY_PERCENT;
  run(
    opts.stack,
    service,
    `canary of ${service} staged; it takes ${percent}% once \`orchestra canary set\` finds it ready`,
    (c) => startCanary(c, service, opts.image, { percent, attempt: attemptId(Date.now()) }),
  );
}

/**
 * Moves the canary. A staged one enters the traffic list here, so its revision's readiness is read from
 * Cloud Run first, in every region; nothing is written unless it is ready everywhere.
 */
export async function set(service: string, percent: number, opts: { stack: string }): Promise<void> {
  const config = loadForEdit(projectDir(), opts.stack);
  const svc = config.services.find((s) => s.name === service);
  let ready: ReadyRevision | undefined;
  if (svc?.canary?.phase === "staged") {
    process.stderr.write(
      `Reading the readiness of ${svc.canary.revision} from Cloud Run in ${svc.regions.join(", ")}...\n`,
    );
    const readiness = await readRevisionReadiness({
      project: config.project,
      service,
      revision: svc.canary.revision,
      regions: svc.regions,
    });
    if (readiness.problems.length > 0) {
      throw new CliError(
        `Cloud Run does not report the canary revision ${svc.canary.revision} ready in every region, so the stack file was not changed:\n` +
          readiness.problems.map((p) => `  ${p}`).join("\n") +
          `\nA revision that failed never recovers: \`orchestra canary rollback ${service} --stack ${opts.stack}\`, then start a fixed image.`,
      );
    }
    ready = readiness;
  }
  run(opts.stack, service, `canary of ${service} set to ${percent}%`, (c) =>
    setCanaryPercent(c, service, percent, ready),
  );
}

export function promote(service: string, opts: { stack: string }): void {
  run(opts.stack, service, `canary of ${service} promoted to stable`, (c) => promoteCanary(c, service));
}

export function rollback(service: string, opts: { stack: string }): void {
  run(opts.stack, service, `canary of ${service} rolled back`, (c) => rollbackCanary(c, service));
}

export async function status(opts: { stack?: string; json?: boolean; live?: boolean }): Promise<void> {
  const dir = projectDir();
  const stacks = opts.stack ? [opts.stack] : listStacks(dir);
  const report: unknown[] = [];
  const text: string[] = [];
  let failed = false;
  for (const stack of stacks) {
    try {
      const { config } = loadValidStack(dir, stack);
      const services = config.services.map((s) => servicePlan(config, s));
      const live = opts.live ? await readLiveRegions(dir, stack) : undefined;
      const liveOf = (sp: ServicePlan) => liveReport(sp, live);
      report.push({
        stack,
        ...(live && !live.ok ? { liveError: live.reason } : {}),
        services: services.map((sp) => ({
          name: sp.service.name,
          state: sp.state,
          regions: sp.service.regions,
          stable: {
            image: sp.service.stable.image ?? null,
            revision: sp.plan?.traffic.find((t) => t.tag === "stable")?.revision ?? null,
          },
          canary: sp.service.canary
            ? {
                image: sp.service.canary.image,
                revision: sp.service.canary.revision,
                percent: sp.service.canary.percent,
                phase: sp.service.canary.phase,
              }
            : null,
          traffic: sp.plan?.traffic ?? [],
          ...(live?.ok ? { live: liveOf(sp) ?? null } : {}),
        })),
      });
      text.push(color.bold(`Stack ${stack}`));
      for (const sp of services) {
        const where = sp.service.regions.length > 1 ? `  (${sp.service.regions.length} regions)` : "";
        text.push(`  ${sp.service.name.padEnd(16)} ${splitLine(sp).padEnd(28)} ${sp.state}${where}`);
        const agreement = liveOf(sp);
        if (!agreement) continue;
        for (const problem of agreement.problems) text.push(color.red(`    error: ${problem}`));
        if (agreement.problems.length > 0) {
          failed = true;
          text.push(`    Fix: \`pulumi up -s ${stack}\` applies the stack file to every region again.`);
        } else if (agreement.pending) {
          text.push(
            color.yellow(
              `    live: every region serves the previous split; \`pulumi up -s ${stack}\` applies the file.`,
            ),
          );
        } else if (agreement.regions.length > 0) {
          text.push(
            color.green(
              `    live: ${agreement.regions.map((r) => r.region).join(", ")} serve the file's split.`,
            ),
          );
        }
      }
      if (live && !live.ok) {
        failed = true;
        text.push(color.red(`  live state not read: ${live.reason}`));
      }
      text.push("");
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

/** How the regions' live splits compare, for a service the deployed stack reports regions for. */
function liveReport(sp: ServicePlan, live: LiveRead | undefined): RegionAgreement | undefined {
  if (!live?.ok || !sp.plan) return undefined;
  const regions = live.services[sp.service.name];
  return regions ? regionAgreement(sp.plan.traffic, regions) : undefined;
}
