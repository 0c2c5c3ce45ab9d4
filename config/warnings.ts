import { parseImageRef } from "../model/imageRef";
import type { StackConfig } from "../model/types";

/** What a valid config should still make its author look twice at. */
export function warningsOf(config: StackConfig): string[] {
  const warnings: string[] = [];
  for (const service of config.services) {
    for (const [key, ref] of [
      ["stable.image", service.stable.image],
      ["canary.image", service.canary?.image],
    ] as const) {
      if (ref !== undefined && !parseImageRef(ref)?.digest) {
        warnings.push(
          `ai-orchestra:services.${service.name}.${key} is a tag, not a digest: pushing a new image under the same tag will not roll out a new revision.`,
        );
      }
    }
  }
  for (const { name } of [...(config.loadBalancer?.services ?? [])].sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (!config.services.find((s) => s.name === name)?.allowUnauthenticated) {
      warnings.push(
        `ai-orchestra:loadBalancer.services.${name}: the service does not allow unauthenticated invocations, so Cloud Run refuses ` +
          "requests through the balancer that carry no ID token of an invoker.",
      );
    }
  }
  for (const service of config.services) {
    if (service.breakglassJustification)
      warnings.push(
        `ai-orchestra:services.${service.name}.breakglassJustification is set: every deploy of ${service.name} bypasses Binary Authorization and pages the on-call until it is removed.`,
      );
  }
  if (config.environment === "prod" && !config.monitoring.channels.some((c) => c.receives.includes("page"))) {
    warnings.push(
      "ai-orchestra:monitoring.channels has no channel receiving `page`: prod alerts that page reach no one.",
    );
  }
  return warnings;
}
