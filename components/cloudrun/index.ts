export { CanaryService, type CanaryServiceArgs } from "./canaryService";
export { desiredState } from "./desiredState";
export { revisionName, canonicalJson, REVISION_NAME } from "./revisionName";
export { revisionTemplate, type RevisionTemplate } from "./template";
export { planRelease, type ReleasePlan, type TrafficTarget, type TrafficTag } from "./traffic";
