import {
  checkCanaryPercentRule,
  DEFAULT_CANARY_PERCENT,
  promoteCanary,
  type ReadyRevision,
  rollbackCanary,
  setCanaryPercent,
  stablePin,
  startAttempt,
  startCanary,
} from "../../model/canary/lifecycle";
import { checkStablePin } from "./pinCheck";
import { servicePlan } from "../../model/release/servicePlan";
import type { StackConfig } from "../../model/types";
import { listStacks, StackFileError } from "../../render/stackFile";
import { CliError, color, errColor, projectDir } from "../output";
import { checkEdits, type Decision, editStack, loadForEdit, loadValidStack } from "../stackEditor";
import { describeService, splitLine } from "../trafficView";
import { formatLiveStatus, readLiveStatus } from "./liveStatus";
import { notReadyAdvice } from "../../model/canary/liveStatus";
import { readRevisionReadiness } from "../live/readiness";
import { awaitedRevision } from "../../model/release/baseline";
import { acceptGate, gateSources, runGate, type GateSources } from "../supplyChain/gate";

/**
 * Runs one lifecycle operation against a stack file and reports the resulting split, with one next
 * step (main adds none after these commands). Warnings (an advisory guardrail) go to stderr.
 */
export function run(
  stack: string,
  service: string,
  verb: string,
  decide: (config: StackConfig) => Decision,
): void {
  const result = editStack(projectDir(), stack, decide);
  for (const w of result.warnings) process.stderr.write(`${errColor.yellow("warning:")} ${w}\n`);
  const after = result.after.services.find((s) => s.name === service);
  if (!after) throw new CliError(`Service "${service}" is gone after the edit.`);
  const sp = servicePlan(result.after, after);
  const lines = result.changed
    ? [`${color.green("✓")} ${verb}: ${result.file} updated.`]
    : [`Nothing to change: ${service} is already in that state; ${result.file} was not touched.`];
  lines.push("", describeService(sp), "");
  lines.push(
    result.changed
      ? `Next: ${color.cyan(`\`orchestra preview --stack ${stack}\``)} to see the change, then \`orchestra up --stack ${stack}\` (or merge the pull request) to apply it.`
      : `Next: ${color.cyan(`\`orchestra canary status --stack ${stack} --live\``)} shows whether Cloud Run already serves it.`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

/**
 * `percent` as commander parsed it (cli/commands/options.ts): a whole number from 0 to 100. The stable
 * pin is checked against what is deployed first (cli/canary/pinCheck.ts).
 */
export async function start(
  service: string,
  opts: {
    image: string;
    percent?: number;
    baseline?: boolean;
    stack: string;
    live?: boolean;
    allowVulnerable?: string;
  },
  sources: GateSources = gateSources(),
): Promise<void> {
  const percent = opts.percent ?? DEFAULT_CANARY_PERCENT;
  const dir = projectDir();
  const config = loadForEdit(dir, opts.stack);
  checkCanaryPercentRule(config, service, percent, percentFix(config));
  const attempt = startAttempt(config, service, Date.now());
  const startOptions = { percent, attempt, ...(opts.baseline ? { baseline: true } : {}) };
  // The start's own refusals (another canary, the stable image, an image the stack would not accept)
  // come before anything is read.
  checkEdits(dir, opts.stack, startCanary(config, service, opts.image, startOptions));
  await checkStablePin(dir, config, service, Boolean(opts.live));
  const checkedPin = stablePin(config, service);
  const gate = await runGate(config, opts.image, sources, {
    ...(opts.allowVulnerable ? { override: opts.allowVulnerable } : {}),
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  const approval = acceptGate(gate, `Pulumi.${opts.stack}.yaml was not changed`, (line) =>
    process.stderr.write(`${errColor.yellow("warning:")} ${line}\n`),
  );
  run(
    opts.stack,
    service,
    opts.baseline
      ? `canary of ${service} staged with a baseline, created first; each takes ${percent}% once \`orchestra canary set\` finds both ready`
      : `canary of ${service} staged; it takes ${percent}% once \`orchestra canary set\` finds it ready`,
    (c) => {
      const warnings = checkCanaryPercentRule(c, service, percent, percentFix(c));
      if (stablePin(c, service) !== checkedPin)
        throw new StackFileError(
          `Pulumi.${opts.stack}.yaml was not changed: its stable settings changed meanwhile. Run the command again.`,
        );
      return { edits: startCanary(c, service, opts.image, { ...startOptions, ...approval }), warnings };
    },
  );
}

