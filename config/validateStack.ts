import type { z } from "zod";
import { resolveCicd } from "./cicdValidate";
import { ENVIRONMENT_DEFAULTS, SERVICE_DEFAULTS } from "./defaults";
import type { ConfigIssue } from "./errors";
import { revisionName } from "../model/release/revisionName";
import { revisionTemplate } from "../model/release/template";
import { runtimeAccountId, serviceAccountEmail } from "../model/identity";
import { parseImageRef } from "../model/imageRef";
import { resolveLoadBalancer } from "./loadBalancer";
import { servicesBehindBalancer } from "../model/loadBalancer";
import { PAGERDUTY_KEY, resolveMonitoring, SLACK_TOKEN_KEY } from "./monitoring";
import { resolvePolicy } from "./policy";
import { gcpSchema, projectSchema, type RawService } from "./schema";
import { suggestKey } from "./suggest";
import { PROJECT, type Environment, type ServiceConfig } from "../model/types";
import type { ValidateOptions, ValidationResult } from "./validate";

/** Keys read as plain strings, never parsed as JSON: an enum, a PEM key, or a token of digits. */
const STRING_KEYS = new Set(["environment", "deliveryAppPrivateKey", SLACK_TOKEN_KEY, PAGERDUTY_KEY]);
/** Pulumi.yaml's defaults for optional keys, which mean "not set". */
const UNSET: Readonly<Record<string, string>> = {
  cicd: "{}",
  githubSecrets: "{}",
  deliveryAppPrivateKey: "",
  regions: "[]",
  loadBalancer: "{}",
};

/** Cloud Run sets these itself; a container may not. */
const RESERVED_ENV = new Set(["PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"]);

/** The checks behind `validateStackConfig` (config/validate.ts), which callers use: it remembers the last answer. */
export function validate(
  stack: string,
  flat: Readonly<Record<string, string>>,
  options: ValidateOptions,
): ValidationResult {
  const issues: ConfigIssue[] = [];
  const own: Record<string, unknown> = {};
  const gcp: Record<string, unknown> = {};
  const ownKeys = Object.keys(projectSchema.shape);

  for (const [key, raw] of Object.entries(flat)) {
    const colon = key.indexOf(":");
    if (colon < 0) {
      issues.push(issue(key, raw, `has no namespace.\nFix: write it as \`${PROJECT}:${key}\`.`));
      continue;
    }
    const ns = key.slice(0, colon);
    const name = key.slice(colon + 1);
    if (ns === PROJECT) {
      if (!ownKeys.includes(name)) {
        issues.push(unknownKey(key, raw, name, ownKeys, `${PROJECT}:`));
        continue;
      }
      if (UNSET[name] === raw) continue;
      own[name] = STRING_KEYS.has(name) ? raw : parseJson(raw);
    } else if (ns === "gcp") {
      const known = name in gcpSchema.shape ? undefined : options.gcpKeys?.();
      if (known && !known.includes(name)) {
        issues.push(unknownKey(key, raw, name, known, "gcp:"));
        continue;
      }
      gcp[name] = raw;
    } else {
      const suggestion = ns !== PROJECT ? suggestKey(ns, [PROJECT, "gcp"]) : undefined;
      if (suggestion && ns !== suggestion) {
        issues.push(
          issue(
            key,
            raw,
            `uses the unknown namespace \`${ns}\`.\nFix: did you mean \`${suggestion}:${name}\`?`,
          ),
        );
      }
    }
  }

  const gcpParsed = gcpSchema.safeParse(gcp);
  if (!gcpParsed.success) issues.push(...zodIssues(gcpParsed.error, gcp, "gcp:"));
  const ownParsed = projectSchema.safeParse(own);
  if (!ownParsed.success) issues.push(...zodIssues(ownParsed.error, own, `${PROJECT}:`));
  if (!gcpParsed.success || !ownParsed.success || issues.length > 0) return { ok: false, issues };

  const environment = ownParsed.data.environment;
  const warnings: string[] = [];
  const services: ServiceConfig[] = [];
  // The stack's regions default to the provider's region, so a single-region stack needs no new key.
  const regions = ownParsed.data.regions ?? [gcpParsed.data.region];
  for (const [name, raw] of Object.entries(ownParsed.data.services)) {
    const resolved = resolveService(name, raw, environment, regions, issues, warnings);
    if (resolved) services.push(resolved);
  }
  for (const service of services) requireStablePin(service, gcpParsed.data.project, issues);
  const cicd = resolveCicd(ownParsed.data, environment, services, issues);
  const loadBalancer = resolveLoadBalancer(
    ownParsed.data.loadBalancer,
    ownParsed.data.services,
    issues,
    warnings,
  );
  if (issues.length > 0) return { ok: false, issues };
  const balanced = new Set(servicesBehindBalancer(loadBalancer));
  const routed = services.map((s) =>
    balanced.has(s.name) ? { ...s, ingress: "internal-and-cloud-load-balancing" as const } : s,
  );
  const monitoring = resolveMonitoring(
    ownParsed.data.monitoring,
    {
      environment,
      // Every declared service, including any with errors, so overrides for it are not reported as unknown.
      services: Object.keys(ownParsed.data.services),
      hasSlackToken: Boolean(ownParsed.data.slackToken),
      hasPagerdutyKey: Boolean(ownParsed.data.pagerdutyServiceKey),
    },
    issues,
    warnings,
  );
  if (issues.length > 0 || !monitoring) return { ok: false, issues };

  return {
    ok: true,
    warnings,
    config: {
      stack,
      project: gcpParsed.data.project,
      region: gcpParsed.data.region,
      regions,
      environment,
      labels: ownParsed.data.labels ?? {},
      services: routed,
      ...(cicd ? { cicd } : {}),
      monitoring,
      policy: resolvePolicy(ownParsed.data.policy, environment),
      ...(loadBalancer ? { loadBalancer } : {}),
    },
  };
}

