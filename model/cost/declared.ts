import { serviceScaling, revisionTemplate } from "../release/template";
import { memoryMiB } from "../memory";
import { planRelease } from "../release/traffic";
import type { StackConfig } from "../types";

/**
 * What a stack's always-on bill depends on, as the program declares it: read either from the validated
 * config through the same decisions the program makes (`orchestra cost`), or from the resources a render
 * declares (`orchestra diff`, which compares two renders, program changes included).
 */

/** How Cloud Run bills an instance: `cpuIdle: true` is request-based, anything else instance-based. */
export type RunBilling = "instance" | "request";

/** One Cloud Run service in one region. */
export interface DeclaredRunService {
  readonly service: string;
  readonly region: string;
  /** vCPUs of one instance (all its containers). */
  readonly cpu: number;
  /** GiB of one instance (all its containers). */
  readonly memoryGiB: number;
  readonly billing: RunBilling;
  /** The service's `scaling.minInstanceCount`: divided among the revisions that get traffic. */
  readonly serviceMinInstances: number;
  /** The template's `scaling.minInstanceCount`: started for every revision the traffic list names. */
  readonly revisionMinInstances: number;
  /** Revisions the traffic list names, with a percent or a tag (a tagged revision at 0% too). */
  readonly addressableRevisions: number;
}

/** The balancer's billed parts. */
export interface DeclaredBalancer {
  readonly forwardingRules: number;
  /** Cloud Armor security policies, and the rules in them. */
  readonly armorPolicies: number;
  readonly armorRules: number;
}

export interface DeclaredStack {
  readonly services: readonly DeclaredRunService[];
  /** Absent: no balancer. */
  readonly balancer?: DeclaredBalancer;
}

/** `1`, `2`, `0.5`, `1000m` → vCPUs. */
export function parseCpu(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(text.trim());
  if (!m) throw new Error(`cannot read the CPU limit "${text}": expected e.g. "1", "2" or "1000m".`);
  return Number(m[1]) / (m[2] ? 1000 : 1);
}

/** `512Mi`, `1Gi`, `2G` → GiB. */
export function parseMemoryGiB(text: string): number {
  const mib = memoryMiB(text);
  if (mib === undefined)
    throw new Error(`cannot read the memory limit "${text}": expected e.g. "512Mi" or "1Gi".`);
  return mib / 1024;
}

/**
 * Each service in each region as the program declares it, from config alone: the template and the
 * service-level scaling of `model/release/template.ts`, and the traffic list of `planRelease`. Revision
 * names do not matter here, only how many revisions the list names.
 */
export function declaredServices(config: StackConfig): DeclaredRunService[] {
  return config.services.flatMap((svc) => {
    const template = revisionTemplate(svc, svc.stable.image ?? "", "");
    // The template sets no min instances today; one that did would start them for every named revision.
    const scaling: Readonly<Record<string, number | undefined>> = template.scaling;
    const traffic = planRelease(svc, { stable: "stable", canary: svc.canary?.revision }).traffic;
    const containers = template.containers;
    return svc.regions.map((region) => ({
      service: svc.name,
      region,
      cpu: containers.reduce((sum, c) => sum + parseCpu(c.resources.limits.cpu), 0),
      memoryGiB: containers.reduce((sum, c) => sum + parseMemoryGiB(c.resources.limits.memory), 0),
      billing: containers[0].resources.cpuIdle ? ("request" as const) : ("instance" as const),
      serviceMinInstances: serviceScaling(svc).minInstanceCount,
      revisionMinInstances: scaling.minInstanceCount ?? 0,
      addressableRevisions: new Set(traffic.filter((t) => t.percent > 0 || t.tag).map((t) => t.revision))
        .size,
    }));
  });
}

/** A rendered resource: its Pulumi type and raw inputs (`render/` produces these). */
export interface DeclaredResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Readonly<Record<string, unknown>>;
}

const CLOUD_RUN = "gcp:cloudrunv2/service:Service";
const FORWARDING_RULE = "gcp:compute/globalForwardingRule:GlobalForwardingRule";
const SECURITY_POLICY = "gcp:compute/securityPolicy:SecurityPolicy";

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const count = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** One rendered Cloud Run service, read as Cloud Run bills it. */
export function declaredRunService(resource: DeclaredResource): DeclaredRunService {
  const inputs = resource.inputs;
  const template = obj(inputs.template);
  const containers = list(template.containers).map((c) => obj(obj(c).resources));
  const limit = (c: Json, key: "cpu" | "memory") => obj(c.limits)[key];
  // Cloud Run's defaults when a limit is unset: 1 vCPU, 512 MiB.
  const cpu = containers.reduce((sum, c) => sum + parseCpu(String(limit(c, "cpu") ?? "1")), 0);
  const memoryGiB = containers.reduce(
    (sum, c) => sum + parseMemoryGiB(String(limit(c, "memory") ?? "512Mi")),
    0,
  );
  const addressable = list(inputs.traffics)
    .map(obj)
    .filter((t) => count(t.percent) > 0 || (typeof t.tag === "string" && t.tag !== ""))
    .map((t) => String(t.revision ?? t.type ?? ""));
  return {
    service: typeof inputs.name === "string" ? inputs.name : resource.name,
    region: typeof inputs.location === "string" ? inputs.location : "(unknown)",
    cpu,
    memoryGiB,
    // With limits set and cpuIdle unset, Cloud Run allocates CPU for the instance's whole life.
    billing: containers[0]?.cpuIdle === true ? "request" : "instance",
    serviceMinInstances: count(obj(inputs.scaling).minInstanceCount),
    revisionMinInstances: count(obj(template.scaling).minInstanceCount),
    // An empty list sends everything to the latest revision: one revision gets traffic.
    addressableRevisions: Math.max(new Set(addressable).size, 1),
  };
}

/** What a render declares that the estimate prices. */
export function declaredFromResources(resources: readonly DeclaredResource[]): DeclaredStack {
  const rules = resources.filter((r) => r.type === FORWARDING_RULE).length;
  const policies = resources.filter((r) => r.type === SECURITY_POLICY);
  const armorRules = policies.reduce((sum, p) => sum + list(p.inputs.rules).length, 0);
  return {
    services: resources.filter((r) => r.type === CLOUD_RUN).map(declaredRunService),
    ...(rules + policies.length > 0
      ? { balancer: { forwardingRules: rules, armorPolicies: policies.length, armorRules } }
      : {}),
  };
}
