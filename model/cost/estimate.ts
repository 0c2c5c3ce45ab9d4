import type { DeclaredBalancer, DeclaredRunService, DeclaredStack, RunBilling } from "./declared";
import {
  CLOUD_ARMOR,
  CLOUD_RUN,
  FORWARDING_RULES,
  HOURS_PER_MONTH,
  PRICE_TABLE_DATE,
  RUN_REGION_TIERS,
  SECONDS_PER_MONTH,
  type RunTier,
} from "./prices";

/**
 * The monthly always-on baseline of a stack: what it costs with no traffic at all. Min instances (CPU
 * and memory per region and billing mode), the balancer's forwarding rules and Cloud Armor's policy and
 * rules. Everything traffic drives (requests, CPU while serving, data processed, egress, logs) is not
 * estimated, and free tiers (per billing account, not per stack) are not subtracted.
 */

/** One service in one region. `monthlyUsd` is undefined when the region has no price: see `unpriced`. */
export interface RegionCost {
  readonly service: string;
  readonly region: string;
  readonly tier?: RunTier;
  readonly billing: RunBilling;
  /** Instances kept warm all month. */
  readonly instances: number;
  readonly cpu: number;
  readonly memoryGiB: number;
  readonly cpuUsd?: number;
  readonly memoryUsd?: number;
  readonly monthlyUsd?: number;
  /** Why this line has no price. */
  readonly unpriced?: string;
}

export interface ServiceCost {
  readonly service: string;
  /** The priced regions' sum. */
  readonly monthlyUsd: number;
  /** Some region of it has no price: `monthlyUsd` is a lower bound. */
  readonly incomplete: boolean;
}

export interface Estimate {
  readonly hoursPerMonth: number;
  readonly priceTableDate: string;
  readonly regions: readonly RegionCost[];
  readonly services: readonly ServiceCost[];
  readonly balancer?: { readonly forwardingRules: number; readonly monthlyUsd: number };
  readonly armor?: { readonly policies: number; readonly rules: number; readonly monthlyUsd: number };
  /** Everything priced; a lower bound when `complete` is false. */
  readonly totalUsd: number;
  readonly complete: boolean;
}

/** The assumptions behind every estimate, as `orchestra cost` prints them. */
export const ASSUMPTIONS: readonly string[] = [
  `A month is ${HOURS_PER_MONTH} hours; prices are list prices in USD.`,
  "Only the always-on baseline: min instances, forwarding rules, Cloud Armor's policy and rules. Requests, CPU while serving, data processed and egress are driven by traffic and not estimated.",
  "Free tiers are not subtracted: they are per billing account, shared by every project on it.",
  "Min instances on the service are shared by the revisions with traffic: a canary, or a tagged revision at 0%, adds none.",
  "Under request-based billing an idle min instance pays the idle rate; under instance-based billing it pays the full rate.",
  "The first five forwarding rules of a project are billed together: the stack's are assumed to be the project's only ones.",
];

/**
 * Instances Cloud Run keeps warm: the service-level min instances once (shared by the revisions with
 * traffic), plus the revision-level ones for every revision the traffic list names, even at 0%. Google
 * advises against setting both; their sum is then an upper bound.
 */
export function warmInstances(s: DeclaredRunService): number {
  return s.serviceMinInstances + s.revisionMinInstances * s.addressableRevisions;
}

/** The month of one service in one region. */
export function regionCost(s: DeclaredRunService): RegionCost {
  const instances = warmInstances(s);
  const base = {
    service: s.service,
    region: s.region,
    billing: s.billing,
    instances,
    cpu: s.cpu,
    memoryGiB: s.memoryGiB,
  };
  const tier = RUN_REGION_TIERS[s.region];
  if (!tier)
    return {
      ...base,
      unpriced: `${s.region} is not in the price table's region tiers (model/cost/prices.ts): add it with its tier from the Cloud Run locations page.`,
    };
  const rates = CLOUD_RUN[tier][s.billing === "instance" ? "instance" : "idle"];
  const cpuUsd = instances * s.cpu * SECONDS_PER_MONTH * rates.cpu.usd;
  const memoryUsd = instances * s.memoryGiB * SECONDS_PER_MONTH * rates.memory.usd;
  return { ...base, tier, cpuUsd, memoryUsd, monthlyUsd: cpuUsd + memoryUsd };
}

