export { declareBalancer } from "./balancer";
export { declareDelivery, declareRegistry, type StackDelivery } from "./delivery";
export {
  declareMonitoring,
  publiclyReachable,
  type ObservedService,
  type StackMonitoring,
} from "./monitoring";
export { balancerOutputs, deliveryOutputs, endpointOutputs, observabilityOutputs } from "./outputs";
export { declareQueues } from "./queues";
export { declareServices, type StackService, type StackServices } from "./services";
export { declareAdmission } from "./supplyChain";
