import {
  promoteCanary,
  rollbackCanary,
  setCanaryPercent,
  startAttempt,
  startCanary,
  type ReadyRevision,
} from "../../model/canary/lifecycle";
import { awaitedRevision, BASELINE_TAG, baselinePercentProblem } from "../../model/release/baseline";
import { servicePlan } from "../../model/release/servicePlan";
import type { ServiceConfig, StackConfig } from "../../model/types";
import { StackFileError } from "../../render/stackFile";
import { editStack, loadValidStack } from "../stackEditor";
import type { Interval } from "../../model/judgment/input";
import { judgeLook, startRollout, startStep, type Decision, type Verdict } from "../../model/judgment/judge";
import { JUDGMENT_DEFAULTS, type JudgmentSettings } from "../../model/judgment/settings";
import { judgmentSettings, type JudgmentFlags } from "./judgmentFlags";
import { DEFAULT_METRICS_RETRY, readInterval, type MetricsRetry } from "./metricsRead";
import type { Clock, IntervalSource, LiveCloudRun, PulumiDriver } from "./ports";
import { formatProblem, livePreflight, type PreflightProblem } from "./preflight";
import { clause, oneLine, pulumiErrorLine } from "./pulumiErrors";
import { endpointOf, smokeTargets, type ServiceEndpoint } from "./endpoints";
import { smokeSkipReason } from "../../model/queue";
import { acquireLock, clearState, LockHeldError, writeState, type RolloutState } from "./state";
import { formatDuration } from "./steps";
import {
  activeCanary as active,
  recordedRollout,
  resumeCommand,
  rolloutTarget,
  RolloutRefusal,
} from "./target";
import { checkLive, expectedState, type ExpectedState, type LiveCheck, type RegionCheck } from "./verify";
import { WorkDir } from "./workDir";
import { acceptGate, runGate, type GateSources } from "../supplyChain/gate";
import { CliError } from "../output";

export interface RolloutOptions {
  readonly dir: string;
  readonly stack: string;
  readonly service: string;
  readonly image?: string;
  /** Start the new canary with a baseline (model/release/baseline.ts); a running canary keeps what it has. */
  readonly baseline?: boolean;
  /** The requested steps; the guardrail and a running canary's percent may leave some out (planSteps). */
  readonly steps: readonly number[];
  readonly intervalMs: number;
  readonly maxIntervals: number;
  /** Cloud Monitoring points can lag; each window ends this long before "now". */
  readonly metricsLagMs: number;
  readonly resume: boolean;
  /** How long Cloud Run may take to report an applied state (a revision ready, a split served). */
  readonly readyTimeoutMs: number;
  /** Between two reads of Cloud Run while waiting; default READY_POLL_MS. */
  readonly pollMs?: number;
  /** Metric looks failing in a row (after their retries) before the canary is rolled back. */
  readonly maxFailedReads: number;
  readonly metricsRetry?: MetricsRetry;
  /**
   * The judgment's flags (budget, margins, baseline...); unset ones take their defaults, and the
   * guards not given come from the service's monitoring config.
   */
  readonly analysis?: Partial<Omit<JudgmentFlags, "maxIntervals">>;
  /** `--allow-vulnerable`: the reason a new image may go out despite blocking findings. */
  readonly allowVulnerable?: string;
  readonly signal?: AbortSignal;
}

export const READY_POLL_MS = 10_000;

export interface RolloutDeps {
  readonly pulumi: PulumiDriver;
  /** Reads each look's data: canary, stable and baseline, per region. */
  readonly intervals: IntervalSource;
  readonly live: LiveCloudRun;
  readonly clock: Clock;
  /** GETs a health URL (with extra headers behind a load balancer); returns a failure, or undefined. */
  readonly smoke: (url: string, headers?: Readonly<Record<string, string>>) => Promise<string | undefined>;
  /** Progress events, for the terminal or CI log. */
  readonly progress: (event: ProgressEvent) => void;
  /** Where the vulnerability gate reads a new image's digests and findings. */
  readonly gate: GateSources;
}

export type ProgressEvent =
  | { kind: "log"; message: string }
  | { kind: "bake"; step: number; percent: number; interval: number; msLeft: number }
  | { kind: "wait"; what: string; msLeft: number };

