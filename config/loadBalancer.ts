import { OWASP_RULES, type LoadBalancerConfig, type OwaspRule } from "../model/loadBalancer";
import { SERVICE_DEFAULTS } from "./defaults";
import { fix, type ConfigIssue } from "./errors";
import type { RawLoadBalancer } from "./loadBalancerSchema";
import { suggestKey } from "./suggest";

/**
 * `ai-orchestra:loadBalancer`: a global external Application Load Balancer in front of some of the
 * stack's services, with Cloud Armor and a Google-managed certificate. Absent or `{}`: no balancer.
 */

const KEY = "ai-orchestra:loadBalancer";

/** A Google-managed certificate covers at most 100 domains (compute `ManagedSslCertificate.managed.domains`). */
export const MAX_CERTIFICATE_DOMAINS = 100;

/** Defaults of `ai-orchestra:loadBalancer.armor`. */
export const LOAD_BALANCER_DEFAULTS = {
  requestsPerMinute: 600,
  owasp: [
    "sqli",
    "xss",
    "lfi",
    "rfi",
    "rce",
    "scannerdetection",
    "protocolattack",
    "sessionfixation",
  ] as readonly OwaspRule[],
  /** OWASP paranoia level 1: the signatures least likely to block legitimate traffic. */
  sensitivity: 1,
  preview: false,
} as const;

/** What the balancer needs to know of each declared service. */
export interface DeclaredService {
  readonly ingress?: string;
  readonly allowUnauthenticated?: boolean;
}

/**
 * Cross-field rules of `ai-orchestra:loadBalancer`: services must exist and be reachable from a
 * balancer, each domain belongs to one service, names are host names a managed certificate accepts.
 */
