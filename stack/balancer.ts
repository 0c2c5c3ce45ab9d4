import { GlobalLoadBalancer } from "../components/loadbalancer";
import type { StackConfig } from "../model/types";
import type { StackServices } from "./services";

/**
 * The global load balancer, when the stack declares one: one serverless NEG per balanced service and
 * region. Undefined without `ai-orchestra:loadBalancer`.
 */
export function declareBalancer(
  config: StackConfig,
  services: StackServices,
): GlobalLoadBalancer | undefined {
  if (!config.loadBalancer) return undefined;
  const balanced = [...services.values()].filter((s) => s.balancedUrl !== undefined);
  return new GlobalLoadBalancer(
    "lb",
    {
      project: config.project,
      stack: config.stack,
      labels: config.labels,
      config: config.loadBalancer,
      backends: balanced.map(({ config: s }) => ({
        service: s.name,
        regions: s.regions,
        hasCanary: s.canary !== undefined,
      })),
    },
    // The NEGs need the Cloud Run services (and their canary tags) to exist: depend on those, not on
    // the components, which would make every NEG wait on every identity, grant and revision.
    { dependsOn: balanced.flatMap((s) => Object.values(s.run.regions).map((r) => r.service)) },
  );
}