/** One apply and what Cloud Run then reported: staging, a step, the promotion or the rollback. */
export interface PhaseRecord {
  startedAt: string;
  finishedAt?: string;
  /** Each `pulumi up`: "applied", or "failed: <the CLI's error>". */
  applies: string[];
  /** Each region as Cloud Run reported it after the apply. */
  regions?: readonly RegionCheck[];
  verification?: string;
}

export interface StepRecord extends PhaseRecord {
  percent: number;
  /** The first smoke-tested URL. */
  canaryUrl?: string;
  /** The canary revision. */
  revision?: string;
  smoke?: { url: string; via: string }[];
  /** Every look: its window, the data judged (replayable with `orchestra rollout judge`), the verdicts. */
  analyses: LookRecord[];
  /** Metric looks that failed after their retries; `maxFailedReads` in a row roll back. */
  failedReads: { at: string; reason: string }[];
  decision?: string;
}

export interface LookRecord {
  at: string;
  window: { start: string; end: string };
  /** This look's own data, in the judge input's shape. */
  interval: Interval;
  decision: Decision;
  reason: string;
  verdicts: readonly Verdict[];
}

/**
 * - promoted: the canary is stable, applied and confirmed live.
 * - rolled back: stable serves 100%, applied and confirmed live.
 * - interrupted: back at the last verified step, applied; --resume continues.
 * - refused: stopped before changing anything (preflight, a canary in the way, nothing to resume...).
 * - failed: an apply failed or Cloud Run does not confirm it: the state needs a look (`next`).
 */
export type FinalState = "promoted" | "rolled back" | "interrupted" | "refused" | "failed";

export interface RolloutReport {
  stack: string;
  service: string;
  image: string;
  /** The steps asked for, and those taken (see notes for the difference). */
  requestedSteps: number[];
  steps: number[];
  /** Why steps were left out or skipped, and other decisions of the plan. */
  notes: string[];
  preflight?: { notes: string[]; problems: string[] };
  revision?: string;
  startedAt: string;
  finishedAt?: string;
  final?: FinalState;
  reason?: string;
  /** The exact command to run next, when the end leaves something to do. */
  next?: string;
  staging?: PhaseRecord;
  records: StepRecord[];
  promotion?: PhaseRecord;
  rollback?: PhaseRecord & { reason: string };
}

const serviceOf = (config: StackConfig, name: string) => config.services.find((s) => s.name === name);

/**
 * The judgment's settings: the flags, with the guards from the service's alert config (5xx ratio
 * threshold, latency threshold) unless given.
 */
export function rolloutSettings(
  config: StackConfig,
  service: string,
  o: Pick<RolloutOptions, "analysis" | "maxIntervals">,
): JudgmentSettings {
  const alerts = config.monitoring.services[service]?.alerts;
  const d = JUDGMENT_DEFAULTS;
  const a = o.analysis ?? {};
  return judgmentSettings(
    {
      maxIntervals: o.maxIntervals,
      minRequests: a.minRequests ?? d.minRequests,
      budget: a.budget ?? d.budget,
      passRisk: a.passRisk ?? d.passRisk,
      margins: a.margins,
      detect: a.detect,
      baseline: a.baseline ?? d.baseline,
      variance: a.variance ?? d.variance,
      llm: a.llm ?? d.llm,
      maxErrorRatio: a.maxErrorRatio,
      maxP95: a.maxP95,
    },
    {
      maxErrorRatio: alerts?.errorRatio.threshold ?? d.guards.maxErrorRatio,
      maxP95Ms: alerts?.latency.thresholdMs ?? d.guards.maxP95Ms,
    },
  );
}

class Interrupted extends Error {}

/** A refusal before anything was changed: the rollout ends `refused`. */
class Refused extends Error {
  constructor(
    message: string,
    readonly problems: readonly PreflightProblem[] = [],
  ) {
    super(message);
  }
}

/**
 * A Ctrl-C on a terminal reaches `pulumi` and this process together, and `pulumi` dying can be seen
 * first: a short pause lets our own signal handler run, so the failed `up` reads as the interruption.
 */
const signalsSettle = () => new Promise((resolve) => setTimeout(resolve, 50));

