import { parse } from "yaml";
import type { ServiceEndpoint } from "../../cli/rollout/readiness";
import type { LiveTraffic } from "../../model/endpoints";

export const CANARY_REVISION = "api-canary-rev";
export const STABLE_REVISION = "api-stable-rev";

export interface StandInCloud {
  /** Region name to the base URL its canary tag answers on (a local HTTP server). */
  readonly regions: Readonly<Record<string, string>>;
  /** Present: the service sits behind a balancer at this URL, with this canary header. */
  readonly loadBalancer?: { url: string; canaryHeader: { name: string; value: string } };
  /** A region whose new revision never becomes ready: it keeps serving the old one. */
  readonly staleRegion?: string;
  /** A region that routes this percent to the canary whatever was asked. */
  readonly wrongPercent?: { region: string; percent: number };
  /** Leave out `regions` (a stack whose program predates them): top-level fields only. */
  readonly topLevelOnly?: boolean;
}

/**
 * `serviceEndpoints` as the program outputs it after an `up` of `stackText`: the canary revision is
 * ready and takes the file's canary percent in every region, unless the cloud is told otherwise.
 */
export function standInOutputs(
  stackText: string,
  service: string,
  cloud: StandInCloud,
): Record<string, unknown> {
  const svc = parse(stackText).config["ai-orchestra:services"][service];
  const canary: { percent?: number } | undefined = svc.canary;
  const percent = canary?.percent ?? 0;
  const split: LiveTraffic[] = canary
    ? [
        { revision: STABLE_REVISION, percent: 100 - percent, tag: "stable" },
        { revision: CANARY_REVISION, percent, tag: "canary" },
      ]
    : [{ revision: CANARY_REVISION, percent: 100, tag: "stable" }];
  const names = Object.keys(cloud.regions);
  const regions = Object.fromEntries(
    names.map((region) => {
      const stale = cloud.staleRegion === region;
      const share = cloud.wrongPercent?.region === region ? cloud.wrongPercent.percent : percent;
      const traffic = stale
        ? [{ revision: STABLE_REVISION, percent: 100, tag: "stable" }]
        : split.map((t) => (t.tag === "canary" ? { ...t, percent: share } : t));
      return [
        region,
        {
          url: cloud.regions[region],
          stableUrl: cloud.regions[region],
          canaryUrl: `${cloud.regions[region]}/`,
          latestReadyRevision: stale ? STABLE_REVISION : CANARY_REVISION,
          latestCreatedRevision: CANARY_REVISION,
          traffic,
        },
      ];
    }),
  );
  const first = regions[names[0]];
  const endpoint: ServiceEndpoint = {
    url: first.url,
    stableUrl: first.stableUrl,
    canaryUrl: first.canaryUrl,
    split,
    revision: CANARY_REVISION,
    latestReadyRevision: first.latestReadyRevision,
    ...(cloud.topLevelOnly ? {} : { regions }),
    ...(cloud.loadBalancer ? { loadBalancer: cloud.loadBalancer } : {}),
  };
  return { serviceEndpoints: { [service]: endpoint } };
}
