import { JUDGMENT_DEFAULTS, settingsProblems, type JudgmentSettings } from "../../model/judgment/settings";

/** The metric names of --margins and --detect, and the settings field each one sets. */
export const RATIO_METRICS = {
  "5xx": "errors",
  "4xx": "clientErrors",
  slow: "slow",
  latency: "latency",
  tokens: "tokens",
  provider: "providerErrors",
} as const;
type RatioMetric = keyof typeof RATIO_METRICS;
export type Ratios = Partial<Record<(typeof RATIO_METRICS)[RatioMetric], number>>;

/** "5xx=1.3,latency=1.05" → { errors: 1.3, latency: 1.05 }: ratios of at least 1, per known metric. */
export function parseRatios(text: string): Ratios {
  const out: Record<string, number> = {};
  for (const part of text.split(",").map((s) => s.trim())) {
    const m = /^([\w]+)=([\d.]+)$/.exec(part);
    const key = m?.[1] as RatioMetric | undefined;
    if (!m || !key || !(key in RATIO_METRICS))
      throw new Error(
        `Give metric=ratio pairs separated by commas, metrics ${Object.keys(RATIO_METRICS).join(", ")}; e.g. 5xx=1.2,latency=1.1; got "${part}".`,
      );
    const ratio = Number(m[2]);
    if (!Number.isFinite(ratio) || ratio < 1)
      throw new Error(`A ratio is at least 1 (1.2 means 20% worse); got "${part}".`);
    out[RATIO_METRICS[key]] = ratio;
  }
  return out;
}

/** A probability strictly between 0 and 1: 0.01 is 1%. */
export function parseProbability(text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n <= 0 || n >= 1)
    throw new Error(`It must be a probability between 0 and 1 (0.01 is 1%); got "${text}".`);
  return n;
}

export function parseVariance(text: string): JudgmentSettings["variance"] {
  if (text !== "request" && text !== "interval")
    throw new Error(
      `It is "request" (each request is an observation) or "interval" (each interval is one); got "${text}".`,
    );
  return text;
}

/** The analysis flags `orchestra rollout` and `orchestra rollout judge` share. */
export interface JudgmentFlags {
  readonly maxIntervals: number;
  readonly minRequests: number;
  readonly budget: number;
  readonly passRisk: number;
  readonly margins?: Ratios;
  readonly detect?: Ratios;
  readonly baseline: boolean;
  readonly variance: JudgmentSettings["variance"];
  /** Judge model calls where the data has them; default on. */
  readonly llm?: boolean;
  readonly maxErrorRatio?: number;
  readonly maxP95?: number;
}

/**
 * The judgment's settings from the flags; guards not given come from `guards` (the service's alerts for
 * a rollout, the defaults for a replay). Throws an Error naming each inconsistent setting.
 */
export function judgmentSettings(
  f: JudgmentFlags,
  guards: JudgmentSettings["guards"] = JUDGMENT_DEFAULTS.guards,
): JudgmentSettings {
  const s: JudgmentSettings = {
    ...JUDGMENT_DEFAULTS,
    maxIntervals: f.maxIntervals,
    minRequests: f.minRequests,
    budget: f.budget,
    passRisk: f.passRisk,
    margins: { ...JUDGMENT_DEFAULTS.margins, ...f.margins },
    detect: { ...JUDGMENT_DEFAULTS.detect, ...f.detect },
    baseline: f.baseline,
    variance: f.variance,
    llm: f.llm ?? JUDGMENT_DEFAULTS.llm,
    guards: { maxErrorRatio: f.maxErrorRatio ?? guards.maxErrorRatio, maxP95Ms: f.maxP95 ?? guards.maxP95Ms },
  };
  const problems = settingsProblems(s);
  if (problems.length > 0)
    throw new Error(
      `The analysis settings do not fit together: ${problems.join("; ")} (see --margins and --detect).`,
    );
  return s;
}