function resolveService(
  name: string,
  raw: RawService,
  environment: Environment,
  stackRegions: readonly string[],
  issues: ConfigIssue[],
  warnings: string[],
): ServiceConfig | undefined {
  const at = (key: string) => `${PROJECT}:services.${name}.${key}`;
  const before = issues.length;
  const envDefaults = ENVIRONMENT_DEFAULTS[environment];
  const push = (key: string, value: unknown, message: string) => issues.push(issue(at(key), value, message));

  // Releases: the first deploy serves one release at 100%, so a canary needs a stable release to split with.
  const stable = raw.stable;
  if (!stable || (!stable.image && !stable.build)) {
    if (raw.canary) {
      issues.push({
        path: at("stable"),
        hasValue: false,
        message:
          "is missing, but a canary is declared: the service has no stable release for the canary to split traffic with.\n" +
          "Fix: deploy the first release as stable (move `canary.image` to `stable.image` and remove `canary`), then start a canary.",
      });
    } else {
      issues.push({
        path: at("stable.image"),
        hasValue: false,
        message:
          "is required: the release that serves traffic.\nFix: set `stable.image` to `REPOSITORY@sha256:DIGEST`.",
      });
    }
  } else if (stable.image && stable.build) {
    push(
      "stable",
      stable,
      "sets both `image` and `build`.\nFix: keep one: `image` for a pushed release, `build` for a local build (dev only).",
    );
  }
  if (stable?.build && environment !== "dev") {
    push(
      "stable.build",
      stable.build,
      `is only allowed in dev stacks; this is ${environment}.\nFix: deploy a pushed image by digest (\`stable.image\`).`,
    );
  }

  const checkImage = (key: string, ref: string | undefined) => {
    if (ref === undefined) return;
    const parsed = parseImageRef(ref);
    if (!parsed) {
      push(
        key,
        ref,
        "is not an image reference.\nFix: write `REPOSITORY@sha256:DIGEST`, e.g. the digest CI printed after the push.",
      );
      return;
    }
    if (parsed.repository !== raw.repository) {
      push(
        key,
        ref,
        `is not in this service's repository \`${raw.repository}\`.\nFix: use an image from that repository, or change \`repository\`.`,
      );
    }
    if (!parsed.digest && envDefaults.requireDigest) {
      push(
        key,
        ref,
        `must be pinned by digest in ${environment}: a tag can move, so the same config could deploy different code.\n` +
          "Fix: use `REPOSITORY@sha256:DIGEST` (`gcloud artifacts docker images describe IMAGE:TAG` prints the digest).",
      );
    } else if (!parsed.digest) {
      warnings.push(
        `${at(key)} is a tag, not a digest: pushing a new image under the same tag will not roll out a new revision.`,
      );
    }
  };
  if (!/^[a-z0-9.-]+(?::\d+)?(?:\/[a-z0-9._-]+)+$/.test(raw.repository)) {
    push(
      "repository",
      raw.repository,
      "is not an image repository.\nFix: e.g. `europe-west1-docker.pkg.dev/PROJECT/REPO/IMAGE`, without tag or digest.",
    );
  } else {
    checkImage("stable.image", stable?.image);
    checkImage("canary.image", raw.canary?.image);
  }

  const canary = raw.canary;
  if (canary && stable?.image && canary.image === stable.image) {
    push(
      "canary.image",
      canary.image,
      "is the stable image: there is nothing to compare.\nFix: start the canary with the new release's image.",
    );
  }
  if (canary?.rolledBack && canary.percent !== 0) {
    push(
      "canary.percent",
      canary.percent,
      "must be 0 while `rolledBack: true`: a rolled-back canary serves no traffic.\nFix: to retry it, `orchestra canary set SERVICE PERCENT` clears the rollback.",
    );
  }
  if (stable?.revision !== undefined) {
    if (!canary) {
      push(
        "stable.revision",
        stable.revision,
        "pins the stable revision during a canary, but there is no canary.\nFix: remove `stable.revision`.",
      );
    } else if (!stable.revision.startsWith(`${name}-`)) {
      push(
        "stable.revision",
        stable.revision,
        `must start with the service name: \`${name}-\`.\nFix: pin the revision that stable traffic is on now.`,
      );
    }
  }

  // Container shape.
  const cpu = raw.cpu ?? SERVICE_DEFAULTS.cpu;
  const memory = raw.memory ?? SERVICE_DEFAULTS.memory;
  const mib = memoryMiB(memory);
  const minCpu = mib > 24 * 1024 ? 8 : mib > 16 * 1024 ? 6 : mib > 8 * 1024 ? 4 : mib > 4 * 1024 ? 2 : 1;
  if (mib < 128 || mib > 32 * 1024) {
    push("memory", memory, "must be between 128Mi and 32Gi.\nFix: pick a size in that range.");
  } else if (Number(cpu) < minCpu) {
    push(
      "cpu",
      raw.cpu ?? cpu,
      `must be at least ${minCpu} for memory ${memory} (Cloud Run's memory-per-CPU limit).\nFix: raise cpu to ${minCpu} or lower memory.`,
    );
  } else if (mib < minMemoryMiB(cpu)) {
    push(
      "memory",
      memory,
      `must be at least ${minMemoryMiB(cpu) / 1024}Gi for ${cpu} CPUs (Cloud Run's memory-per-CPU limit).\nFix: raise memory or lower cpu.`,
    );
  }

  const minInstances = raw.scaling?.minInstances ?? envDefaults.minInstances;
  const maxInstances = raw.scaling?.maxInstances ?? SERVICE_DEFAULTS.maxInstances;
  if (minInstances > maxInstances) {
    push(
      "scaling.minInstances",
      minInstances,
      `must not exceed scaling.maxInstances (${maxInstances}).\nFix: lower minInstances or raise maxInstances.`,
    );
  }

  const env = Object.fromEntries(Object.entries(raw.env ?? {}).map(([k, v]) => [k, String(v)]));
  for (const key of [...Object.keys(env), ...Object.keys(raw.secretEnv ?? {})]) {
    if (RESERVED_ENV.has(key)) {
      push(
        `env.${key}`,
        key,
        "is set by Cloud Run itself and cannot be overridden.\nFix: rename the variable.",
      );
    }
  }
  for (const key of Object.keys(raw.secretEnv ?? {})) {
    if (key in env)
      push(`secretEnv.${key}`, key, "is also a plain `env` variable.\nFix: keep one of the two.");
  }

  if (issues.length > before) return undefined;
  return {
    name,
    regions: raw.regions ?? stackRegions,
    repository: raw.repository,
    stable: {
      ...(stable?.image ? { image: stable.image } : {}),
      ...(stable?.build ? { build: stable.build } : {}),
      ...(stable?.revision ? { revision: stable.revision } : {}),
    },
    ...(canary
      ? { canary: { image: canary.image, percent: canary.percent, rolledBack: canary.rolledBack ?? false } }
      : {}),
    cpu,
    memory,
    scaling: {
      minInstances,
      maxInstances,
      concurrency: raw.scaling?.concurrency ?? SERVICE_DEFAULTS.concurrency,
    },
    env,
    secretEnv: Object.fromEntries(
      Object.entries(raw.secretEnv ?? {}).map(([k, v]) => [
        k,
        { secret: v.secret, version: v.version ?? SERVICE_DEFAULTS.secretVersion },
      ]),
    ),
    ingress: raw.ingress ?? SERVICE_DEFAULTS.ingress,
    allowUnauthenticated: raw.allowUnauthenticated ?? SERVICE_DEFAULTS.allowUnauthenticated,
    invokers: raw.invokers ?? [],
    ...(raw.healthCheckPath ? { healthCheckPath: raw.healthCheckPath } : {}),
    port: raw.port ?? SERVICE_DEFAULTS.port,
    timeoutSeconds: raw.timeoutSeconds ?? SERVICE_DEFAULTS.timeoutSeconds,
    deletionProtection: raw.deletionProtection ?? envDefaults.deletionProtection,
  };
}

