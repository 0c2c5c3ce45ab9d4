export { armorRules, owaspPriority, PRIORITIES, wafRuleName } from "./armorRules";
export { GlobalLoadBalancer, type GlobalLoadBalancerArgs } from "./globalLoadBalancer";
export {
  balancerPlan,
  type BalancerBackend,
  type BalancerPlan,
  type BackendPlan,
  type NegPlan,
} from "./plan";
export { CANARY_HEADER, urlMapRouting, type Release, type RoutedService } from "./routing";
