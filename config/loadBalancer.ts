import { z } from "zod";
import { OWASP_RULES, type LoadBalancerConfig, type OwaspRule } from "../model/loadBalancer";
import { fix } from "./errors";
import { type Ctx, MISSING, report } from "./report";
import type { ParsedProject } from "./schema";
import { suggestKey } from "./suggest";

/**
 * `ai-orchestra:loadBalancer`: a global external Application Load Balancer in front of some of the
 * stack's services, with Cloud Armor and a Google-managed certificate. Absent or `{}`: no balancer.
 */

const AT = ["ai-orchestra", "loadBalancer"];

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

const domainList = z
  .array(
    z.string({ error: "must be a host name such as `api.example.com`." }).superRefine((domain, ctx) => {
      const problem = hostnameProblem(domain);
      if (problem) report(ctx, [], problem);
    }),
    { error: fix("must be a list of host names.", "e.g. `domains: [api.example.com]`.") },
  )
  .min(1, {
    error: fix(
      "must list at least one host name: the balancer routes by host.",
      "add the name clients use, e.g. `domains: [api.example.com]`.",
    ),
  })
  .describe(
    "Host names routed to the service; a name belongs to one service; no wildcards; at most 100 over all services (one Google-managed certificate covers all).",
  );

const owaspRule = z.string({ error: "must be a rule name." }).superRefine((rule, ctx) => {
  if ((OWASP_RULES as readonly string[]).includes(rule)) return;
  const near = suggestKey(rule, OWASP_RULES);
  report(
    ctx,
    [],
    `is not a preconfigured OWASP rule; allowed: ${OWASP_RULES.join(", ")}.\nFix: ${near ? `did you mean \`${near}\`?` : "pick from the list."}`,
  );
});
export const loadBalancerSchema = z
  .strictObject(
    {
      defaultService: z.string({ error: "must be the name of a service under `services`." }).optional().meta({
        description:
          "Where requests for any other host go. Required with more than one service: the Pulumi CLI hands maps to the program with sorted keys, so order in the file cannot decide it.",
        defaultText: "the only service",
      }),
      services: z
        .record(z.string(), z.strictObject({ domains: domainList }), {
          error: fix(
            "must map service names to their host names.",
            "e.g. `services: {api: {domains: [api.example.com]}}`.",
          ),
        })
        .refine((s) => Object.keys(s).length > 0, {
          error: fix("must put at least one service behind the balancer.", "add `api: {domains: [...]}`."),
        })
        .describe("The services behind the balancer, by name, with the host names that reach each."),
      armor: z
        .strictObject({
          rateLimit: z
            .strictObject({
              requestsPerMinute: z
                .number({ error: fix("must be a number of requests per minute.", "e.g. 600.") })
                .int({ error: fix("must be a whole number.", "e.g. 600.") })
                .min(1, { error: fix("must be at least 1.", "e.g. 600 requests per minute per client IP.") })
                .default(LOAD_BALANCER_DEFAULTS.requestsPerMinute)
                .describe("Per client IP, over one minute; above it: HTTP 429."),
            })
            .prefault({}),
          owasp: z
            .array(owaspRule, {
              error: fix(
                `must be a list of OWASP rule names: ${OWASP_RULES.join(", ")}.`,
                "e.g. `owasp: [sqli, xss]`; `[]` turns the WAF rules off.",
              ),
            })
            .default([...LOAD_BALANCER_DEFAULTS.owasp])
            .transform((owasp) => OWASP_RULES.filter((r) => owasp.includes(r)))
            .describe(
              `Cloud Armor's preconfigured OWASP CRS 3.3 rules (\`<name>-v33-stable\`): ${OWASP_RULES.join(", ")}; \`[]\` for none.`,
            ),
          sensitivity: z
            .number({
              error: fix("must be a sensitivity from 1 to 4.", "1 blocks least legitimate traffic."),
            })
            .int({ error: fix("must be a whole number from 1 to 4.", "use 1, 2, 3 or 4.") })
            .min(1, { error: fix("must be at least 1 (0 would turn every signature off).", "use 1.") })
            .max(4, { error: fix("must be at most 4, the highest OWASP paranoia level.", "use 1 to 4.") })
            .default(LOAD_BALANCER_DEFAULTS.sensitivity)
            .transform((n) => n as 1 | 2 | 3 | 4)
            .describe("1 blocks the fewest legitimate requests, 4 catches the most attacks."),
          preview: z
            .boolean({ error: fix("must be true or false.", "true logs matches without blocking anything.") })
            .default(LOAD_BALANCER_DEFAULTS.preview)
            .describe("The rules only log (`preview`): for tuning before they block."),
        })
        .prefault({})
        .describe("The Cloud Armor policy in front of the balancer."),
    },
    {
      error: fix(
        "must be an object.",
        "e.g. `{services: {api: {domains: [api.example.com]}}}`, or `{}` for no balancer.",
      ),
    },
  )
  .superRefine((lb, ctx) => {
    const names = Object.keys(lb.services).sort();
    const owner = new Map<string, string>();
    for (const name of names) {
      lb.services[name].domains.forEach((domain, i) => {
        if (hostnameProblem(domain)) return;
        const first = owner.get(domain);
        const at = ["services", name, "domains", i];
        if (first && first !== name) {
          report(
            ctx,
            at,
            `is already a domain of \`${first}\`: the balancer routes each host name to one service.\nFix: keep it under one service.`,
          );
        } else if (first) {
          report(ctx, at, "is listed twice.\nFix: remove the duplicate.");
        }
        owner.set(domain, name);
      });
    }
    if (owner.size > MAX_CERTIFICATE_DOMAINS) {
      report(
        ctx,
        ["services"],
        `lists ${owner.size} domains; a Google-managed certificate covers at most ${MAX_CERTIFICATE_DOMAINS}.\n` +
          "Fix: put fewer host names behind this balancer.",
        `${owner.size} domains`,
      );
    }
    if (lb.defaultService !== undefined && !names.includes(lb.defaultService)) {
      const near = suggestKey(lb.defaultService, names);
      report(
        ctx,
        ["defaultService"],
        `must be one of the services behind the balancer: ${names.join(", ")}.\nFix: ${near ? `did you mean \`${near}\`?` : "name one of them."}`,
      );
    } else if (lb.defaultService === undefined && names.length > 1) {
      report(
        ctx,
        ["defaultService"],
        `is required with more than one service: it receives requests for host names no service claims.\n` +
          `Fix: add \`defaultService: ${names[0]}\` (one of ${names.join(", ")}).`,
        MISSING,
      );
    }
  })
  .transform((lb): LoadBalancerConfig => {
    const names = Object.keys(lb.services).sort();
    const first = lb.defaultService ?? names[0];
    return {
      services: [first, ...names.filter((n) => n !== first)].map((name) => ({
        name,
        domains: [...lb.services[name].domains],
      })),
      armor: lb.armor,
    };
  })
  .describe(
    "A global external Application Load Balancer in front of some services: {services: {NAME: {domains}}, defaultService, armor: {rateLimit: {requestsPerMinute}, owasp, sensitivity, preview}}. A Google-managed certificate covers every domain; HTTP redirects to HTTPS. Unset or {}: no balancer.",
  );

