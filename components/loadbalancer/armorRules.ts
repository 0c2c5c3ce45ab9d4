import type * as gcp from "@pulumi/gcp";
import { OWASP_RULES, type LoadBalancerConfig, type OwaspRule } from "../../model/loadBalancer";

type Rule = gcp.types.input.compute.SecurityPolicyRule;

/** Priorities: lower numbers are evaluated first, and the first rule that matches decides. */
export const PRIORITIES = {
  /** The WAF rules come first: a throttle's conform action is `allow`, which would end evaluation. */
  owaspBase: 1000,
  owaspStep: 10,
  rateLimit: 2000,
  /** Cloud Armor requires a default rule at the lowest priority, matching everything. */
  default: 2147483647,
} as const;

const EVERYONE = { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } };

/** `sqli` -> `sqli-v33-stable`: OWASP CRS 3.3, the stable channel (cloud.google.com/armor/docs/waf-rules). */
export const wafRuleName = (rule: OwaspRule) => `${rule}-v33-stable`;

/** A rule's priority follows its place in `OWASP_RULES`, not in the config list: edits never renumber. */
export const owaspPriority = (rule: OwaspRule) =>
  PRIORITIES.owaspBase + PRIORITIES.owaspStep * OWASP_RULES.indexOf(rule);

/**
 * The rules of the balancer's Cloud Armor policy: one deny(403) per OWASP rule set at the configured
 * sensitivity (paranoia level), a per-client-IP throttle answering 429 above the rate, and the
 * default allow. In preview, matches are logged and nothing is blocked.
 */
export function armorRules(armor: LoadBalancerConfig["armor"]): Rule[] {
  const waf: Rule[] = armor.owasp.map((rule) => ({
    priority: owaspPriority(rule),
    action: "deny(403)",
    description: `OWASP CRS 3.3 ${rule}, sensitivity ${armor.sensitivity}`,
    preview: armor.preview,
    match: {
      expr: {
        expression: `evaluatePreconfiguredWaf('${wafRuleName(rule)}', {'sensitivity': ${armor.sensitivity}})`,
      },
    },
  }));
  const rateLimit: Rule = {
    priority: PRIORITIES.rateLimit,
    action: "throttle",
    description: `At most ${armor.rateLimit.requestsPerMinute} requests a minute per client IP`,
    preview: armor.preview,
    match: EVERYONE,
    rateLimitOptions: {
      enforceOnKey: "IP",
      conformAction: "allow",
      exceedAction: "deny(429)",
      rateLimitThreshold: { count: armor.rateLimit.requestsPerMinute, intervalSec: 60 },
    },
  };
  const allow: Rule = {
    priority: PRIORITIES.default,
    action: "allow",
    description: "Default: allow",
    match: EVERYONE,
  };
  return [...waf, rateLimit, allow];
}
