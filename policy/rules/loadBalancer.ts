import { CLOUD_RUN_SERVICE, serviceName } from "./cloudrun";
import type { PolicyResource, StackRule } from "./types";
import { known } from "./values";

export const SERVERLESS_NEG = "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup";
const LB_INGRESS = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER";

/** `service@region` of every Cloud Run service a serverless NEG sends load-balancer traffic to. */
export function balancedServices(resources: readonly PolicyResource[]): Set<string> {
  const out = new Set<string>();
  for (const neg of resources.filter((r) => r.type === SERVERLESS_NEG)) {
    if (known(neg.props, "networkEndpointType") !== "SERVERLESS") continue;
    const service = known(neg.props, "cloudRun.service");
    if (typeof service === "string") out.add(`${service}@${String(known(neg.props, "region", true))}`);
  }
  return out;
}

/** Where a Cloud Run service runs, as `balancedServices` names it. */
export const serviceKey = (svc: PolicyResource) =>
  `${serviceName(svc.props, svc.name)}@${String(known(svc.props, "location", true))}`;

export const balancerIngress: StackRule = {
  id: "balancer-ingress",
  kind: "stack",
  description:
    "A Cloud Run service behind the load balancer takes traffic only from it (ingress internal-and-cloud-load-balancing), so nothing bypasses Cloud Armor.",
  check(resources) {
    const balanced = balancedServices(resources);
    return resources
      .filter((r) => r.type === CLOUD_RUN_SERVICE && balanced.has(serviceKey(r)))
      .filter((r) => known(r.props, "ingress") !== LB_INGRESS)
      .map((r) => {
        const name = serviceName(r.props, r.name);
        return {
          resource: r,
          message: `${name} in ${String(known(r.props, "location"))} is behind the load balancer but its ingress is ${String(known(r.props, "ingress") ?? "INGRESS_TRAFFIC_ALL")}: requests can reach its run.app URL around Cloud Armor.`,
          fix: `remove \`ingress\` from \`ai-orchestra:services.${name}\` (behind the balancer it is internal-and-cloud-load-balancing).`,
        };
      });
  },
};
