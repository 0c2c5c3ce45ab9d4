/** The global load balancer's settings, as validated. */

/**
 * Cloud Armor's preconfigured WAF rules from the OWASP Core Rule Set 3.3, by their short name; the
 * rule evaluated is `<name>-v33-stable` (cloud.google.com/armor/docs/waf-rules). The order here fixes
 * each rule's priority, so adding or removing one never renumbers the others.
 */
export const OWASP_RULES = [
  "sqli",
  "xss",
  "lfi",
  "rfi",
  "rce",
  "methodenforcement",
  "scannerdetection",
  "protocolattack",
  "php",
  "sessionfixation",
  "java",
  "nodejs",
] as const;

export type OwaspRule = (typeof OWASP_RULES)[number];

/** A service behind the balancer and the host names that reach it. */
export interface BalancedService {
  readonly name: string;
  readonly domains: readonly string[];
}

/** The balancer's settings, validated and with every default applied. */
export interface LoadBalancerConfig {
  /**
   * The default service first (the URL map sends unknown hosts to it), then the others by name.
   * Sorted, not in stack-file order: the Pulumi CLI hands objects to the program with sorted keys.
   */
  readonly services: readonly BalancedService[];
  readonly armor: {
    /** Per client IP; above it Cloud Armor answers 429. */
    readonly rateLimit: { readonly requestsPerMinute: number };
    /** In `OWASP_RULES` order. */
    readonly owasp: readonly OwaspRule[];
    readonly sensitivity: 1 | 2 | 3 | 4;
    /** Log what the rules would do, block nothing. */
    readonly preview: boolean;
  };
}

/** Names of the services behind the balancer, the default one first. */
export function servicesBehindBalancer(lb: LoadBalancerConfig | undefined): string[] {
  return lb ? lb.services.map((s) => s.name) : [];
}

/** A balanced service's URL: its first domain, over HTTPS. */
export function balancedUrl(service: BalancedService): string {
  return `https://${service.domains[0]}`;
}
