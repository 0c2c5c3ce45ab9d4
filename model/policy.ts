/** Every guardrail, by id: the names `orchestra plan` prints and the policy pack's policy names. */
export const RULE_IDS = [
  "public-invoker",
  "deletion-protection",
  "min-instances",
  "image-digest",
  "service-observability",
  "canary-percent",
  "balancer-ingress",
  "no-service-account-keys",
  "pinned-actions",
  "no-plaintext-secrets",
  "secret-config",
  "push-subscriptions",
  "topic-publishers",
  "binary-authorization",
  "registry-scanning",
] as const;

export type RuleId = (typeof RULE_IDS)[number];

/** `mandatory` fails `pulumi preview` and `orchestra plan --policy`; `advisory` only reports; `disabled` skips. */
export const LEVELS = ["mandatory", "advisory", "disabled"] as const;
export type Level = (typeof LEVELS)[number];

/** The guardrails' settings for one stack, defaults applied. */
export interface PolicyConfig {
  /** The level of every rule the stack does not override. */
  readonly enforcement: Exclude<Level, "disabled">;
  /** The highest percent a canary may take; above it, promote. */
  readonly maxCanaryPercent: number;
  /** The level of each rule. */
  readonly levels: Readonly<Record<RuleId, Level>>;
}

/** Why a canary at `percent` breaks the stack's canary-percent guardrail, with the fix. */
export interface CanaryPercentViolation {
  readonly message: string;
  readonly fix: string;
}

/**
 * The canary-percent guardrail, one implementation for the policy pack and the rollout: a canary may
 * take at most the stack's `maxCanaryPercent`; beyond that it should be promoted. With a baseline beside
 * it, canary and baseline together must leave stable (the revision a rollback returns to) serving.
 * Undefined when allowed.
 */
export function canaryPercentViolation(a: {
  readonly service: string;
  readonly stack: string;
  readonly percent: number;
  readonly maxCanaryPercent: number;
  /** The baseline's percent, when one serves beside the canary. */
  readonly baselinePercent?: number;
}): CanaryPercentViolation | undefined {
  if (a.percent > a.maxCanaryPercent)
    return {
      message: `${a.service}'s canary takes ${a.percent}% of traffic; this stack allows at most ${a.maxCanaryPercent}%.`,
      fix: `\`orchestra canary promote ${a.service} --stack ${a.stack}\`, or \`orchestra canary set ${a.service} ${a.maxCanaryPercent} --stack ${a.stack}\`.`,
    };
  if (a.baselinePercent !== undefined && a.percent + a.baselinePercent >= 100)
    return {
      message:
        `${a.service}'s canary (${a.percent}%) and baseline (${a.baselinePercent}%) take ` +
        `${a.percent + a.baselinePercent}% of the traffic, leaving stable nothing: stable must keep serving beside a baseline.`,
      fix:
        `\`orchestra canary set ${a.service} PERCENT --stack ${a.stack}\` with a lower percent, or ` +
        `\`orchestra canary set ${a.service} ${a.percent} --drop-baseline --stack ${a.stack}\`.`,
    };
  return undefined;
}