/**
 * The rules between the balancer and the services it names: they must exist, and be reachable from
 * a balancer and from nothing around it.
 */
export function balancerRules(own: ParsedProject, ctx: Ctx): void {
  const known = Object.keys(own.services);
  for (const name of (own.loadBalancer?.services ?? []).map((s) => s.name).sort()) {
    const service = own.services[name];
    const at = [...AT, "services", name];
    if (!service) {
      const near = suggestKey(name, known);
      report(
        ctx,
        at,
        `is not a service of this stack (${known.join(", ")}).\nFix: ${near ? `did you mean \`${near}\`?` : "use a name declared under `ai-orchestra:services`."}`,
        name,
      );
      continue;
    }
    // Behind the balancer, ingress defaults to internal-and-cloud-load-balancing: `all` would let
    // requests reach the run.app URL around Cloud Armor, and `internal` refuses the balancer.
    if (service.ingress === "internal" || service.ingress === "all") {
      report(
        ctx,
        at,
        (service.ingress === "internal"
          ? "has `ingress: internal`, which refuses requests from a load balancer.\n"
          : "has `ingress: all`, which lets requests reach its run.app URL around the balancer and its Cloud Armor policy.\n") +
          "Fix: remove the service's `ingress` (behind the balancer it is `internal-and-cloud-load-balancing`), or set it to that.",
        name,
      );
    }
  }
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
