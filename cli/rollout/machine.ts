import { promoteCanary, rollbackCanary, setCanaryPercent, startCanary } from "../../model/canary/lifecycle";
import type { Edit } from "../../model/canary/edits";
import { attemptId } from "../../model/release/revisionName";
import type { StackConfig } from "../../model/types";
import { editStack, loadValidStack } from "../stackEditor";
import {
  analyse,
  analyseAlone,
  ANALYSIS_DEFAULTS,
  decideStep,
  type AnalysisResult,
  type AnalysisSettings,
} from "./analysis";
import type { Clock, MetricsSource, PulumiDriver } from "./ports";
import {
  checkReadiness,
  endpointOf,
  smokeTargets,
  type RegionReadiness,
  type ServiceEndpoint,
} from "./readiness";
import { acquireLock, clearState, readState, writeState, type RolloutState } from "./state";
import { WorkDir } from "./workDir";

export interface RolloutOptions {
  readonly dir: string;
  readonly stack: string;
  readonly service: string;
  readonly image?: string;
  readonly steps: readonly number[];
  readonly intervalMs: number;
  readonly maxIntervals: number;
  /** Cloud Monitoring points can lag; each window ends this long before "now". */
  readonly metricsLagMs: number;
  readonly resume: boolean;
  /** Overrides of the guards taken from the service's monitoring config. */
  readonly guards?: Partial<Pick<AnalysisSettings, "maxErrorRatio" | "maxP95Ms" | "minRequests">>;
  readonly signal?: AbortSignal;
}

export interface RolloutDeps {
  readonly pulumi: PulumiDriver;
  readonly metrics: MetricsSource;
  readonly clock: Clock;
  /** GETs a health URL (with extra headers behind a load balancer); returns a failure, or undefined. */
  readonly smoke: (url: string, headers?: Readonly<Record<string, string>>) => Promise<string | undefined>;
  /** Progress events, for the terminal or CI log. */
  readonly progress: (event: ProgressEvent) => void;
}

export type ProgressEvent =
  | { kind: "log"; message: string }
  | { kind: "bake"; step: number; percent: number; interval: number; msLeft: number };

export interface StepRecord {
  percent: number;
  startedAt: string;
  finishedAt?: string;
  /** The first smoke-tested URL. */
  canaryUrl?: string;
  /** The canary revision the program asked for, and what each region reported after `up`. */
  revision?: string;
  regions?: readonly RegionReadiness[];
  smoke?: { url: string; via: string }[];
  verification?: string;
  analyses: { at: string; window: { start: string; end: string }; result: AnalysisResult }[];
  decision?: string;
}

export type FinalState = "promoted" | "rolled back" | "interrupted" | "promotion failed";

export interface RolloutReport {
  stack: string;
  service: string;
  image: string;
  steps: number[];
  startedAt: string;
  finishedAt?: string;
  final?: FinalState;
  reason?: string;
  records: StepRecord[];
}

const serviceOf = (config: StackConfig, name: string) => config.services.find((s) => s.name === name);

/** The guards: from the service's alert config (5xx ratio threshold, latency threshold), overridable. */
export function analysisSettings(config: StackConfig, service: string, o: RolloutOptions): AnalysisSettings {
  const alerts = config.monitoring.services[service]?.alerts;
  return {
    ...ANALYSIS_DEFAULTS,
    maxErrorRatio: o.guards?.maxErrorRatio ?? alerts?.errorRatio.threshold ?? 0.05,
    maxP95Ms: o.guards?.maxP95Ms ?? alerts?.latency.thresholdMs ?? 2000,
    ...(o.guards?.minRequests !== undefined ? { minRequests: o.guards.minRequests } : {}),
  };
}

class Interrupted extends Error {}

/**
 * A Ctrl-C on a terminal reaches `pulumi` and this process together, and `pulumi` dying can be seen
 * first: a short pause lets our own signal handler run, so the failed `up` reads as the interruption.
 */
const signalsSettle = () => new Promise((resolve) => setTimeout(resolve, 50));

/** The edits that put `image` in place as a canary at 0%: none when it already is the running canary. */
function prepareEdits(config: StackConfig, service: string, image: string, attempt: string): Edit[] {
  const cur = serviceOf(config, service)?.canary;
  if (cur && cur.phase !== "rolled-back") {
    if (cur.image === image) return [];
    throw new Error(
      `Service "${service}" already has a canary (${cur.image}); promote or roll it back before rolling out ${image}.`,
    );
  }
  return startCanary(config, service, image, { percent: 0, attempt });
}