/** The forwarding rules' month: the first five together, then each one beyond. */
export function forwardingRulesMonthly(rules: number): number {
  if (rules <= 0) return 0;
  const hourly = FORWARDING_RULES.firstFive.usd + Math.max(rules - 5, 0) * FORWARDING_RULES.additional.usd;
  return hourly * HOURS_PER_MONTH;
}

/** Cloud Armor's month: per policy and per rule. */
export function armorMonthly(b: DeclaredBalancer): number {
  return b.armorPolicies * CLOUD_ARMOR.policy.usd + b.armorRules * CLOUD_ARMOR.rule.usd;
}

export function estimate(stack: DeclaredStack): Estimate {
  const regions = stack.services.map(regionCost);
  const names = [...new Set(regions.map((r) => r.service))];
  const services = names.map((service) => {
    const own = regions.filter((r) => r.service === service);
    return {
      service,
      monthlyUsd: own.reduce((sum, r) => sum + (r.monthlyUsd ?? 0), 0),
      incomplete: own.some((r) => r.monthlyUsd === undefined),
    };
  });
  const b = stack.balancer;
  const balancer = b && {
    forwardingRules: b.forwardingRules,
    monthlyUsd: forwardingRulesMonthly(b.forwardingRules),
  };
  const armor =
    b && b.armorPolicies > 0
      ? { policies: b.armorPolicies, rules: b.armorRules, monthlyUsd: armorMonthly(b) }
      : undefined;
  const totalUsd =
    services.reduce((sum, s) => sum + s.monthlyUsd, 0) +
    (balancer?.monthlyUsd ?? 0) +
    (armor?.monthlyUsd ?? 0);
  return {
    hoursPerMonth: HOURS_PER_MONTH,
    priceTableDate: PRICE_TABLE_DATE,
    regions,
    services,
    ...(balancer ? { balancer } : {}),
    ...(armor ? { armor } : {}),
    totalUsd,
    complete: services.every((s) => !s.incomplete),
  };
}

/** One line of a comparison: a service, or the balancer's forwarding rules, or Cloud Armor. */
export interface CostChange {
  readonly item: string;
  readonly beforeUsd: number;
  readonly afterUsd: number;
}

/** What moves between two estimates, by service, then the balancer and Cloud Armor; unchanged lines left out. */
export function costChanges(before: Estimate | undefined, after: Estimate): CostChange[] {
  const lines = (e: Estimate | undefined): Map<string, number> =>
    new Map([
      ...(e?.services ?? []).map((s) => [s.service, s.monthlyUsd] as const),
      ["load balancer (forwarding rules)", e?.balancer?.monthlyUsd ?? 0],
      ["Cloud Armor", e?.armor?.monthlyUsd ?? 0],
    ]);
  const b = lines(before);
  const a = lines(after);
  return [...new Set([...a.keys(), ...b.keys()])]
    .map((item) => ({ item, beforeUsd: b.get(item) ?? 0, afterUsd: a.get(item) ?? 0 }))
    .filter((c) => Math.abs(c.afterUsd - c.beforeUsd) >= 0.005);
}

/** `$1,234.56`; `-$3.20` below zero. */
/** An amount rounded to cents, as the JSON documents give them. */
export const cents = (amount: number) => Math.round(amount * 100) / 100;

export function usd(amount: number): string {
  const text = Math.abs(amount).toLocaleString("en-US", {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });
  return `${amount < -0.004 ? "-" : ""}$${text}`;
}

/** `+$3.20`, `-$3.20`. */
export const signedUsd = (amount: number): string => (amount >= 0 ? `+${usd(amount)}` : usd(amount));