/**
 * The rollout: a new image is started staged (created, no traffic) and applied; once Cloud Run reports
 * its revision ready in every region, each step sets the percent, applies it, verifies it live, smoke
 * tests, bakes and analyses; then the canary is promoted. Any failure rolls back.
 *
 * Each state is edited and applied in a work folder (workDir.ts). The project's stack file takes a state
 * only once its apply succeeded (a step: once verified too), so it never claims what was not applied.
 * A rollback is recorded in the resume state before it is applied, so a kill during it leaves it for
 * --resume. Every end returns a report; only programming errors throw.
 */
export function runRollout(o: RolloutOptions, deps: RolloutDeps): Promise<RolloutReport> {
  return new Rollout(o, deps).run();
}

class Rollout {
  private readonly report: RolloutReport;
  private state!: RolloutState;
  private ws?: WorkDir;
  private regions: readonly string[] = [];

  constructor(
    private readonly o: RolloutOptions,
    private readonly deps: RolloutDeps,
  ) {
    this.report = {
      stack: o.stack,
      service: o.service,
      image: o.image ?? "",
      requestedSteps: [...o.steps],
      steps: [],
      notes: [],
      startedAt: this.iso(),
      records: [],
    };
  }

  private iso = () => new Date(this.deps.clock.now()).toISOString();
  private log = (message: string) => this.deps.progress({ kind: "log", message });
  private checkAbort = () => {
    if (this.o.signal?.aborted) throw new Interrupted();
  };

  private end(final: FinalState, reason: string, next?: string): RolloutReport {
    this.report.final = final;
    this.report.reason = reason;
    if (next) this.report.next = next;
    this.report.finishedAt = this.iso();
    return this.report;
  }

  private resumeCommand = () => resumeCommand(this.o);

  async run(): Promise<RolloutReport> {
    let release: () => void;
    try {
      release = acquireLock(this.o.dir, this.o.stack, this.o.service);
    } catch (e) {
      if (e instanceof LockHeldError) return this.end("refused", e.message);
      throw e;
    }
    try {
      try {
        await this.prepare();
      } catch (e) {
        if (e instanceof Refused) {
          for (const p of e.problems) this.log(`  refused: ${formatProblem(p)}`);
          return this.end("refused", e.message);
        }
        // Nothing is changed before prepare returns: an invalid stack file, a rule, a check that could
        // not run all end here.
        const message = e instanceof Error ? e.message : String(e);
        return this.end("refused", oneLine(message, e instanceof StackFileError ? 1000 : 300));
      }
      if (this.o.signal?.aborted) {
        // A resumed rollout keeps its record for the next --resume.
        if (!this.o.resume) clearState(this.o.dir, this.o.stack, this.o.service);
        return this.end("interrupted", "Interrupted during the checks, before anything was changed.");
      }
      // From here on Cloud Run may change: whatever happens, the canary is not left serving unattended.
      this.ws = new WorkDir(this.o.dir, this.o.stack);
      if (this.state.rollback) return await this.rollback(this.state.rollback.reason);
      try {
        return await this.advance();
      } catch (e) {
        if (e instanceof Interrupted) return await this.interrupted();
        return await this.rollback(`Unexpected failure: ${oneLine((e as Error).message)}`);
      }
    } finally {
      this.ws?.dispose();
      try {
        release();
      } catch {
        // A lock lost while the event loop was held up is already released; the rollout's end stands
        // (the loss itself was reported as a warning when it happened).
      }
    }
  }

