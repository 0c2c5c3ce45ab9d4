import { loadStackConfig } from "./config/load";
import {
  balancerOutputs,
  declareAdmission,
  declareBalancer,
  declareDelivery,
  declareMonitoring,
  declareQueues,
  declareRegistry,
  declareServices,
  deliveryOutputs,
  endpointOutputs,
  observabilityOutputs,
} from "./stack";

// Validate everything first: a bad config stops here, before any resource is declared.
const config = loadStackConfig();

// One record per service, keyed by name, feeds every module after it. The registry and Binary
// Authorization come first (the services wait for them), the balancer and the queues after the Cloud
// Run services they point at.
const registry = declareRegistry(config);
const admission = declareAdmission(config);
const services = declareServices(config, registry, admission?.policy);
const balancer = declareBalancer(config, services);
declareQueues(config, services);
const cicd = declareDelivery(config, services, registry, admission);
const monitoring = declareMonitoring(config, services);

// The stack outputs. A stack without a balancer, or without CI/CD, exports no such output: an undefined
// export shows nowhere and only draws a warning from `pulumi preview` and `pulumi up`.
export = {
  /** The balancer's address (point DNS here), each service's URL through it, and the canary header. */
  ...(balancer && { loadBalancer: balancerOutputs(balancer) }),

  /** Per service: its URLs, the traffic split asked for, and what each region's Cloud Run reports. */
  serviceEndpoints: endpointOutputs(services),

  /** Keyless CI/CD: what GitHub Actions authenticates with, and where images go. */
  ...(cicd && { delivery: deliveryOutputs(cicd) }),

  /** Dashboards and SLOs to open: the overview, and per service its dashboard and SLO names. */
  observability: observabilityOutputs(monitoring),
};
