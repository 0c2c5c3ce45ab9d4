import type { BalancedService } from "../../model/loadBalancer";

/** Requests carrying this header reach a service's canary revision through the balancer. */
export const CANARY_HEADER = { name: "X-Orchestra-Release", value: "canary" } as const;

/** Which release of a service a backend service serves. */
export type Release = "stable" | "canary";

export interface RoutedService extends BalancedService {
  readonly hasCanary: boolean;
}

export interface UrlMapRouting<T> {
  /** Hosts no rule claims go to the first service's stable backend. */
  readonly defaultService: T;
  readonly hostRules: { hosts: string[]; pathMatcher: string }[];
  readonly pathMatchers: {
    name: string;
    defaultService: T;
    routeRules?: {
      priority: number;
      matchRules: { prefixMatch: string; headerMatches: { headerName: string; exactMatch: string }[] }[];
      service: T;
    }[];
  }[];
}

/**
 * The URL map's routing: one host rule and path matcher per service (named after it), the stable
 * backend by default and, while a canary exists, a route rule sending requests with the canary
 * header to the canary backend. `backend` names a service's backend (an id, or a test's string).
 */
export function urlMapRouting<T>(
  services: readonly RoutedService[],
  backend: (service: string, release: Release) => T,
): UrlMapRouting<T> {
  if (services.length === 0) throw new Error("a URL map needs at least one service");
  return {
    defaultService: backend(services[0].name, "stable"),
    hostRules: services.map((s) => ({ hosts: [...s.domains], pathMatcher: s.name })),
    pathMatchers: services.map((s) => ({
      name: s.name,
      defaultService: backend(s.name, "stable"),
      ...(s.hasCanary
        ? {
            routeRules: [
              {
                priority: 1,
                matchRules: [
                  {
                    prefixMatch: "/",
                    headerMatches: [{ headerName: CANARY_HEADER.name, exactMatch: CANARY_HEADER.value }],
                  },
                ],
                service: backend(s.name, "canary"),
              },
            ],
          }
        : {}),
    })),
  };
}