  /** Everything before the first change: what to roll out, the steps, the preflight checks. */
  private async prepare(): Promise<void> {
    const o = this.o;
    const { config } = loadValidStack(o.dir, o.stack);
    const svc = serviceOf(config, o.service);
    if (!svc) throw new Refused(`Stack "${o.stack}" has no service "${o.service}".`);
    this.regions = svc.regions;
    rolloutSettings(config, o.service, o); // settings that cannot be judged with refuse here, before any change
    let recorded;
    try {
      recorded = recordedRollout(o.dir, o);
    } catch (e) {
      if (e instanceof RolloutRefusal) throw new Refused(e.message);
      throw e;
    }
    if (recorded.state) {
      this.state = recorded.state;
      this.report.requestedSteps = [...recorded.state.steps];
      this.log(recorded.says!);
    } else {
      this.state = this.plan(config);
    }
    this.report.image = this.state.image;
    this.report.steps = [...this.state.steps];
    // A new canary's image passes the vulnerability gate before anything is checked or changed; what
    // it approved is kept in the state, so that a resumed start records the same.
    if (!o.resume && this.state.attempt) this.state = { ...this.state, approval: await this.gate(config) };

    const pulumi = await this.deps.pulumi.preflight({
      stack: o.stack,
      dir: o.dir,
      ...(config.cicd?.stateBucket ? { stateBucket: config.cicd.stateBucket } : {}),
    });
    const live =
      pulumi.problems.length === 0
        ? livePreflight(await this.deps.live.read(o.service, svc.regions), o.stack)
        : undefined;
    const problems = [...pulumi.problems, ...(live?.problems ?? [])];
    this.report.preflight = {
      notes: [...pulumi.notes, ...(live?.notes ?? [])],
      problems: problems.map(formatProblem),
    };
    if (problems.length > 0)
      throw new Refused(`Preflight failed, nothing was changed: ${formatProblem(problems[0])}`, problems);
    this.log(`Preflight: ${this.report.preflight.notes.join("; ")}.`);
    if (!o.resume) writeState(o.dir, this.state);
  }

  /** The gate on the new image: a refusal (or findings not ready) is a Refused; a warning is logged. */
  private async gate(config: StackConfig): Promise<RolloutState["approval"]> {
    try {
      const result = await runGate(config, this.state.image, this.deps.gate, {
        ...(this.o.allowVulnerable ? { override: this.o.allowVulnerable } : {}),
        progress: (line) => this.log(line),
      });
      return acceptGate(
        result,
        "nothing was changed",
        (line) => this.log(`warning: ${line}`),
        () => this.deps.clock.now(),
      );
    } catch (e) {
      if (e instanceof CliError) throw new Refused(e.message);
      throw e;
    }
  }

  /** A new rollout: start a canary of --image, or continue the running one; the steps the stack allows. */
  private plan(config: StackConfig): RolloutState {
    const o = this.o;
    let target;
    try {
      // The same decision as --dry-run's, so a dry run refuses whatever this would.
      target = rolloutTarget(o.dir, config, o, this.deps.clock.now());
    } catch (e) {
      if (e instanceof RolloutRefusal) throw new Refused(e.message);
      throw e;
    }
    this.report.notes.push(...target.notes);
    for (const n of target.notes) this.log(n);
    return {
      stack: o.stack,
      service: o.service,
      image: target.image,
      steps: [...target.steps],
      lastVerified: -1,
      startedAt: this.report.startedAt,
      ...(target.attempt ? { attempt: target.attempt } : {}),
      ...(target.baseline ? { baseline: true } : {}),
    };
  }

  private wsConfig(): { config: StackConfig; svc: ServiceConfig } {
    const { config } = loadValidStack(this.ws!.path, this.o.stack);
    return { config, svc: serviceOf(config, this.o.service)! };
  }

  private expected(kind: ExpectedState["kind"]): ExpectedState {
    const { config, svc } = this.wsConfig();
    const e = expectedState(servicePlan(config, svc), kind);
    if (!e)
      throw new Error(`Service "${this.o.service}" has no stable image, so its revisions are not known.`);
    return e;
  }

  /** `pulumi up` of the work folder; the CLI's output goes to the log in whole lines. */
  private async apply(): Promise<ServiceEndpoint | undefined> {
    let rest = "";
    const emit = (line: string) => line.trim() && this.log(`  pulumi: ${line.trimEnd()}`);
    const onOutput = (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      lines.forEach(emit);
    };
    try {
      const outputs = await this.deps.pulumi.up({ stack: this.o.stack, workDir: this.ws!.path, onOutput });
      return endpointOf(outputs, this.o.service);
    } finally {
      emit(rest);
    }
  }

  /**
   * Applies the work folder and reports why it failed, or undefined. A failed `up` leaves Cloud Run's
   * state unknown, so it is read at once and recorded beside the CLI's error.
   */
  private async applyPhase(
    record: PhaseRecord,
    expected: ExpectedState,
    interruptible = true,
  ): Promise<{ endpoint?: ServiceEndpoint; failure?: string }> {
    try {
      const endpoint = await this.apply();
      record.applies.push("applied");
      return { endpoint };
    } catch (e) {
      if (interruptible) {
        await signalsSettle();
        this.checkAbort();
      }
      const line = pulumiErrorLine(e);
      record.applies.push(`failed: ${line}`);
      const live = checkLive(await this.deps.live.read(this.o.service, this.regions), expected);
      record.regions = live.regions;
      record.verification = `pulumi up failed: ${clause(line)}. Live: ${live.summary}`;
      this.log(`  pulumi up failed: ${line}`);
      this.log(`  live: ${live.summary}`);
      return { failure: record.verification };
    }
  }

