import { parse } from "yaml";
import type { ServiceEndpoint } from "../../cli/rollout/endpoints";

export interface StandInUrls {
  /** Region name to the base URL its canary tag answers on (a local HTTP server). */
  readonly regions: Readonly<Record<string, string>>;
  /** Present: the service sits behind a balancer at this URL, with this canary header. */
  readonly loadBalancer?: { url: string; canaryHeader: { name: string; value: string } };
  /** Leave out `regions` (a stack whose program predates them): top-level fields only. */
  readonly topLevelOnly?: boolean;
}

/** A canary's revision: an attempt name `<service>-<hash10>-<attempt6>`, never a stable content name. */
export const isCanaryRevision = (name: string | null | undefined): boolean =>
  /^[a-z][a-z0-9-]*-[0-9a-f]{10}-[0-9a-z]{6}$/.test(name ?? "");

/**
 * `serviceEndpoints` as the program outputs it after an `up` of `stackText`, as far as the rollout uses
 * it: where each region's canary tag, or the balancer, answers (local HTTP servers).
 */
export function standInOutputs(
  stackText: string,
  service: string,
  urls: StandInUrls,
): Record<string, unknown> {
  const svc = parse(stackText).config["ai-orchestra:services"][service];
  const revision: string | undefined = svc.canary?.revision;
  const names = Object.keys(urls.regions);
  const regions = Object.fromEntries(
    names.map((region) => [
      region,
      { url: urls.regions[region], stableUrl: urls.regions[region], canaryUrl: `${urls.regions[region]}/` },
    ]),
  );
  const first = regions[names[0]];
  const endpoint: ServiceEndpoint = {
    url: first.url,
    stableUrl: first.stableUrl,
    canaryUrl: first.canaryUrl,
    ...(revision ? { revision } : {}),
    ...(urls.topLevelOnly ? {} : { regions }),
    ...(urls.loadBalancer ? { loadBalancer: urls.loadBalancer } : {}),
  };
  return { serviceEndpoints: { [service]: endpoint } };
}
