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
