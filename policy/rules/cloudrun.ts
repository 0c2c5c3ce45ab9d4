import { canaryPercentViolation } from "../../model/policy";
import type { ResourceRule } from "./types";
import { known } from "./values";

export const CLOUD_RUN_SERVICE = "gcp:cloudrunv2/service:Service";
export const CLOUD_RUN_INVOKER_TYPES = [
  "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
  "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding",
];
const PUBLIC_MEMBERS = new Set(["allUsers", "allAuthenticatedUsers"]);

/** The cloud name of a Cloud Run service (its `name` input), falling back to the resource name. */
export function serviceName(props: Readonly<Record<string, unknown>>, fallback: string): string {
  const name = known(props, "name");
  return typeof name === "string" ? name : fallback;
}

export const publicInvoker: ResourceRule = {
  id: "public-invoker",
  kind: "resource",
  description: "Only a service declared public (`allowUnauthenticated: true`) may be invoked by allUsers.",
  types: CLOUD_RUN_INVOKER_TYPES,
  check(r, ctx) {
    const single = known(r.props, "member");
    const members = single !== undefined ? [single] : ((known(r.props, "members") as unknown[]) ?? []);
    const service = known(r.props, "name", true);
    const open = members.filter((m) => typeof m === "string" && PUBLIC_MEMBERS.has(m));
    if (open.length === 0 || ctx.publicServices.includes(String(service))) return [];
    return [
      {
        message: `grants ${String(known(r.props, "role"))} to ${open.join(", ")} on ${String(service)}, which is not declared public.`,
        fix: `set \`ai-orchestra:services.${String(service)}.allowUnauthenticated: true\` if it must be public; else remove the grant.`,
      },
    ];
  },
};

export const deletionProtection: ResourceRule = {
  id: "deletion-protection",
  kind: "resource",
  description: "Prod Cloud Run services keep deletion protection on.",
  environments: ["prod"],
  types: [CLOUD_RUN_SERVICE],
  check(r) {
    // The provider's default is true: only an explicit false turns it off.
    if (known(r.props, "deletionProtection") !== false) return [];
    return [
      {
        message: `${serviceName(r.props, r.name)} has deletionProtection: false in prod.`,
        fix: `remove \`deletionProtection: false\` from \`ai-orchestra:services.${serviceName(r.props, r.name)}\`.`,
      },
    ];
  },
};

export const minInstances: ResourceRule = {
  id: "min-instances",
  kind: "resource",
  description: "Prod Cloud Run services keep at least one instance warm.",
  environments: ["prod"],
  types: [CLOUD_RUN_SERVICE],
  check(r) {
    // On the service (shared by the revisions with traffic), not on the revision template.
    const min = known(r.props, "scaling.minInstanceCount") ?? 0;
    if (typeof min === "number" && min >= 1) return [];
    const name = serviceName(r.props, r.name);
    return [
      {
        message: `${name} scales to ${String(min)} instances in prod: the first request after idle waits for a cold start.`,
        fix: `set \`ai-orchestra:services.${name}.scaling.minInstances\` to 1 or more.`,
      },
    ];
  },
};

const DIGEST = /@sha256:[0-9a-f]{64}$/;

export const imageDigest: ResourceRule = {
  id: "image-digest",
  kind: "resource",
  description: "Cloud Run images are referenced by digest (`REPOSITORY@sha256:...`), never by a tag.",
  types: [CLOUD_RUN_SERVICE],
  check(r) {
    const containers = known(r.props, "template.containers", true);
    if (!Array.isArray(containers)) return [];
    const name = serviceName(r.props, r.name);
    return containers.flatMap((_, i) => {
      const image = known(r.props, `template.containers.${i}.image`, true);
      if (typeof image === "string" && DIGEST.test(image)) return [];
      return [
        {
          message: `${name} runs ${String(image)}, a tag: what runs can change without a deploy.`,
          fix: "deploy `REPOSITORY@sha256:DIGEST` (the digest CI printed after the push).",
        },
      ];
    });
  },
};

export const canaryPercent: ResourceRule = {
  id: "canary-percent",
  kind: "resource",
  description:
    "A canary takes at most the stack's `policy.maxCanaryPercent`; beyond that, promote it. Beside a baseline, stable keeps serving.",
  types: [CLOUD_RUN_SERVICE],
  check(r, ctx) {
    const traffics = known(r.props, "traffics") ?? [];
    if (!Array.isArray(traffics)) return [];
    const name = serviceName(r.props, r.name);
    const baseline = traffics.findIndex((_, i) => known(traffics, `${i}.tag`) === "baseline");
    const baselinePercent = baseline < 0 ? undefined : known(traffics, `${baseline}.percent`);
    return traffics.flatMap((_, i) => {
      if (known(traffics, `${i}.tag`) !== "canary") return [];
      const percent = known(traffics, `${i}.percent`) ?? 0;
      if (typeof percent !== "number") return [];
      const violation = canaryPercentViolation({
        service: name,
        stack: ctx.stack,
        percent,
        maxCanaryPercent: ctx.maxCanaryPercent,
        ...(typeof baselinePercent === "number" ? { baselinePercent } : {}),
      });
      return violation ? [violation] : [];
    });
  },
};
