/** Parsing of --steps and --interval, the rollout's defaults, and the steps a stack allows. */
import { canaryPercentViolation } from "../../model/policy";
import { MAX_PERCENT_WITH_BASELINE } from "../../model/release/baseline";

export const DEFAULT_STEPS = [5, 25, 50, 100] as const;
export const DEFAULT_INTERVAL_MS = 10 * 60_000;
/** Analyses per step before it is decided on what was seen (see decideStep). */
export const DEFAULT_MAX_INTERVALS = 6;
/** Cloud Run usually reports a new revision ready within a minute or two; a slow start gets five. */
export const DEFAULT_READY_TIMEOUT = "5m";
/** Metric looks failing in a row, each after its own retries, before the canary is rolled back. */
export const DEFAULT_MAX_FAILED_READS = 3;

/** "5,25,50,100" → [5, 25, 50, 100]: whole percents, strictly increasing, ending at 100. */
export function parseSteps(text: string): number[] {
  const parts = text.split(",").map((s) => s.trim());
  if (parts.some((s) => !/^\d+$/.test(s))) {
    throw new Error(`--steps must be whole percents separated by commas, e.g. 5,25,50,100; got "${text}".`);
  }
  const steps = parts.map(Number);
  if (steps.some((p) => p < 1 || p > 100)) {
    throw new Error(`--steps must be between 1 and 100; got "${text}".`);
  }
  if (steps.some((p, i) => i > 0 && p <= steps[i - 1])) {
    throw new Error(`--steps must increase; got "${text}".`);
  }
  if (steps[steps.length - 1] !== 100) {
    throw new Error(`--steps must end at 100 (the last step before promotion); got "${text}".`);
  }
  return steps;
}

export { parseDuration } from "../../config/duration";

/** Exact, unlike `ms`'s own formatting, which rounds (90s would print as "2m"). */
export function formatDuration(millis: number): string {
  if (millis % 3_600_000 === 0) return `${millis / 3_600_000}h`;
  if (millis % 60_000 === 0) return `${millis / 60_000}m`;
  if (millis % 1000 === 0) return `${millis / 1000}s`;
  return `${millis}ms`;
}

/** The steps a rollout takes once the guardrail and a running canary are accounted for. */
export type StepPlan =
  | {
      readonly ok: true;
      readonly steps: readonly number[];
      /** Requested steps above the stack's maxCanaryPercent: left out, the canary is promoted before them. */
      readonly aboveMax: readonly number[];
      /** Requested steps below the percent a running canary already serves: skipped, never lowered to. */
      readonly belowCurrent: readonly number[];
      /** One sentence per change to the requested steps, for the log, the dry run and the report. */
      readonly notes: readonly string[];
    }
  | { readonly ok: false; readonly reason: string };

/**
 * Fits the requested steps to the stack: no step the canary-percent guardrail forbids (the policy
 * pack's own rule), and, when a canary already serves `current`%, no step below it. With nothing left,
 * a running canary is verified where it stands and promoted from there; a new one cannot start.
 */
export function planSteps(
  requested: readonly number[],
  o: {
    readonly service: string;
    readonly stack: string;
    readonly maxCanaryPercent: number;
    readonly current?: number;
    /** Whether the canary has (or starts with) a baseline. */
    readonly baseline?: boolean;
  },
): StepPlan {
  const allowed = (percent: number) =>
    canaryPercentViolation({
      service: o.service,
      stack: o.stack,
      percent,
      maxCanaryPercent: o.maxCanaryPercent,
    }) === undefined;
  const current = o.current;
  if (current !== undefined && !allowed(current))
    return {
      ok: false,
      reason:
        `The canary already serves ${current}%, above this stack's maxCanaryPercent of ${o.maxCanaryPercent}%, ` +
        "and the rollout never lowers a canary by itself: promote it or set it explicitly with `orchestra canary`.",
    };
  const aboveMax = requested.filter((p) => !allowed(p));
  const belowCurrent = current === undefined ? [] : requested.filter((p) => allowed(p) && p < current);
  let steps = requested.filter((p) => allowed(p) && (current === undefined || p >= current));
  const notes: string[] = [];
  const list = (ps: readonly number[]) => ps.map((p) => `${p}%`).join(", ");
  if (aboveMax.length > 0)
    notes.push(
      `Step${aboveMax.length > 1 ? "s" : ""} ${list(aboveMax)} left out: this stack allows a canary at most ` +
        `${o.maxCanaryPercent}% (policy.maxCanaryPercent), so the canary is promoted after the last step within it.`,
    );
  if (belowCurrent.length > 0)
    notes.push(
      `Step${belowCurrent.length > 1 ? "s" : ""} ${list(belowCurrent)} skipped: the canary already serves ` +
        `${current}%, and the rollout never lowers it.`,
    );
  const withoutBaseline = o.baseline ? steps.filter((p) => p > MAX_PERCENT_WITH_BASELINE) : [];
  if (withoutBaseline.length > 0)
    notes.push(
      `Step${withoutBaseline.length > 1 ? "s" : ""} ${list(withoutBaseline)} run without the baseline: canary and ` +
        `baseline would leave stable nothing above ${MAX_PERCENT_WITH_BASELINE}%, so the baseline is dropped at ` +
        `${withoutBaseline[0]}% and the canary is compared with stable from there.`,
    );
  if (steps.length === 0) {
    if (current === undefined)
      return {
        ok: false,
        reason:
          `Every step of ${list(requested)} is above this stack's maxCanaryPercent of ${o.maxCanaryPercent}%: ` +
          `give --steps with at least one step at or below it, e.g. --steps 5,25,${o.maxCanaryPercent},100.`,
      };
    steps = [current];
    notes.push(
      `No requested step is left: the canary is verified at its current ${current}%, then promoted.`,
    );
  }
  return { ok: true, steps, aboveMax, belowCurrent, notes };
}
