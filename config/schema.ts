import { z } from "zod";
import { llmSchema, toLlmSpend } from "./llm";
import { binaryAuthorizationSchema, toBinaryAuthorization } from "./supplyChain";
import { llmLogMetrics } from "../model/llm";
import type { MonitoringConfig } from "../model/monitoring";
import { cicdRules, cicdSchema, githubSecretsSchema, toCicdConfig } from "./cicd";
import { fix } from "./errors";
import { balancerRules, loadBalancerSchema } from "./loadBalancer";
import {
  monitoringRules,
  monitoringSchema,
  PAGERDUTY_KEY,
  SLACK_TOKEN_KEY,
  toMonitoringConfig,
} from "./monitoring";
import { policySchema } from "./policy";
import { vulnerabilityGateSchema } from "./vulnerabilityGate";
import {
  queueRules,
  regionList,
  REGION,
  requireReproduciblePins,
  servicesSchema,
  toServiceConfig,
} from "./service";
import { always, cleanAt, parsedAt, report } from "./report";
import { suggestValue } from "./suggest";

export { SERVICE_NAME } from "./service";
import { ENVIRONMENTS, PROJECT, type Environment, type StackConfig } from "../model/types";
import { servicesBehindBalancer } from "../model/loadBalancer";

/**
 * The whole stack config, key by key, with every default and rule. Keys whose defaults depend on the
 * environment are built for it: read `environment` first, then parse with `stackSchema(environment)`.
 */

// A stack's config is parsed once or twice per process: compiling zod's fast parsers costs more than
// it saves (measured: 3 parses took ~30 ms with them, ~5 ms without).
z.config({ jitless: true });

const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

/** The nearest valid label value: lowercased, other characters as -, cut to 63 characters. */
export function labelValueLike(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .slice(0, 63);
}

export const environmentSchema = z
  .enum(ENVIRONMENTS, {
    error: (iss) => {
      if (iss.input === undefined)
        return fix(
          `is required: one of ${ENVIRONMENTS.join(", ")}.`,
          "set `ai-orchestra:environment` in the stack file.",
        );
      const meant = suggestValue(iss.input, ENVIRONMENTS);
      return fix(
        `must be one of ${ENVIRONMENTS.join(", ")}.`,
        meant ? `write \`${meant}\`.` : `use the one this stack is: ${ENVIRONMENTS.join(", ")}.`,
      );
    },
  })
  .describe(
    "Which kind of environment this stack is: dev, staging or prod. Decides defaults (prod pages, demands image digests, keeps warm instances, guards deletion).",
  );

const secret = (what: string) =>
  z
    .string({ error: "must be a string (set it with `pulumi config set --secret`)." })
    .optional()
    .describe(`Secret. ${what} Set with \`pulumi config set --secret\`.`);

/** The project namespace's keys, as they appear after `ai-orchestra:`. */
export const projectSchema = (environment: Environment) =>
  z.strictObject({
    environment: environmentSchema,
    regions: regionList
      .optional()
      .describe(
        "Regions the services run in, each with its own Cloud Run service and the same canary split, e.g. [europe-west1, europe-west4]. A service's own `regions` overrides it. Empty: gcp:region only.",
      ),
    labels: z
      .record(
        z.string().regex(LABEL_KEY, {
          error:
            "must be a label key: lowercase letters, digits, _ and -, starting with a letter, at most 63 characters.",
        }),
        z.string({ error: "must be a string." }).regex(LABEL_VALUE, {
          error: (iss) =>
            fix(
              "must be a label value: lowercase letters, digits, _ and -, at most 63 characters.",
              `write \`${labelValueLike(String(iss.input))}\`.`,
            ),
        }),
      )
      .default({})
      .describe(
        "Labels put on every resource, e.g. {team: orchestra}. Keys and values: lowercase letters, digits, _ and -.",
      ),
    services: servicesSchema(environment),
    cicd: cicdSchema(environment).optional(),
    githubSecrets: githubSecretsSchema.optional(),
    deliveryAppPrivateKey: z
      .string({ error: "must be the GitHub App's private key (PEM), set as a secret." })
      .optional()
      .describe(
        "The delivery GitHub App's private key (PEM), set with `pulumi config set --secret`; written as the DELIVERY_APP_PRIVATE_KEY repository secret by the stack that owns repository-wide settings. Empty: the secret is set by hand.",
      ),
    monitoring: monitoringSchema(environment).prefault({}),
    policy: policySchema(environment).prefault({}),
    loadBalancer: loadBalancerSchema.optional(),
    llm: llmSchema.optional(),
    binaryAuthorization: binaryAuthorizationSchema.optional(),
    vulnerabilityGate: vulnerabilityGateSchema(environment).prefault({}),
    [SLACK_TOKEN_KEY]: secret(
      "Bot token of the Slack app that posts alerts to the Slack channels under monitoring.channels.",
    ),
    [PAGERDUTY_KEY]: secret("Events API v2 integration key of the PagerDuty service that pages."),
  });

/** The keys Pulumi's provider for GCP reads, as far as this program needs them. */
export const gcpSchema = z.object({
  project: z
    .string({
      error: fix(
        "is required: the GCP project to deploy into.",
        "`pulumi config set gcp:project PROJECT_ID -s STACK`.",
      ),
    })
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, {
      error: fix(
        "must be a GCP project id: 6-30 lowercase letters, digits and '-'.",
        "use the id, not the display name or number.",
      ),
    })
    .describe("GCP project id."),
  region: z
    .string({
      error: fix(
        "is required: the region Cloud Run runs in.",
        "`pulumi config set gcp:region europe-west1 -s STACK`.",
      ),
    })
    .regex(REGION, {
      error: fix(
        "must be a GCP region such as `europe-west1`.",
        "pick a region from `gcloud run regions list`.",
      ),
    })
    .describe("Home region, e.g. `europe-west1`: the registry, and the services' default region."),
});

