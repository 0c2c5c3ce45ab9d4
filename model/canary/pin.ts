import type { LiveRegionRead, LiveServicePresent } from "../live";

/**
 * The revision stable traffic is on in one region, as Cloud Run serves it: the `stable` tag's, else
 * the revision taking all traffic (`latest` standing for the latest ready one). Undefined when neither
 * is there (a split without a stable tag).
 */
export function servedStableRevision(state: LiveServicePresent): string | undefined {
  const served = state.trafficStatuses;
  const entry = served.find((t) => t.tag === "stable") ?? served.find((t) => t.percent === 100);
  if (!entry) return undefined;
  return entry.allocation === "latest" ? state.latestReadyRevision : entry.revision;
}

/**
 * Why `pin`, the stable revision the stack file's settings give, is not what Cloud Run serves as
 * stable in every region read: one line a region; empty when it is served everywhere. `canary start`
 * pins it, so a pin never deployed would move stable traffic to a revision that does not exist.
 */
export function pinProblems(pin: string, reads: readonly LiveRegionRead[]): string[] {
  return reads.flatMap((read): string[] => {
    if (!read.ok) return [`${read.region}: could not be read: ${read.failure.reason} (${read.failure.fix})`];
    if (!read.state.exists) return [`${read.region}: the service is not deployed there`];
    const served = servedStableRevision(read.state);
    if (served === pin) return [];
    return [
      `${read.region}: Cloud Run serves ${served ?? "no single stable revision"} as stable, not ${pin}`,
    ];
  });
}
