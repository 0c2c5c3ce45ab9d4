import { binaryAuthorizationGap, scanningGap } from "../../model/supplyChain";
import { CLOUD_RUN_SERVICE, serviceName } from "./cloudrun";
import type { ResourceRule } from "./types";
import { known } from "./values";

const REPOSITORY = "gcp:artifactregistry/repository:Repository";

export const binaryAuthorization: ResourceRule = {
  id: "binary-authorization",
  kind: "resource",
  description:
    "Prod Cloud Run services require the project's Binary Authorization policy: only attested images run.",
  environments: ["prod"],
  types: [CLOUD_RUN_SERVICE],
  check(r) {
    const gap = binaryAuthorizationGap(known(r.props, "binaryAuthorization"));
    if (!gap) return [];
    const name = serviceName(r.props, r.name);
    return [
      {
        message: `${name} ${gap}: any image can run in prod, attested or not.`,
        fix: "set `ai-orchestra:binaryAuthorization.enabled: true` (docs/supply-chain.md).",
      },
    ];
  },
};

export const registryScanning: ResourceRule = {
  id: "registry-scanning",
  kind: "resource",
  description:
    "Docker repositories scan every pushed image for vulnerabilities (the vulnerability gate reads the findings).",
  types: [REPOSITORY],
  check(r) {
    if (known(r.props, "format") !== "DOCKER") return [];
    const gap = scanningGap(known(r.props, "vulnerabilityScanningConfig"));
    if (!gap) return [];
    const id = String(known(r.props, "repositoryId") ?? r.name);
    return [
      {
        message: `repository ${id} ${gap}: its images have no findings, and the vulnerability gate cannot pass them.`,
        fix: "declare it through the ImageRegistry component (components/registry), which scans; enable the Container Scanning API in the project (docs/supply-chain.md).",
      },
    ];
  },
};
