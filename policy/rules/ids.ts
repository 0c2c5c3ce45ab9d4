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