  /**
   * Reads Cloud Run until it reports `expected` in every region, reports a failure (a failed revision,
   * a failed update), or `readyTimeoutMs` passes. A rollback's wait is not interruptible.
   */
  /** Waits, uninterruptibly, for an applied end state to serve, and records what each region reports. */
  private async confirmLive(record: PhaseRecord, expected: ExpectedState, what: string): Promise<LiveCheck> {
    const live = await this.waitLive(expected, what, false);
    record.regions = live.regions;
    record.verification = live.summary;
    record.finishedAt = this.iso();
    return live;
  }

  private async waitLive(expected: ExpectedState, what: string, interruptible = true): Promise<LiveCheck> {
    const { clock } = this.deps;
    const deadline = clock.now() + this.o.readyTimeoutMs;
    const signal = interruptible ? this.o.signal : undefined;
    let shown = "";
    for (;;) {
      const check = checkLive(await this.deps.live.read(this.o.service, this.regions), expected);
      if (check.outcome !== "pending") return check;
      const left = deadline - clock.now();
      if (left <= 0)
        return {
          ...check,
          outcome: "failed",
          summary: `Cloud Run did not report it within ${formatDuration(this.o.readyTimeoutMs)}: ${check.summary}`,
        };
      if (check.summary !== shown) this.log(`  waiting for ${what}: ${check.summary}`);
      shown = check.summary;
      this.deps.progress({ kind: "wait", what, msLeft: left });
      await clock.sleep(Math.min(this.o.pollMs ?? READY_POLL_MS, left), signal);
      if (interruptible) this.checkAbort();
    }
  }

