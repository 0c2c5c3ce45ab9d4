import { armorRules } from "../../components/loadbalancer/armorRules";
import { FORWARDING_RULES } from "../../components/loadbalancer/plan";
import { declaredServices, type DeclaredStack } from "../../model/cost/declared";
import { ASSUMPTIONS, cents, estimate, usd, type Estimate, type RegionCost } from "../../model/cost/estimate";
import type { StackConfig } from "../../model/types";
import { color, printJson, projectDir, table } from "../output";
import { loadValidStack } from "../stackEditor";

/** The stack as the program declares it, from config alone: no render, no Pulumi SDK. */
export function declaredStack(config: StackConfig): DeclaredStack {
  const lb = config.loadBalancer;
  return {
    services: declaredServices(config),
    ...(lb
      ? {
          balancer: {
            forwardingRules: Object.keys(FORWARDING_RULES).length,
            armorPolicies: 1,
            armorRules: armorRules(lb.armor).length,
          },
        }
      : {}),
  };
}

const centsOrNull = (n: number | undefined) => (n === undefined ? null : cents(n));

/** The `--json` document (docs/cli.md#orchestra-cost): amounts in USD, rounded to cents. */
export function costDocument(stack: string, e: Estimate) {
  const region = (r: RegionCost) => ({
    region: r.region,
    tier: r.tier ?? null,
    billing: r.billing,
    instances: r.instances,
    cpu: r.cpu,
    memoryGiB: r.memoryGiB,
    cpuUsd: centsOrNull(r.cpuUsd),
    memoryUsd: centsOrNull(r.memoryUsd),
    monthlyUsd: centsOrNull(r.monthlyUsd),
    ...(r.unpriced ? { unpriced: r.unpriced } : {}),
  });
  return {
    stack,
    currency: "USD",
    priceTableDate: e.priceTableDate,
    hoursPerMonth: e.hoursPerMonth,
    services: e.services.map((s) => ({
      service: s.service,
      monthlyUsd: cents(s.monthlyUsd),
      incomplete: s.incomplete,
      regions: e.regions.filter((r) => r.service === s.service).map(region),
    })),
    balancer: e.balancer ? { ...e.balancer, monthlyUsd: cents(e.balancer.monthlyUsd) } : null,
    armor: e.armor ? { ...e.armor, monthlyUsd: cents(e.armor.monthlyUsd) } : null,
    totalUsd: cents(e.totalUsd),
    complete: e.complete,
    assumptions: ASSUMPTIONS,
  };
}

const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;
const tierText = (r: RegionCost) => (r.tier ? r.tier.replace("tier", "tier ") : "?");

/** The terminal table: a line per service and region, then the balancer, Cloud Armor and the total. */
export function formatCost(stack: string, e: Estimate): string {
  const rows: string[][] = [["service", "region", "tier", "billing", "warm", "instance", "per month"]];
  for (const r of e.regions)
    rows.push([
      r.service,
      r.region,
      tierText(r),
      r.billing === "request" ? "request-based" : "instance-based",
      String(r.instances),
      `${r.cpu} vCPU, ${r.memoryGiB} GiB`,
      r.monthlyUsd === undefined ? color.yellow("unpriced") : usd(r.monthlyUsd),
    ]);
  if (e.balancer)
    rows.push([
      "load balancer",
      "global",
      "",
      plural(e.balancer.forwardingRules, "forwarding rule"),
      "",
      "",
      usd(e.balancer.monthlyUsd),
    ]);
  if (e.armor)
    rows.push([
      "Cloud Armor",
      "global",
      "",
      `${plural(e.armor.policies, "policy", "policies")}, ${plural(e.armor.rules, "rule")}`,
      "",
      "",
      usd(e.armor.monthlyUsd),
    ]);
  rows.push(["total", "", "", "", "", "", color.bold(`${e.complete ? "" : "at least "}${usd(e.totalUsd)}`)]);
  const lines = [
    color.bold(`Stack ${stack}: the monthly always-on baseline`),
    `Prices of ${e.priceTableDate} (model/cost/prices.ts), USD, ${e.hoursPerMonth} hours a month.`,
    "",
    table(rows),
    "",
  ];
  for (const r of e.regions)
    if (r.unpriced) lines.push(color.yellow(`warning: ${r.service} in ${r.unpriced}`));
  lines.push(
    "Not estimated: anything traffic drives (requests, CPU while serving, data processed, egress). Free tiers",
    "are not subtracted. See docs/cost.md.",
  );
  return `${lines.join("\n")}\n`;
}

export function runCost(opts: { stack: string; json?: boolean }): void {
  const { config } = loadValidStack(projectDir(), opts.stack);
  const e = estimate(declaredStack(config));
  if (opts.json) printJson(costDocument(config.stack, e));
  else process.stdout.write(formatCost(config.stack, e));
}