/** Cloud Run's smallest memory for a CPU count: 4 vCPU need 2 GiB, 6 and 8 need 4 GiB. */
function minMemoryMiB(cpu: string): number {
  return Number(cpu) >= 6 ? 4096 : Number(cpu) >= 4 ? 2048 : 0;
}

/**
 * A canary needs the stable revision named: recomputing it from the current settings would point
 * stable traffic at a revision that was never created as soon as any setting changes mid-canary.
 * The fix names the revision stable serves now, assuming settings have not changed since its deploy.
 */
function requireStablePin(service: ServiceConfig, project: string, issues: ConfigIssue[]): void {
  if (!service.canary || service.stable.revision) return;
  const current = service.stable.image
    ? revisionName(
        service.name,
        revisionTemplate(
          service,
          service.stable.image,
          serviceAccountEmail(runtimeAccountId(service.name), project),
        ),
      )
    : undefined;
  issues.push({
    path: `${PROJECT}:services.${service.name}.stable.revision`,
    hasValue: false,
    message:
      "is required while a canary runs: it names the existing revision that keeps serving stable traffic.\n" +
      (current
        ? `Fix: add \`revision: ${current}\` under \`stable\` (the stable revision for the current settings), or start canaries with \`orchestra canary start\`, which pins it.`
        : "Fix: add `revision:` under `stable` with the revision stable traffic is on (`gcloud run services describe`)."),
  });
}