  private async advance(): Promise<RolloutReport> {
    const o = this.o;
    let ready: ReadyRevision | undefined;
    let canary = active(this.wsConfig().svc);
    // Whether the work folder holds a state not yet applied (a new start), or one the project already has.
    let unapplied = false;
    if (!canary) {
      // A new canary, or a resumed start: staged, so `up` creates its revision without giving it traffic.
      editStack(this.ws!.path, o.stack, (c) =>
        startCanary(c, o.service, this.state.image, {
          percent: this.state.steps[0],
          attempt: this.state.attempt ?? startAttempt(c, o.service, this.deps.clock.now()),
          ...(this.state.baseline ? { baseline: true } : {}),
          ...this.state.approval,
        }),
      );
      canary = active(this.wsConfig().svc)!;
      this.log(
        `Canary ${this.state.image} staged for ${o.service} on ${o.stack} as revision ${canary.revision}` +
          (canary.baseline
            ? `, after a baseline (the stable release deployed afresh) as revision ${canary.baseline.revision}.`
            : "."),
      );
      unapplied = true;
    }
    this.report.revision = canary.revision;
    if (canary.phase === "staged") {
      // Staged (now, on a resume, or by hand): each revision the template creates is proven ready before
      // anything names it. With a baseline that is two applies: the baseline's, then the canary's.
      const record: PhaseRecord = { startedAt: this.iso(), applies: [] };
      this.report.staging = record;
      for (;;) {
        const awaited = awaitedRevision(this.wsConfig().svc)!;
        const what = awaited === canary.revision ? "canary" : "baseline";
        const expected = this.expected("staged");
        if (unapplied) {
          const applied = await this.applyPhase(record, expected);
          this.checkAbort();
          if (applied.failure) return this.rollback(`Staging the ${what}: ${applied.failure}`);
        }
        const live = await this.waitLive(expected, `revision ${awaited}`);
        record.regions = live.regions;
        record.verification = live.summary;
        if (live.outcome !== "ok")
          return this.rollback(
            unapplied
              ? `The ${what} revision ${awaited} did not become ready: ${live.summary}`
              : `The staged ${what} revision ${awaited} is not ready: ${live.summary}`,
          );
        ready = { revision: awaited, readyIn: live.regions.map((r) => r.region) };
        if (unapplied) {
          this.ws!.commit();
          this.log(`  ready: ${live.summary}`);
        }
        if (what === "canary") break;
        // The baseline is ready: the template moves on to the canary, which the next apply creates.
        editStack(this.ws!.path, o.stack, (c) => setCanaryPercent(c, o.service, this.state.steps[0], ready));
        this.log(`Baseline ${awaited} is ready; creating the canary revision ${canary.revision}.`);
        unapplied = true;
      }
      record.finishedAt = this.iso();
    }
    const revision = canary.revision;

    const steps = this.state.steps;
    for (let i = this.state.lastVerified + 1; i < steps.length; i++) {
      this.checkAbort();
      const percent = steps[i];
      const record: StepRecord = {
        percent,
        revision,
        startedAt: this.iso(),
        applies: [],
        analyses: [],
        failedReads: [],
      };
      this.report.records.push(record);
      this.log(`Step ${i + 1}/${steps.length}: canary at ${percent}%.`);
      // Canary and baseline at P% each leave stable 100 - 2P: above 49% the baseline goes, and the canary
      // is compared with stable from there.
      const drop = this.wsConfig().svc.canary?.baseline ? baselinePercentProblem(percent) : undefined;
      if (drop) this.log(`  the baseline is dropped: ${drop}; from here the canary is compared with stable.`);
      editStack(this.ws!.path, o.stack, (c) =>
        setCanaryPercent(c, o.service, percent, ready, drop ? { dropBaseline: true } : {}),
      );
      const expected = this.expected("serving");
      const applied = await this.applyPhase(record, expected);
      this.checkAbort();
      if (applied.failure) return this.rollback(`Step ${percent}%: ${applied.failure}`);
      const live = await this.waitLive(expected, `${percent}% on ${revision}`);
      record.regions = live.regions;
      if (live.outcome !== "ok") {
        record.verification = live.summary;
        return this.rollback(`Step ${percent}%: verification failed. ${live.summary}`);
      }
      const endpoint = applied.endpoint;
      const { svc } = this.wsConfig();
      if (!endpoint) {
        record.verification = "The stack outputs have no serviceEndpoints entry for the service.";
        return this.rollback(`Step ${percent}%: verification failed. ${record.verification}`);
      }
      const unreachable = smokeSkipReason(svc);
      if (unreachable) {
        record.verification = `${live.summary} Smoke check skipped: ${unreachable}`;
      } else {
        const targets = smokeTargets(endpoint, svc.healthCheckPath ?? "/");
        if (typeof targets === "string") {
          record.verification = targets;
          return this.rollback(`Step ${percent}%: verification failed. ${targets}`);
        }
        record.smoke = targets.map((t) => ({ url: t.url, via: t.via }));
        record.canaryUrl = targets[0]?.url;
        for (const t of targets) {
          const smokeFailure = await this.deps.smoke(t.url, t.headers);
          if (smokeFailure) {
            record.verification = `${smokeFailure} (${t.via})`;
            return this.rollback(`Step ${percent}%: smoke check failed. ${record.verification}`);
          }
        }
        record.verification =
          `${live.summary} ` +
          `${targets.map((t) => (t.headers ? `${t.url} (${t.via}, canary header)` : t.url)).join(", ")} answered 2xx.`;
      }
      this.log(`  verified: ${record.verification}`);

      const judged = await this.judge(i, record);
      if (judged) return judged;
      record.finishedAt = this.iso();
      this.ws!.commit();
      ready = undefined;
      this.state = { ...this.state, lastVerified: i };
      writeState(o.dir, this.state);
      this.log(`Step ${i + 1}/${steps.length} verified at ${percent}%.`);
    }
    this.checkAbort();
    return this.promote();
  }

