import ms from "ms";

/**
 * "10m" → 600000, by `ms`: ms, s, m, h, d and their long forms ("10 minutes", "1.5h"). A unit is
 * required (`ms` reads a bare number as milliseconds, which `--interval 10` never means), and the
 * duration must be more than zero. Shared by the CLI's duration flags and config durations.
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
