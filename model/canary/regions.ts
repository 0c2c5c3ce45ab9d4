import type { LiveTraffic as LiveTarget } from "../endpoints";
import type { TrafficTarget } from "../release/traffic";

export type { LiveTarget };

export interface RegionReport {
  readonly region: string;
  readonly traffic: readonly LiveTarget[];
  /** The region serves what the stack file asks for. */
  readonly matchesConfig: boolean;
  /** The region serves something other than most regions: an error, since every region moves together. */
  readonly disagrees: boolean;
}

export interface RegionAgreement {
  readonly regions: readonly RegionReport[];
  /** Regions that disagree with the others, with why. */
  readonly problems: readonly string[];
  /** All regions agree with each other but not with the stack file: a change not applied yet. */
  readonly pending: boolean;
}

/** A split in a canonical form, so entry order does not matter. */
export function splitKey(traffic: readonly LiveTarget[]): string {
  return traffic
    .filter((t) => t.percent > 0 || t.tag)
    .map((t) => `${t.tag ?? ""}:${t.revision}:${t.percent}`)
    .sort()
    .join(",");
}

export const describeSplit = (traffic: readonly LiveTarget[]): string =>
  traffic.length === 0
    ? "no traffic reported"
    : traffic.map((t) => `${t.tag ?? "untagged"} ${t.revision} ${t.percent}%`).join(", ");

/**
 * Compares what each region serves with the other regions and with the stack file. The majority split
 * is the reference; on a tie the stack file's split wins, so a region left behind by a failed deploy is
 * the one reported.
 */
export function regionAgreement(
  expected: readonly TrafficTarget[],
  live: Readonly<Record<string, readonly LiveTarget[]>>,
): RegionAgreement {
  const wanted = splitKey(expected);
  const counts = new Map<string, number>();
  for (const traffic of Object.values(live))
    counts.set(splitKey(traffic), (counts.get(splitKey(traffic)) ?? 0) + 1);
  const reference = [...counts.entries()].sort(
    (a, b) => b[1] - a[1] || Number(b[0] === wanted) - Number(a[0] === wanted),
  )[0]?.[0];
  const regions = Object.entries(live)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([region, traffic]) => ({
      region,
      traffic,
      matchesConfig: splitKey(traffic) === wanted,
      disagrees: splitKey(traffic) !== reference,
    }));
  const referenceRegions = regions.filter((r) => !r.disagrees).map((r) => r.region);
  const problems = regions
    .filter((r) => r.disagrees)
    .map(
      (r) =>
        `${r.region} serves ${describeSplit(r.traffic)}, but ${referenceRegions.join(", ")} serve${referenceRegions.length === 1 ? "s" : ""} ` +
        `${describeSplit(live[referenceRegions[0]] ?? [])}.`,
    );
  return {
    regions,
    problems,
    pending: problems.length === 0 && regions.length > 0 && !regions[0].matchesConfig,
  };
}