export function resolveLoadBalancer(
  raw: RawLoadBalancer | undefined,
  declared: Readonly<Record<string, DeclaredService>>,
  issues: ConfigIssue[],
  warnings: string[],
): LoadBalancerConfig | undefined {
  if (!raw) return undefined;
  const before = issues.length;
  const push = (path: string, value: unknown, message: string) =>
    issues.push({ path: `${KEY}.${path}`, value, hasValue: value !== undefined, message });
  const known = Object.keys(declared);
  const names = Object.keys(raw.services).sort();
  const owner = new Map<string, string>();

  for (const name of names) {
    const service = declared[name];
    if (!service) {
      const near = suggestKey(name, known);
      push(
        `services.${name}`,
        name,
        `is not a service of this stack (${known.join(", ")}).\nFix: ${near ? `did you mean \`${near}\`?` : "use a name declared under `ai-orchestra:services`."}`,
      );
      continue;
    }
    // Behind the balancer, ingress defaults to internal-and-cloud-load-balancing: `all` would let
    // requests reach the run.app URL around Cloud Armor, and `internal` refuses the balancer.
    if (service.ingress === "internal" || service.ingress === "all") {
      push(
        `services.${name}`,
        name,
        (service.ingress === "internal"
          ? "has `ingress: internal`, which refuses requests from a load balancer.\n"
          : "has `ingress: all`, which lets requests reach its run.app URL around the balancer and its Cloud Armor policy.\n") +
          "Fix: remove the service's `ingress` (behind the balancer it is `internal-and-cloud-load-balancing`), or set it to that.",
      );
    }
    if (!(service.allowUnauthenticated ?? SERVICE_DEFAULTS.allowUnauthenticated)) {
      warnings.push(
        `${KEY}.services.${name}: the service does not allow unauthenticated invocations, so Cloud Run refuses ` +
          "requests through the balancer that carry no ID token of an invoker.",
      );
    }
    raw.services[name].domains.forEach((domain, i) => {
      const at = `services.${name}.domains.${i}`;
      const problem = hostnameProblem(domain);
      if (problem) {
        push(at, domain, problem);
        return;
      }
      const first = owner.get(domain);
      if (first && first !== name) {
        push(
          at,
          domain,
          `is already a domain of \`${first}\`: the balancer routes each host name to one service.\nFix: keep it under one service.`,
        );
      } else if (first) {
        push(at, domain, "is listed twice.\nFix: remove the duplicate.");
      }
      owner.set(domain, name);
    });
  }

  if (owner.size > MAX_CERTIFICATE_DOMAINS) {
    push(
      "services",
      `${owner.size} domains`,
      `lists ${owner.size} domains; a Google-managed certificate covers at most ${MAX_CERTIFICATE_DOMAINS}.\n` +
        "Fix: put fewer host names behind this balancer.",
    );
  }

  let defaultService = names[0];
  if (raw.defaultService !== undefined) {
    if (!names.includes(raw.defaultService)) {
      const near = suggestKey(raw.defaultService, names);
      push(
        "defaultService",
        raw.defaultService,
        `must be one of the services behind the balancer: ${names.join(", ")}.\nFix: ${near ? `did you mean \`${near}\`?` : "name one of them."}`,
      );
    } else defaultService = raw.defaultService;
  } else if (names.length > 1) {
    issues.push({
      path: `${KEY}.defaultService`,
      hasValue: false,
      message:
        `is required with more than one service: it receives requests for host names no service claims.\n` +
        `Fix: add \`defaultService: ${names[0]}\` (one of ${names.join(", ")}).`,
    });
  }

  const owasp = raw.armor?.owasp ?? LOAD_BALANCER_DEFAULTS.owasp;
  owasp.forEach((rule, i) => {
    if ((OWASP_RULES as readonly string[]).includes(rule)) return;
    const near = suggestKey(rule, OWASP_RULES);
    push(
      `armor.owasp.${i}`,
      rule,
      `is not a preconfigured OWASP rule; allowed: ${OWASP_RULES.join(", ")}.\nFix: ${near ? `did you mean \`${near}\`?` : "pick from the list."}`,
    );
  });

  if (issues.length > before) return undefined;
  const ordered = [defaultService, ...names.filter((n) => n !== defaultService)];
  return {
    services: ordered.map((name) => ({ name, domains: [...raw.services[name].domains] })),
    armor: {
      rateLimit: {
        requestsPerMinute:
          raw.armor?.rateLimit?.requestsPerMinute ?? LOAD_BALANCER_DEFAULTS.requestsPerMinute,
      },
      owasp: OWASP_RULES.filter((r) => owasp.includes(r)),
      sensitivity: (raw.armor?.sensitivity ?? LOAD_BALANCER_DEFAULTS.sensitivity) as 1 | 2 | 3 | 4,
      preview: raw.armor?.preview ?? LOAD_BALANCER_DEFAULTS.preview,
    },
  };
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why a host name cannot go on a Google-managed certificate, or undefined when it can. */
export function hostnameProblem(domain: string): string | undefined {
  const example = "e.g. `api.example.com`";
  if (domain.startsWith("*"))
    return fix(
      "is a wildcard; Google-managed certificates cover named hosts only.",
      "list each host name, e.g. `api.example.com`.",
    );
  if (domain !== domain.toLowerCase()) return fix("must be lowercase.", `write \`${domain.toLowerCase()}\`.`);
  if (/^[a-z]+:\/\//.test(domain) || domain.includes("/") || domain.includes(":"))
    return fix("must be a bare host name, without scheme, port or path.", example + ".");
  if (domain.endsWith(".")) return fix("must not end with a dot.", `write \`${domain.slice(0, -1)}\`.`);
  const labels = domain.split(".");
  if (
    domain.length > 253 ||
    labels.length < 2 ||
    !labels.every((l) => LABEL.test(l)) ||
    /^\d+$/.test(labels.at(-1) ?? "")
  )
    return fix(
      "must be a fully qualified host name: dot-separated labels of lowercase letters, digits and '-' (at most 63 characters each, not starting or ending with '-'), and not an IP address.",
      example + ".",
    );
  return undefined;
}
