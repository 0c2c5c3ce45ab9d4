/**
 * Uptime checkers call from the internet without credentials, so only a public service with a health
 * path gets a check (an internal or authenticated one would always fail).
 */
export function uptimeCheckTarget(
  healthCheckPath: string | undefined,
  publiclyReachable: boolean,
): { path: string } | undefined {
  if (!healthCheckPath || !publiclyReachable) return undefined;
  return { path: healthCheckPath };
}
