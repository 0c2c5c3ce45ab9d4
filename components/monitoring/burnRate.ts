/**
 * Multiwindow, multi-burn-rate alerting (SRE Workbook, "Alerting on SLOs", table 5-8). Each tier fires
 * when both its long and its short window burn the error budget faster than the threshold; the short
 * window makes the alert stop soon after the burn does.
 */
export interface BurnRateTier {
  readonly name: "fast" | "medium" | "slow";
  /** Share of the whole period's error budget this tier catches being spent within its long window. */
  readonly budgetSpent: number;
  readonly longWindowSeconds: number;
  readonly shortWindowSeconds: number;
  /** Which alert setting routes it: fast and medium page in prod, slow opens a ticket. */
  readonly routeKey: "fastBurn" | "slowBurn";
}

const HOUR = 3600;

export const BURN_RATE_TIERS: readonly BurnRateTier[] = [
  {
    name: "fast",
    budgetSpent: 0.02,
    longWindowSeconds: HOUR,
    shortWindowSeconds: 5 * 60,
    routeKey: "fastBurn",
  },
  {
    name: "medium",
    budgetSpent: 0.05,
    longWindowSeconds: 6 * HOUR,
    shortWindowSeconds: 30 * 60,
    routeKey: "fastBurn",
  },
  {
    name: "slow",
    budgetSpent: 0.1,
    longWindowSeconds: 72 * HOUR,
    shortWindowSeconds: 6 * HOUR,
    routeKey: "slowBurn",
  },
];

/**
 * The burn rate that spends `budgetSpent` of the budget within the long window, for an SLO over
 * `periodDays`: 14.4, 6 and 1 for a 30-day SLO, the Workbook's numbers.
 */
export function burnRateThreshold(tier: BurnRateTier, periodDays: number): number {
  const rate = (tier.budgetSpent * periodDays * 24 * HOUR) / tier.longWindowSeconds;
  return Math.round(rate * 1000) / 1000;
}

/** The time series of an SLO's burn rate over a lookback window, as alert filters select it. */
export function burnRateFilter(sloName: string, lookbackSeconds: number): string {
  return `select_slo_burn_rate(${JSON.stringify(sloName)}, "${lookbackSeconds}s")`;
}

export function formatWindow(seconds: number): string {
  if (seconds % (24 * HOUR) === 0) return `${seconds / (24 * HOUR)}d`;
  if (seconds % HOUR === 0) return `${seconds / HOUR}h`;
  return `${seconds / 60}m`;
}