  /**
   * Bakes and judges one step, one look per interval, each look reading the data since the previous
   * one; returns the rollback's report, or undefined to advance. The budget spent so far goes into the
   * resume state after every look, so `--resume` goes on from what is left.
   */
  private async judge(i: number, record: StepRecord): Promise<RolloutReport | undefined> {
    const { o, deps } = this;
    const percent = record.percent;
    const { config, svc } = this.wsConfig();
    const settings = rolloutSettings(config, o.service, o);
    const traffic = servicePlan(config, svc).plan?.traffic ?? [];
    const stable = traffic.find((t) => t.tag === "stable")?.revision;
    // A baseline revision (the stable release deployed fresh beside the canary) serves under this tag.
    const baseline = traffic.find((t) => t.tag === BASELINE_TAG)?.revision;
    const revision = record.revision!;
    let judgment = startStep(
      { budget: this.state.judgment ?? startRollout(settings).budget },
      percent,
      this.state.steps.slice(i + 1),
    );
    let windowStart = deps.clock.now();
    let looks = 0;
    let failedInRow = 0;
    while (looks < o.maxIntervals) {
      await bake(deps, o, i + 1, percent, looks + 1);
      this.checkAbort();
      const end = Math.max(deps.clock.now() - o.metricsLagMs, windowStart);
      const read = await readInterval(
        deps.intervals,
        {
          service: o.service,
          regions: this.regions,
          revisions: { canary: revision, ...(stable ? { stable } : {}), ...(baseline ? { baseline } : {}) },
          start: new Date(windowStart),
          end: new Date(end),
          ...(svc.llm ? { llm: svc.llm } : {}),
        },
        deps.clock,
        o.metricsRetry ?? DEFAULT_METRICS_RETRY,
        o.signal,
      );
      this.checkAbort();
      if (!read.ok) {
        failedInRow++;
        record.failedReads.push({ at: this.iso(), reason: read.reason });
        this.log(`  metrics read failed (${failedInRow} of ${o.maxFailedReads} in a row): ${read.reason}`);
        if (failedInRow >= o.maxFailedReads) {
          record.decision = `rollback: ${failedInRow} metric reads in a row failed`;
          return this.rollback(
            `Step ${percent}%: ${failedInRow} metric reads in a row failed, so the canary cannot be judged; ` +
              `it is not left serving unwatched. Last: ${read.reason}`,
          );
        }
        continue; // the next look reads from the same start: no data is skipped
      }
      failedInRow = 0;
      const { window, interval } = read.read;
      windowStart = Math.max(windowStart, window.end.getTime());
      const r = judgeLook(judgment, interval, settings);
      judgment = r.state;
      looks = r.look;
      this.state = { ...this.state, judgment: r.state.budget };
      writeState(o.dir, this.state);
      record.analyses.push({
        at: this.iso(),
        window: { start: window.start.toISOString(), end: window.end.toISOString() },
        interval,
        decision: r.decision,
        reason: r.reason,
        verdicts: r.verdicts,
      });
      for (const v of r.verdicts)
        this.log(`  ${v.outcome.padEnd(5)} ${v.region ? `[${v.region}] ` : ""}${v.explanation}`);
      record.decision = `${r.decision}: ${r.reason}`;
      if (r.decision === "rollback") return this.rollback(`Step ${percent}%: ${r.reason}`);
      if (r.decision === "advance") return undefined;
    }
    return undefined;
  }

  private async promote(): Promise<RolloutReport> {
    const o = this.o;
    const record: PhaseRecord = { startedAt: this.iso(), applies: [] };
    this.report.promotion = record;
    const last = this.state.steps[this.state.lastVerified];
    editStack(this.ws!.path, o.stack, (c) => promoteCanary(c, o.service));
    const expected = this.expected("promoted");
    this.log(`Promoting ${this.state.image} to stable.`);
    const applied = await this.applyPhase(record, expected);
    if (applied.failure) {
      // Every step passed, so nothing is rolled back: the file keeps the last verified step.
      this.ws!.reset();
      return this.end(
        "failed",
        `Promotion failed: ${clause(applied.failure)}. The stack file still holds the last verified step (${last}%); ` +
          `run \`${this.resumeCommand()}\` to promote.`,
        this.resumeCommand(),
      );
    }
    this.ws!.commit();
    clearState(o.dir, o.stack, o.service);
    const live = await this.confirmLive(record, expected, "the promotion");
    if (live.outcome !== "ok")
      return this.end(
        "failed",
        `The promotion was applied, but Cloud Run does not confirm it: ${live.summary}`,
        `orchestra canary status --stack ${o.stack} --live`,
      );
    this.log(`Promoted ${this.state.image} to stable for ${o.service} on ${o.stack}: ${live.summary}`);
    return this.end("promoted", "Every step was verified and its analysis passed; the promotion is live.");
  }

