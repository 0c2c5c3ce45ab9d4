import type { LiveTarget } from "../../model/canary/regions";
import { exec } from "../exec";

/** What the deployed stack reports per service and region, from its `serviceEndpoints` output. */
export type LiveRegions = Readonly<Record<string, Readonly<Record<string, readonly LiveTarget[]>>>>;

export type LiveRead =
  { readonly ok: true; readonly services: LiveRegions } | { readonly ok: false; readonly reason: string };

/**
 * Reads the stack's last deployed outputs with the Pulumi CLI (`pulumi stack output`): what Cloud Run
 * reported serving in each region at the end of the last `pulumi up`.
 */
export async function readLiveRegions(dir: string, stack: string): Promise<LiveRead> {
  const result = await exec("pulumi", ["stack", "output", "serviceEndpoints", "--json", "--stack", stack], {
    cwd: dir,
    timeoutMs: 60_000,
  });
  if (result.missing) {
    return { ok: false, reason: "the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/)." };
  }
  if (result.code !== 0) {
    const why = result.stderr.trim().split("\n").slice(-1)[0] || `exit code ${String(result.code)}`;
    return {
      ok: false,
      reason: `\`pulumi stack output\` failed: ${why} (is the stack deployed, and are you logged in?)`,
    };
  }
  try {
    return { ok: true, services: parseLiveRegions(JSON.parse(result.stdout)) };
  } catch (e) {
    return {
      ok: false,
      reason: `the stack's serviceEndpoints output is not what this version writes: ${(e as Error).message}`,
    };
  }
}

/** Per service, per region, the live traffic list; services deployed before regions existed have none. */
export function parseLiveRegions(output: unknown): LiveRegions {
  if (!output || typeof output !== "object") throw new Error("expected an object of services");
  const services: Record<string, Record<string, LiveTarget[]>> = {};
  for (const [name, value] of Object.entries(output as Record<string, unknown>)) {
    const regions = (value as { regions?: unknown } | null)?.regions;
    if (!regions || typeof regions !== "object") continue;
    services[name] = {};
    for (const [region, r] of Object.entries(regions as Record<string, unknown>)) {
      const traffic = (r as { traffic?: unknown } | null)?.traffic;
      if (!Array.isArray(traffic)) throw new Error(`${name}.regions.${region}.traffic is not a list`);
      services[name][region] = traffic.map((t: { revision?: unknown; percent?: unknown; tag?: unknown }) => ({
        revision: String(t.revision ?? ""),
        percent: Number(t.percent ?? 0),
        ...(typeof t.tag === "string" && t.tag ? { tag: t.tag } : {}),
      }));
    }
  }
  return services;
}
