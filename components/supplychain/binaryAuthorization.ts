import * as binaryauthorization from "@pulumi/gcp/binaryauthorization";
import * as containeranalysis from "@pulumi/gcp/containeranalysis";
import * as kms from "@pulumi/gcp/kms";
import * as pulumi from "@pulumi/pulumi";
import {
  ATTESTOR_KEY,
  ENFORCEMENT_MODE,
  attestorNames,
  keyVersionUri,
  type BinaryAuthorizationConfig,
} from "../../model/supplyChain";

export interface BinaryAuthorizationArgs {
  /** GCP project of the attestor, its key and the policy (the services' project). */
  readonly project: string;
  /** Attestor id, key ring and its location; plain, because they name resources. */
  readonly settings: BinaryAuthorizationConfig;
  /** Stack name, for descriptions. */
  readonly stack: string;
  /** Labels on the signing key. Default: none. */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * Binary Authorization for the project's Cloud Run services: a Cloud KMS key ring and asymmetric signing
 * key, a Container Analysis ATTESTATION note, an attestor trusting the key's public key, and the project's
 * policy requiring that attestor's attestation for every image, blocking (and logging) any other. The
 * policy is a project singleton: one stack per project may declare it.
 */
export class BinaryAuthorization extends pulumi.ComponentResource {
  /** `projects/P/attestors/ID`. */
  public readonly attestor: pulumi.Output<string>;
  /** `projects/P/notes/ID`, the note attestations are attached to. */
  public readonly note: pulumi.Output<string>;
  /** The signing key's id, `projects/P/locations/L/keyRings/R/cryptoKeys/K`. */
  public readonly cryptoKey: pulumi.Output<string>;
  /** The key version attestations are signed with, as `gcloud ... --keyversion` takes it. */
  public readonly keyVersion: string;
  public readonly policy: binaryauthorization.Policy;

  constructor(name: string, args: BinaryAuthorizationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:supplychain:BinaryAuthorization", name, {}, opts);
    const parent = { parent: this };
    const { project, settings } = args;
    const names = attestorNames(project, settings);

    const keyRing = new kms.KeyRing(
      `${name}-key-ring`,
      { project, name: settings.keyRing, location: settings.keyLocation },
      parent,
    );
    const key = new kms.CryptoKey(
      `${name}-key`,
      {
        name: ATTESTOR_KEY.name,
        keyRing: keyRing.id,
        purpose: ATTESTOR_KEY.purpose,
        versionTemplate: { algorithm: ATTESTOR_KEY.algorithm },
        labels: { ...(args.labels ?? {}) },
      },
      // A destroyed key would orphan every attestation signed with it; KMS never deletes a key anyway.
      { ...parent, protect: true },
    );
    const version = kms.getKMSCryptoKeyVersionOutput({ cryptoKey: key.id, version: 1 }, parent);

    const note = new containeranalysis.Note(
      `${name}-note`,
      {
        project,
        name: settings.attestor,
        attestationAuthority: {
          hint: {
            humanReadableName: `Released by the pipeline (${args.stack}): provenance and vulnerabilities checked`,
          },
        },
      },
      parent,
    );
    const attestor = new binaryauthorization.Attestor(
      `${name}-attestor`,
      {
        project,
        name: settings.attestor,
        description: `Images whose build provenance and vulnerability gate passed in the release pipeline (stack ${args.stack}).`,
        attestationAuthorityNote: {
          noteReference: note.name,
          publicKeys: [
            {
              id: keyVersionUri(names.keyVersion),
              pkixPublicKey: {
                publicKeyPem: version.apply((v) => v.publicKeys?.[0]?.pem ?? ""),
                signatureAlgorithm: version.apply(
                  (v) => v.publicKeys?.[0]?.algorithm ?? ATTESTOR_KEY.algorithm,
                ),
              },
            },
          ],
        },
      },
      parent,
    );
    // Cloud Run evaluates the project's default admission rule; cluster rules are GKE's.
    this.policy = new binaryauthorization.Policy(
      `${name}-policy`,
      {
        project,
        description: `Managed by Pulumi (stack ${args.stack}): only images the release pipeline attested run.`,
        defaultAdmissionRule: {
          evaluationMode: "REQUIRE_ATTESTATION",
          enforcementMode: ENFORCEMENT_MODE,
          requireAttestationsBies: [attestor.name.apply((a) => `projects/${project}/attestors/${a}`)],
        },
      },
      parent,
    );

    this.attestor = attestor.name.apply((a) => `projects/${project}/attestors/${a}`);
    this.note = note.name.apply((n) => `projects/${project}/notes/${n}`);
    this.cryptoKey = key.id;
    this.keyVersion = names.keyVersion;
    this.registerOutputs({
      attestor: this.attestor,
      note: this.note,
      cryptoKey: this.cryptoKey,
      keyVersion: this.keyVersion,
    });
  }
}