const percentFix = (c: StackConfig) => `start it with \`--percent ${c.policy.maxCanaryPercent}\` or less.`;

/**
 * Moves the canary. A staged one enters the traffic list here, so its revision's readiness is read from
 * Cloud Run first, in every region; nothing is written unless it is ready everywhere.
 */
export async function set(
  service: string,
  percent: number,
  opts: { stack: string; dropBaseline?: boolean },
): Promise<void> {
  const config = loadForEdit(projectDir(), opts.stack);
  // A mandatory guardrail refuses before Cloud Run is asked anything (run() checks it again, locked).
  checkCanaryPercentRule(config, service, percent);
  const svc = config.services.find((s) => s.name === service);
  const options = opts.dropBaseline ? { dropBaseline: true } : {};
  // A staged baseline that is dropped is never named, so it needs no readiness.
  const dropsStagedBaseline = opts.dropBaseline && svc?.canary?.baseline?.phase === "staged";
  const awaited = svc && !dropsStagedBaseline ? awaitedRevision(svc) : undefined;
  let ready: ReadyRevision | undefined;
  if (svc && awaited) {
    const what = awaited === svc.canary?.revision ? "canary" : "baseline";
    process.stderr.write(
      `Reading the readiness of ${awaited} from Cloud Run in ${svc.regions.join(", ")}...\n`,
    );
    const readiness = await readRevisionReadiness({
      project: config.project,
      service,
      revision: awaited,
      regions: svc.regions,
    });
    if (readiness.problems.length > 0) {
      throw new CliError(
        `The ${what} revision ${awaited} is not known to be ready in every region, so ` +
          `Pulumi.${opts.stack}.yaml was not changed:\n` +
          readiness.problems.map((p) => `  ${p}`).join("\n") +
          `\nNext: ${notReadyAdvice(opts.stack, service, readiness).text}`,
      );
    }
    ready = readiness;
  }
  const baselineFirst = awaited !== undefined && awaited !== svc?.canary?.revision;
  run(
    opts.stack,
    service,
    baselineFirst
      ? `baseline of ${service} ready; the next \`pulumi up\` creates the canary, then \`orchestra canary set ${service} ${percent}\` gives both ${percent}%`
      : `canary of ${service} set to ${percent}%${opts.dropBaseline && svc?.canary?.baseline ? ", baseline dropped" : ""}`,
    (c) => ({
      edits: setCanaryPercent(c, service, percent, ready, options),
      warnings: checkCanaryPercentRule(c, service, percent),
    }),
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
      if (opts.live)
        process.stderr.write(`Reading ${stack}'s services from the Cloud Run Admin API in every region...\n`);
      const live = opts.live ? await readLiveStatus(config, services) : undefined;
      report.push({
        stack,
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
                ...(sp.service.canary.baseline ? { baseline: sp.service.canary.baseline } : {}),
              }
            : null,
          traffic: sp.plan?.traffic ?? [],
          ...(live ? { live: live.get(sp.service.name) ?? null } : {}),
        })),
      });
      text.push(color.bold(`Stack ${stack}`));
      for (const sp of services) {
        const where = sp.service.regions.length > 1 ? `  (${sp.service.regions.length} regions)` : "";
        text.push(`  ${sp.service.name.padEnd(16)} ${splitLine(sp).padEnd(28)} ${sp.state}${where}`);
        const status = live?.get(sp.service.name);
        if (!status) continue;
        if (!status.ok) failed = true;
        text.push(...formatLiveStatus(status, config.project));
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
