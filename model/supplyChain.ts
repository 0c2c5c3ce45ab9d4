/**
 * The supply-chain decisions: which images prod admits (Binary Authorization, an attestor backed by a
 * Cloud KMS key), the break-glass path around it, and whether the image registry scans. Pure, so the
 * program, the policy pack, the workflows and the tests share one answer.
 */

/** `ai-orchestra:binaryAuthorization`, defaults applied. */
export interface BinaryAuthorizationConfig {
  /** The stack declares the attestor and the project's policy, and its Cloud Run services require it. */
  readonly enabled: boolean;
  /** Id of the attestor and of its Container Analysis note. */
  readonly attestor: string;
  /** Cloud KMS key ring holding the attestor's signing key. */
  readonly keyRing: string;
  /** Location of the key ring, e.g. `global` or a region. */
  readonly keyLocation: string;
}

export const BINARY_AUTHORIZATION_DEFAULTS: Omit<BinaryAuthorizationConfig, "enabled"> = {
  attestor: "release-verified",
  keyRing: "binauthz",
  keyLocation: "global",
};

/** The attestor's signing key: asymmetric, ECDSA P-256 with SHA-256, as Binary Authorization accepts (pkix). */
export const ATTESTOR_KEY = {
  name: "attestor",
  purpose: "ASYMMETRIC_SIGN",
  algorithm: "EC_SIGN_P256_SHA256",
};

/** Blocks a revision whose image lacks the attestation, and writes the refusal to the audit log. */
export const ENFORCEMENT_MODE = "ENFORCED_BLOCK_AND_AUDIT_LOG";

/** The names the attestation is created with, as `gcloud container binauthz attestations sign-and-create` takes them. */
export interface AttestorNames {
  /** `projects/P/attestors/ID`. */
  readonly attestor: string;
  /** `projects/P/notes/ID`. */
  readonly note: string;
  /** `projects/P/locations/L/keyRings/R/cryptoKeys/K`. */
  readonly key: string;
  /** The key's first version, the one the attestor trusts: `.../cryptoKeyVersions/1`. */
  readonly keyVersion: string;
}

export function attestorNames(project: string, config: BinaryAuthorizationConfig): AttestorNames {
  const key = `projects/${project}/locations/${config.keyLocation}/keyRings/${config.keyRing}/cryptoKeys/${ATTESTOR_KEY.name}`;
  return {
    attestor: `projects/${project}/attestors/${config.attestor}`,
    note: `projects/${project}/notes/${config.attestor}`,
    key,
    keyVersion: `${key}/cryptoKeyVersions/1`,
  };
}

/** A key version as an attestor's public-key id: the form gcloud gives keys it adds with `--keyversion`. */
export function keyVersionUri(keyVersion: string): string {
  return `//cloudkms.googleapis.com/v1/${keyVersion}`;
}

/**
 * A Cloud Run service's `binaryAuthorization` block: the project's policy (`useDefault`), plus a
 * break-glass justification while one is set. Undefined without Binary Authorization: the field stays
 * out of the service, so stacks without it render as before. It is a service-level field, outside the
 * revision template, so revision names (a hash of the template) do not change with it.
 */
export function serviceBinaryAuthorization(
  enabled: boolean,
  breakglassJustification?: string,
): { useDefault: true; breakglassJustification?: string } | undefined {
  if (!enabled) return undefined;
  return { useDefault: true, ...(breakglassJustification ? { breakglassJustification } : {}) };
}

/**
 * The images a stack runs that Binary Authorization must find attested: each service's stable and canary
 * image, by digest, once each. A tag cannot be attested (an attestation names a digest), so one is an error.
 */
export function imagesToAttest(
  services: readonly {
    readonly name: string;
    readonly stable: { readonly image?: string };
    readonly canary?: { readonly image: string };
  }[],
): string[] {
  const images = services.flatMap((s) => [s.stable.image, s.canary?.image].map((image) => ({ s, image })));
  const out: string[] = [];
  for (const { s, image } of images) {
    if (image === undefined) continue;
    if (!/@sha256:[0-9a-f]{64}$/.test(image))
      throw new Error(`${s.name} runs ${image}, a tag: only an image by digest can be attested.`);
    if (!out.includes(image)) out.push(image);
  }
  return out;
}

/** A role granted to the identity that creates attestations, on one resource, and why. */
export interface AttesterGrant {
  readonly on: "note" | "key" | "project";
  readonly role: string;
  readonly why: string;
}

/** What the identity that attests needs, each on the narrowest resource that holds it. */
export const ATTESTER_GRANTS: readonly AttesterGrant[] = [
  { on: "note", role: "roles/containeranalysis.notes.attacher", why: "attach attestations to the note" },
  {
    on: "project",
    role: "roles/containeranalysis.occurrences.editor",
    why: "create the attestation occurrences",
  },
  { on: "key", role: "roles/cloudkms.signerVerifier", why: "sign the image digest with the attestor's key" },
];

/**
 * The log filter of a deploy that used break-glass: a Cloud Run Admin Activity audit entry whose request
 * carries a justification (the v2 API's `binaryAuthorization.breakglassJustification`, which the program
 * sets; the v1 annotation `gcloud run services update --breakglass` sets), or whose status names
 * break-glass. Not checked against a real entry: Google documents that break-glass deploys are audited,
 * not the entry's shape, so the filter matches each of the places it can be.
 */
export function breakglassLogFilter(): string {
  return [
    'protoPayload.@type="type.googleapis.com/google.cloud.audit.AuditLog"',
    'protoPayload.serviceName="run.googleapis.com"',
    "(" +
      [
        "protoPayload.request.service.binaryAuthorization.breakglassJustification:*",
        'protoPayload.request.metadata.annotations."run.googleapis.com/binary-authorization-breakglass":*',
        'protoPayload.status.message:"breakglass"',
      ].join(" OR ") +
      ")",
  ].join(" AND ");
}

/** Why a Cloud Run service's `binaryAuthorization` input does not require the project's policy; undefined when it does. */
export function binaryAuthorizationGap(binaryAuthorization: unknown): string | undefined {
  const b = binaryAuthorization as { useDefault?: unknown; policy?: unknown } | undefined;
  if (b && (b.useDefault === true || (typeof b.policy === "string" && b.policy !== ""))) return undefined;
  return b ? "sets binaryAuthorization without useDefault or a policy" : "does not set binaryAuthorization";
}

/**
 * Why an Artifact Registry repository's `vulnerabilityScanningConfig` input does not scan; undefined when
 * it does. `INHERITED` scans as the project does: with the Container Scanning API enabled.
 */
export function scanningGap(vulnerabilityScanningConfig: unknown): string | undefined {
  const c = vulnerabilityScanningConfig as { enablementConfig?: unknown } | undefined;
  if (c?.enablementConfig === "INHERITED") return undefined;
  return c?.enablementConfig === "DISABLED"
    ? "turns vulnerability scanning off (enablementConfig: DISABLED)"
    : "does not set vulnerabilityScanningConfig.enablementConfig: INHERITED";
}
