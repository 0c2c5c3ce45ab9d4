export { CanaryService, type CanaryServiceArgs } from "./canaryService";
