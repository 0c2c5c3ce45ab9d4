import type { ApprovedDigests, Finding, ScanStatus } from "../../model/supplyChain/vulnerabilities";

// What the gate and the commands share with the two readers (containerAnalysis.ts, registry.ts),
// apart from them: those load the Google clients, which a command that never gates should not pay for.

/** Env var naming a local Container Analysis (Grafeas v1) emulator, `HOST:PORT` (gRPC, no TLS). */
export const CONTAINER_ANALYSIS_ENDPOINT_ENV = "ORCHESTRA_CONTAINER_ANALYSIS_ENDPOINT";

/** What Artifact Analysis says about one image URL: how far its scan got, and its findings. */
export interface ScanRead {
  readonly resourceUrl: string;
  readonly scan: ScanStatus;
  readonly findings: readonly Finding[];
}

/** A read Container Analysis refused for good: the reason, and what to do about it. */
export class ScanReadError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

/** Artifact Analysis names an image by its URL with the digest: `https://HOST/PROJECT/REPO/IMAGE@sha256:...`. */
export const resourceUrl = (repository: string, digest: string) => `https://${repository}@${digest}`;

/** Env var naming a local registry, `http://127.0.0.1:PORT`, spoken to over plain HTTP without credentials. */
export const REGISTRY_ENDPOINT_ENV = "ORCHESTRA_REGISTRY_ENDPOINT";

/** A reference resolved to the digests that matter: what it names, and what Cloud Run runs. */
export interface ResolvedImage {
  /** `REPOSITORY` of the reference, without tag or digest. */
  readonly repository: string;
  readonly digests: ApprovedDigests;
}
