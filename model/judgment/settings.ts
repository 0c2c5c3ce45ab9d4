/** What the judgment is told; every default lives in JUDGMENT_DEFAULTS. */
export interface JudgmentSettings {
  /** Looks per step; the last decides on what was seen. */
  readonly maxIntervals: number;
  /**
   * The false-rollback budget for the whole rollout: the chance, over every step, look, test and
   * region, of rolling back a canary no worse than the margins allow.
   */
  readonly budget: number;
  /**
   * Per step, the chance that a canary exactly as bad as the detectable regressions passes early; it
   * is spread over the step's looks.
   */
  readonly passRisk: number;
  /** Regressions smaller than these ratios (canary / reference) are never a rollback. */
  readonly margins: {
    /** 5xx ratio. */
    readonly errors: number;
    /** 4xx ratio. */
    readonly clientErrors: number;
    /** The share of requests above the reference's p95 bucket edge. */
    readonly slow: number;
    /** The median latency: the rank test rolls back only when the medians differ by more. */
    readonly latency: number;
    /** The median output tokens per model call, as for latency. */
    readonly tokens: number;
    /** The share of model calls the provider answered with a 5xx or a 429. */
    readonly providerErrors: number;
  };
  /** The regressions a pass must rule out (canary / reference ratios). */
  readonly detect: {
    readonly errors: number;
    readonly clientErrors: number;
    /** The share of requests above the reference's p95 bucket edge. */
    readonly slow: number;
    /** The share of requests above the reference's median bucket edge. */
    readonly latency: number;
    /** The share of model calls above the reference's median output tokens bucket edge. */
    readonly tokens: number;
    readonly providerErrors: number;
  };
  /**
   * Judge model calls (tokens per call, provider errors) where the data has them: only services that
   * declare `llm` log them.
   */
  readonly llm: boolean;
  /** Absolute guards on the canary alone, judged from its first request. */
  readonly guards: {
    /** The 5xx ratio the canary must stay at or under. */
    readonly maxErrorRatio: number;
    /** The p95 latency (ms) the canary must stay at or under. */
    readonly maxP95Ms: number;
  };
  /** Canary requests per region a step needs before it may advance on what was seen. */
  readonly minRequests: number;
  /** Compare the canary with the baseline revision when an interval has one (like with like). */
  readonly baseline: boolean;
  /** "request": each request is an observation; "interval": each interval is one (robust, slower). */
  readonly variance: "request" | "interval";
  /**
   * The sample-ratio check: the canary's observed share may differ from the configured percent by
   * this fraction of it (Cloud Run splits per request, and percents are rounded), and a mismatch is
   * declared at this significance.
   */
  readonly sampleRatio: { readonly tolerance: number; readonly alpha: number };
}

export const JUDGMENT_DEFAULTS: JudgmentSettings = {
  maxIntervals: 6,
  budget: 0.01,
  passRisk: 0.05,
  margins: {
    errors: 1.25,
    clientErrors: 1.25,
    slow: 1.05,
    latency: 1.15,
    tokens: 1.15,
    providerErrors: 1.25,
  },
  detect: { errors: 2, clientErrors: 2, slow: 1.3, latency: 1.3, tokens: 1.3, providerErrors: 2 },
  llm: true,
  guards: { maxErrorRatio: 0.05, maxP95Ms: 2000 },
  minRequests: 100,
  baseline: true,
  variance: "request",
  sampleRatio: { tolerance: 0.1, alpha: 1e-6 },
};

/** Reasons settings cannot be judged with, one sentence each; empty when they are valid. */
export function settingsProblems(s: JudgmentSettings): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => ok || problems.push(what);
  check(
    Number.isInteger(s.maxIntervals) && s.maxIntervals >= 1,
    "maxIntervals must be a whole number, at least 1",
  );
  check(s.budget > 0 && s.budget < 1, "the false-rollback budget must be between 0 and 1");
  check(s.passRisk > 0 && s.passRisk < 1, "the pass risk must be between 0 and 1");
  for (const [k, m] of Object.entries(s.margins)) check(m >= 1, `margin ${k} must be at least 1 (a ratio)`);
  for (const [k, d] of Object.entries(s.detect))
    check(d > s.margins[k as keyof JudgmentSettings["margins"]], `detect ${k} must be above its margin`);
  check(s.guards.maxErrorRatio > 0 && s.guards.maxErrorRatio < 1, "maxErrorRatio must be between 0 and 1");
  check(s.guards.maxP95Ms > 0, "maxP95Ms must be above 0");
  return problems;
}
