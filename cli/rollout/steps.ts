/** Parsing of --steps and --interval, and the rollout's defaults. */

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

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "10m" → 600000; units ms, s, m, h. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`Durations look like 30s, 10m or 1h; got "${text}".`);
  return Math.round(Number(m[1]) * UNITS[m[2]]);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
