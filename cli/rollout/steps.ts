/** Parsing of --steps and --interval, and the rollout's defaults. */
import ms from "ms";

export const DEFAULT_STEPS = [5, 25, 50, 100] as const;
export const DEFAULT_INTERVAL_MS = 10 * 60_000;
/** Analyses per step before it is decided on what was seen (see decideStep). */
export const DEFAULT_MAX_INTERVALS = 6;

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

/**
 * "10m" → 600000, by `ms`: ms, s, m, h, d and their long forms ("10 minutes", "1.5h"). A unit is
 * required (`ms` reads a bare number as milliseconds, which `--interval 10` never means), and the
 * duration must be more than zero.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  // ms throws on an empty string and answers undefined (typed as number) for what it cannot read.
  const value = /^[\d.]*$/.test(trimmed) ? undefined : (ms(trimmed as ms.StringValue) as number | undefined);
  if (value === undefined || !Number.isFinite(value))
    throw new Error(`Durations look like 30s, 10m or 1h; got "${text}".`);
  const rounded = Math.round(value);
  if (rounded <= 0) throw new Error(`Durations must be more than zero, e.g. 30s, 10m or 1h; got "${text}".`);
  return rounded;
}

/** Exact, unlike `ms`'s own formatting, which rounds (90s would print as "2m"). */
export function formatDuration(millis: number): string {
  if (millis % 3_600_000 === 0) return `${millis / 3_600_000}h`;
  if (millis % 60_000 === 0) return `${millis / 60_000}m`;
  if (millis % 1000 === 0) return `${millis / 1000}s`;
  return `${millis}ms`;
}