function memoryMiB(memory: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(memory);
  if (!m) return 0;
  return Number(m[1]) * (m[2] === "Gi" ? 1024 : 1);
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function issue(path: string, value: unknown, message: string): ConfigIssue {
  return { path, value, hasValue: value !== undefined, message };
}

function unknownKey(
  path: string,
  value: unknown,
  name: string,
  known: readonly string[],
  prefix: string,
): ConfigIssue {
  const suggestion = suggestKey(name, known);
  const fix = suggestion
    ? `did you mean \`${prefix}${suggestion}\`?`
    : `remove it; known keys are ${known.map((k) => `\`${k}\``).join(", ")}.`;
  return issue(path, value, `is not a known key.\nFix: ${fix}`);
}

/** Known keys of the object a path points into, by walking the schema. */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let node: any = schema;
  const unwrap = () => {
    while (node?.def && ["optional", "default", "pipe", "nullable"].includes(node.def.type)) {
      node = node.def.type === "pipe" ? node.def.in : node.def.innerType;
    }
  };
  unwrap();
  for (const key of path) {
    if (node?.def?.type === "object") node = node.def.shape[key as string];
    else if (node?.def?.type === "record") node = node.def.valueType;
    else return [];
    unwrap();
  }
  return node?.def?.type === "object" ? Object.keys(node.def.shape) : [];
}

function valueAt(root: unknown, path: readonly PropertyKey[]): { found: boolean; value?: unknown } {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== "object" || !(key in (node as object))) return { found: false };
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return { found: true, value: node };
}

function zodIssues(error: z.ZodError, input: unknown, prefix: string): ConfigIssue[] {
  const schema = prefix === "gcp:" ? gcpSchema : projectSchema;
  const out: ConfigIssue[] = [];
  for (const zi of error.issues) {
    const dotted = prefix + zi.path.map(String).join(".");
    if (zi.code === "unrecognized_keys") {
      const known = knownKeysAt(schema, zi.path);
      for (const key of zi.keys) {
        const { value } = valueAt(input, [...zi.path, key]);
        out.push(unknownKey(`${dotted}.${key}`, value, key, known, ""));
      }
      continue;
    }
    const message = zi.code === "invalid_key" && zi.issues[0] ? zi.issues[0].message : zi.message;
    const at = valueAt(input, zi.path);
    if (zi.code === "invalid_key") {
      out.push({
        path: dotted,
        value: zi.path[zi.path.length - 1],
        hasValue: true,
        message: `has an invalid key: ${message}`,
      });
    } else if (!at.found || at.value === undefined) {
      out.push({ path: dotted, hasValue: false, message });
    } else {
      out.push({ path: dotted, value: at.value, hasValue: true, message });
    }
  }
  return out;
}