  /**
   * Back to stable: the template reverted to the exact stable revision, stable 100%, the canary named
   * nowhere, which Cloud Run accepts whether or not the canary ever became ready. Recorded in the resume
   * state first; the project's file takes it once applied. A failed apply is tried once more after
   * reading what serves; if that fails too, the end says what to run.
   */
  private async rollback(reason: string): Promise<RolloutReport> {
    const o = this.o;
    const ws = this.ws!;
    this.log(`Rolling back: ${reason}`);
    const record: PhaseRecord & { reason: string } = { reason, startedAt: this.iso(), applies: [] };
    this.report.rollback = record;
    const fix = `\`${this.resumeCommand()}\` (or \`orchestra canary rollback ${o.service} --stack ${o.stack}\`, then \`pulumi up --refresh -s ${o.stack}\`)`;
    try {
      // The work copy holds the state being applied; with no canary in it, the project's file is the base.
      if (!active(this.wsConfig().svc)) ws.reset();
      editStack(ws.path, o.stack, (c) =>
        active(serviceOf(c, o.service)) ? rollbackCanary(c, o.service) : [],
      );
      this.state = { ...this.state, rollback: { reason, at: this.iso() } };
      writeState(o.dir, this.state);
      const expected = this.expected("rolled back");
      for (let attempt = 1; ; attempt++) {
        // An interruption does not stop a rollback.
        const applied = await this.applyPhase(record, expected, false);
        if (!applied.failure) break;
        if (attempt === 1) {
          this.log(
            "  The rollback names only the exact stable revision at 100% and no canary, which Cloud Run accepts " +
              "whether or not the canary ever became ready: applying it again.",
          );
          continue;
        }
        return this.end(
          "failed",
          `Rollback not applied (${clause(reason)}): ${clause(applied.failure)}. The stack file was not changed; the rollback is ` +
            `recorded for --resume. Run ${fix}.`,
          this.resumeCommand(),
        );
      }
      ws.commit();
      const live = await this.confirmLive(record, expected, "the rollback");
      if (live.outcome !== "ok")
        return this.end(
          "failed",
          `Rollback applied (${clause(reason)}), but Cloud Run does not confirm it: ${live.summary} Run ${fix}.`,
          this.resumeCommand(),
        );
      clearState(o.dir, o.stack, o.service);
      this.log(`Rolled back: ${live.summary}`);
      return this.end("rolled back", reason);
    } catch (e) {
      return this.end(
        "failed",
        `Rollback not completed (${clause(reason)}): ${clause(oneLine((e as Error).message))}. Run ${fix}.`,
        this.resumeCommand(),
      );
    }
  }

  /**
   * Ctrl-C or SIGTERM: back to what the project's file holds when that is a serving canary (the last
   * verified step, or the canary this rollout continued), applied and verified; otherwise roll back.
   */
  private async interrupted(): Promise<RolloutReport> {
    const o = this.o;
    const held = active(serviceOf(loadValidStack(o.dir, o.stack).config, o.service));
    if (held?.phase !== "serving") return this.rollback("Interrupted before any step was verified.");
    this.log(`Interrupted: returning to what the stack file holds, the canary at ${held.percent}%.`);
    this.ws!.reset();
    const record: StepRecord = {
      percent: held.percent,
      revision: held.revision,
      startedAt: this.iso(),
      applies: [],
      analyses: [],
      failedReads: [],
      decision: "interrupted: back to the stack file's step",
    };
    this.report.records.push(record);
    const expected = this.expected("serving");
    const applied = await this.applyPhase(record, expected, false);
    if (applied.failure)
      return this.rollback(
        `Interrupted, and returning to ${held.percent}% failed: ${clause(applied.failure)}`,
      );
    const live = await this.waitLive(expected, `${held.percent}% on ${held.revision}`, false);
    record.regions = live.regions;
    record.verification = live.summary;
    if (live.outcome !== "ok")
      return this.rollback(`Interrupted, and ${held.percent}% is not confirmed live: ${live.summary}`);
    record.finishedAt = this.iso();
    return this.end(
      "interrupted",
      `Interrupted; the canary is back at ${held.percent}%, as the stack file says. Run again with --resume to continue.`,
      this.resumeCommand(),
    );
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