/**
 * Both namespaces of a stack's config, keyed by namespace, to the validated `StackConfig`. The rules
 * between areas (services named by the balancer, CI/CD and monitoring) run once every key parses.
 */
function buildStackSchema(environment: Environment) {
  return z
    .object({ gcp: gcpSchema, [PROJECT]: projectSchema(environment) })
    .superRefine((all, ctx) => {
      // Each rule runs once the keys it reads parse, so that one bad value does not also break its
      // neighbours; a service with errors still counts as declared.
      const own = all[PROJECT];
      const clean = (...path: PropertyKey[]) => cleanAt(ctx, PROJECT, ...path);
      if (!parsedAt(ctx, PROJECT, "services")) return;
      // A service under an invalid name is left out of the map: every rule naming it would be wrong.
      const misnamed = ctx.issues.some(
        (i) => i.code === "invalid_key" && i.path?.[0] === PROJECT && i.path[1] === "services",
      );
      const broken = new Set(Object.keys(own.services).filter((name) => !clean("services", name)));
      if (cleanAt(ctx, "gcp")) {
        const regions = own.regions ?? [all.gcp.region];
        for (const [name, s] of Object.entries(own.services)) {
          if (broken.has(name)) continue;
          requireReproduciblePins(
            toServiceConfig(name, s, regions, s.ingress ?? "all"),
            all.gcp.project,
            ctx,
            [PROJECT, "services"],
          );
        }
      }
      if (misnamed) return;
      if (cleanAt(ctx, "gcp"))
        queueRules(
          own.services,
          own.regions ?? [all.gcp.region],
          clean("loadBalancer") ? new Set(servicesBehindBalancer(own.loadBalancer)) : undefined,
          broken,
          ctx,
          [PROJECT, "services"],
        );
      if (clean("cicd") && clean("githubSecrets") && clean("deliveryAppPrivateKey"))
        cicdRules(own, broken, ctx);
      if (clean("loadBalancer")) balancerRules(own, ctx);
      // Cloud Run refuses a break-glass justification on a service that does not use Binary Authorization.
      if (clean("binaryAuthorization") && !own.binaryAuthorization?.enabled)
        for (const [name, s] of Object.entries(own.services))
          if (s.breakglassJustification !== undefined)
            report(
              ctx,
              [PROJECT, "services", name, "breakglassJustification"],
              fix(
                "is only allowed while the stack requires Binary Authorization (`ai-orchestra:binaryAuthorization.enabled: true`): there is no check to bypass.",
                "remove it.",
              ),
              s.breakglassJustification,
            );
      if (parsedAt(ctx, PROJECT, "monitoring")) {
        monitoringRules(own, ctx);
        // A service's LLM metrics are named for it: a hand-written metric may not take one of the names.
        for (const [name, s] of Object.entries(own.services))
          for (const m of s.llm ? llmLogMetrics(name, s.llm) : [])
            if (m.name in own.monitoring.logMetrics)
              report(
                ctx,
                [PROJECT, "monitoring", "logMetrics", m.name],
                `is the name of \`${name}\`'s own LLM metric (\`services.${name}.llm\`).\nFix: rename this metric.`,
              );
      }
    }, always)
    .transform((all): Omit<StackConfig, "stack"> => {
      const own = all[PROJECT];
      // The stack's regions default to the provider's region, so a single-region stack needs no new key.
      const regions = own.regions ?? [all.gcp.region];
      const loadBalancer = own.loadBalancer;
      const balanced = new Set(servicesBehindBalancer(loadBalancer));
      const cicd = own.cicd && toCicdConfig(own);
      return {
        project: all.gcp.project,
        region: all.gcp.region,
        regions,
        environment,
        labels: own.labels,
        services: Object.entries(own.services).map(([name, s]) =>
          toServiceConfig(
            name,
            s,
            regions,
            balanced.has(name) ? "internal-and-cloud-load-balancing" : (s.ingress ?? "all"),
          ),
        ),
        ...(cicd ? { cicd } : {}),
        monitoring: withLlmMetrics(
          toMonitoringConfig(own.monitoring, Object.keys(own.services)),
          own.services,
        ),
        policy: own.policy,
        ...(loadBalancer ? { loadBalancer } : {}),
        ...(own.llm ? { llm: toLlmSpend(own.llm) } : {}),
        ...(own.binaryAuthorization
          ? { binaryAuthorization: toBinaryAuthorization(own.binaryAuthorization) }
          : {}),
        vulnerabilityGate: own.vulnerabilityGate,
      };
    });
}

/** The stack's log-based metrics with each LLM-logging service's own (model/llm.ts) added. */
function withLlmMetrics(
  monitoring: MonitoringConfig,
  services: Readonly<Record<string, { llm?: { streams: boolean } }>>,
): MonitoringConfig {
  const llm = Object.entries(services).flatMap(([name, s]) => (s.llm ? llmLogMetrics(name, s.llm) : []));
  return llm.length === 0 ? monitoring : { ...monitoring, logMetrics: [...monitoring.logMetrics, ...llm] };
}

const stackSchemas = new Map<Environment, ReturnType<typeof buildStackSchema>>();

/** The stack schema for an environment, built once per process (building one takes longer than parsing with it). */
export function stackSchema(environment: Environment): ReturnType<typeof buildStackSchema> {
  let schema = stackSchemas.get(environment);
  if (!schema) stackSchemas.set(environment, (schema = buildStackSchema(environment)));
  return schema;
}

export type ParsedProject = z.output<ReturnType<typeof projectSchema>>;