/**
 * The rollout: for each step, set the percent, apply, verify, bake and analyse; then promote. Any failed
 * verification or analysis rolls back and applies that. Each step is edited and applied in a work folder
 * (workDir.ts); the project's stack file takes it only once the step is verified, and a rollback is
 * written there before it is applied, so the file only ever holds a verified step or a rollback. The
 * resume state records the last verified step after each one.
 */
export async function runRollout(o: RolloutOptions, deps: RolloutDeps): Promise<RolloutReport> {
  const log = (message: string) => deps.progress({ kind: "log", message });
  const iso = () => new Date(deps.clock.now()).toISOString();
  const release = acquireLock(o.dir, o.stack, o.service);
  let work: WorkDir | undefined;
  try {
    const existing = serviceOf(loadValidStack(o.dir, o.stack).config, o.service)?.canary;
    let state: RolloutState;
    const previous = readState(o.dir, o.stack, o.service);
    if (o.resume) {
      if (!previous) {
        const hint =
          existing?.phase === "rolled-back"
            ? ` The stack file holds a rollback of ${o.service}; if it was not applied, run \`pulumi up -s ${o.stack}\`.`
            : "";
        throw new Error(
          `Nothing to resume: no rollout of ${o.service} on ${o.stack} was interrupted.${hint}`,
        );
      }
      state = previous;
      log(
        `Resuming ${o.service} on ${o.stack} after step ${state.lastVerified + 1} of ${state.steps.length}.`,
      );
    } else {
      const image = o.image ?? existing?.image;
      if (!image)
        throw new Error(`Service "${o.service}" has no canary to continue: give --image to start one.`);
      state = {
        stack: o.stack,
        service: o.service,
        image,
        steps: [...o.steps],
        lastVerified: -1,
        startedAt: iso(),
      };
    }
    work = new WorkDir(o.dir, o.stack);
    const ws = work;
    if (state.lastVerified < 0) {
      // Prepared in the work folder only: the project's file takes it with the first verified step.
      const prepared = editStack(ws.path, o.stack, (c) =>
        prepareEdits(c, o.service, state.image, attemptId(deps.clock.now())),
      );
      if (prepared.changed) log(`Canary ${state.image} prepared for ${o.service} on ${o.stack}.`);
    }
    if (!o.resume) writeState(o.dir, state);
    const settings = analysisSettings(loadValidStack(ws.path, o.stack).config, o.service, o);
    const report: RolloutReport = {
      stack: o.stack,
      service: o.service,
      image: state.image,
      steps: [...state.steps],
      startedAt: state.startedAt,
      records: [],
    };

    const apply = async () => {
      // The CLI's output arrives in chunks; the log gets whole lines.
      let rest = "";
      const emit = (line: string) => line.trim() && log(`  pulumi: ${line.trimEnd()}`);
      const onOutput = (chunk: string) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        lines.forEach(emit);
      };
      try {
        return endpointOf(await deps.pulumi.up({ stack: o.stack, workDir: ws.path, onOutput }), o.service);
      } finally {
        emit(rest);
      }
    };
    const settle = async (final: FinalState, reason: string) => {
      report.final = final;
      report.reason = reason;
      report.finishedAt = iso();
      return report;
    };
    const rollback = async (reason: string) => {
      log(`Rolling back: ${reason}`);
      editStack(ws.path, o.stack, (c) => rollbackCanary(c, o.service));
      // Recorded before it is applied: a kill during the apply leaves a rollback to re-apply, not a
      // rollout to resume.
      ws.commit();
      clearState(o.dir, o.stack, o.service);
      await apply();
      log("Rolled back: stable serves 100%.");
      return settle("rolled back", reason);
    };
    const checkAbort = () => {
      if (o.signal?.aborted) throw new Interrupted();
    };

    try {
      for (let i = state.lastVerified + 1; i < state.steps.length; i++) {
        checkAbort();
        const percent = state.steps[i];
        const record: StepRecord = { percent, startedAt: iso(), analyses: [] };
        report.records.push(record);
        log(`Step ${i + 1}/${state.steps.length}: canary at ${percent}%.`);
        editStack(ws.path, o.stack, (c) => setCanaryPercent(c, o.service, percent));
        let endpoint: ServiceEndpoint | undefined;
        try {
          endpoint = await apply();
        } catch (e) {
          await signalsSettle();
          checkAbort();
          record.verification = `pulumi up failed: ${(e as Error).message}`;
          return await rollback(`Step ${percent}%: ${record.verification}`);
        }
        checkAbort();

        const svc = serviceOf(loadValidStack(ws.path, o.stack).config, o.service);
        const stableRevision = svc?.stable.revision;
        const ready = checkReadiness(endpoint, percent);
        record.revision = ready.revision;
        record.regions = ready.regions;
        if (ready.failure || !endpoint || !ready.revision) {
          record.verification = ready.failure ?? "The stack outputs name no canary revision.";
          return await rollback(`Step ${percent}%: verification failed. ${record.verification}`);
        }
        const revision = ready.revision;
        const targets = smokeTargets(endpoint, svc?.healthCheckPath ?? "/");
        if (typeof targets === "string") {
          record.verification = targets;
          return await rollback(`Step ${percent}%: verification failed. ${targets}`);
        }
        record.smoke = targets.map((t) => ({ url: t.url, via: t.via }));
        record.canaryUrl = targets[0]?.url;
        for (const t of targets) {
          const smokeFailure = await deps.smoke(t.url, t.headers);
          if (smokeFailure) {
            record.verification = `${smokeFailure} (${t.via})`;
            return await rollback(`Step ${percent}%: smoke check failed. ${record.verification}`);
          }
        }
        const where = ready.regions.map((r) => r.region).join(", ");
        record.verification =
          `Revision ${revision} is ready and takes ${percent}% in ${where}; ` +
          `${targets.map((t) => (t.headers ? `${t.url} (${t.via}, canary header)` : t.url)).join(", ")} answered 2xx.`;
        log(`  verified: ${record.verification}`);

        const windowStart = deps.clock.now();
        let decided = false;
        for (let k = 1; k <= o.maxIntervals && !decided; k++) {
          await bake(deps, o, i + 1, percent, k);
          checkAbort();
          const end = deps.clock.now() - o.metricsLagMs;
          const window = { start: new Date(windowStart), end: new Date(Math.max(end, windowStart)) };
          const canary = await deps.metrics.revisionMetrics({ service: o.service, revision, ...window });
          let result: AnalysisResult;
          if (percent === 100 || !stableRevision) {
            result = analyseAlone(canary, settings);
          } else {
            const stable = await deps.metrics.revisionMetrics({
              service: o.service,
              revision: stableRevision,
              ...window,
            });
            result = analyse(canary, stable, settings);
          }
          record.analyses.push({
            at: iso(),
            window: { start: window.start.toISOString(), end: window.end.toISOString() },
            result,
          });
          for (const v of result.verdicts) log(`  ${v.outcome.padEnd(12)} ${v.explanation}`);
          const d = decideStep(result, k, o.maxIntervals);
          record.decision = `${d.action}: ${d.reason}`;
          if (d.action === "rollback") return await rollback(`Step ${percent}%: ${d.reason}`);
          if (d.action === "advance") decided = true;
        }
        record.finishedAt = iso();
        ws.commit();
        state = { ...state, lastVerified: i };
        writeState(o.dir, state);
        log(`Step ${i + 1}/${state.steps.length} verified at ${percent}%.`);
      }
      checkAbort();
      editStack(ws.path, o.stack, (c) => promoteCanary(c, o.service));
      try {
        await apply();
      } catch (e) {
        await signalsSettle();
        checkAbort();
        // Every step passed, so the canary is not rolled back: the file keeps the last verified step
        // and the resume state, and the report says what failed.
        ws.reset();
        return await settle(
          "promotion failed",
          `pulumi up failed while promoting: ${(e as Error).message}. The stack file still holds the last verified step ` +
            `(${state.steps[state.lastVerified]}%); run again with --resume to promote.`,
        );
      }
      ws.commit();
      clearState(o.dir, o.stack, o.service);
      log(`Promoted ${state.image} to stable for ${o.service} on ${o.stack}.`);
      return await settle("promoted", "Every step was verified and its analysis passed.");
    } catch (e) {
      if (!(e instanceof Interrupted)) throw e;
      // Back to the last verified step (or a rollback before any), applied; --resume continues from there.
      if (state.lastVerified < 0) return await rollback("Interrupted before any step was verified.");
      const percent = state.steps[state.lastVerified];
      log(`Interrupted: returning to the last verified step, ${percent}%.`);
      ws.reset();
      await apply();
      return await settle(
        "interrupted",
        `Interrupted; the canary is back at the last verified step (${percent}%). Run again with --resume to continue.`,
      );
    }
  } finally {
    work?.dispose();
    release();
  }
}

async function bake(deps: RolloutDeps, o: RolloutOptions, step: number, percent: number, interval: number) {
  const until = deps.clock.now() + o.intervalMs;
  const tick = Math.max(1, Math.min(1000, o.intervalMs));
  for (let left = until - deps.clock.now(); left > 0 && !o.signal?.aborted; left = until - deps.clock.now()) {
    deps.progress({ kind: "bake", step, percent, interval, msLeft: left });
    await deps.clock.sleep(Math.min(tick, left), o.signal);
  }
}
