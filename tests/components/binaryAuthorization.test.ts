import { strict as assert } from "node:assert";
import { BinaryAuthorization } from "../../components/supplychain/binaryAuthorization";
import { DeliveryIdentity } from "../../components/identity/deliveryIdentity";
import { BINARY_AUTHORIZATION_DEFAULTS } from "../../model/supplyChain";
import type { CicdConfig } from "../../model/types";
import { buildComponent, promiseOf } from "../support/components";

const SETTINGS = { enabled: true, ...BINARY_AUTHORIZATION_DEFAULTS };
const KEY = "projects/proj-test/locations/global/keyRings/binauthz/cryptoKeys/attestor";

describe("BinaryAuthorization (built alone)", () => {
  it("a key ring, an asymmetric signing key, a note, an attestor and the project's policy, under the component", async () => {
    const b = await buildComponent(
      () => new BinaryAuthorization("binauthz", { project: "proj-test", settings: SETTINGS, stack: "prod" }),
    );
    assert.deepEqual(
      b.resources.map((r) => [r.type, r.name, r.parent]),
      [
        ["ai-orchestra:supplychain:BinaryAuthorization", "binauthz", undefined],
        ["gcp:kms/keyRing:KeyRing", "binauthz-key-ring", "binauthz"],
        ["gcp:kms/cryptoKey:CryptoKey", "binauthz-key", "binauthz"],
        ["gcp:containeranalysis/note:Note", "binauthz-note", "binauthz"],
        ["gcp:binaryauthorization/attestor:Attestor", "binauthz-attestor", "binauthz"],
        ["gcp:binaryauthorization/policy:Policy", "binauthz-policy", "binauthz"],
      ],
    );
    assert.deepEqual(b.byName("binauthz-key-ring").inputs, {
      project: "proj-test",
      name: "binauthz",
      location: "global",
    });
    const key = b.byName("binauthz-key").inputs;
    assert.equal(key.keyRing, "projects/proj-test/locations/global/keyRings/binauthz");
    assert.equal(key.purpose, "ASYMMETRIC_SIGN");
    assert.deepEqual(key.versionTemplate, { algorithm: "EC_SIGN_P256_SHA256" });
    assert.ok(
      JSON.stringify(b.byName("binauthz-note").inputs.attestationAuthority).includes("humanReadableName"),
    );

    const attestor = b.byName("binauthz-attestor").inputs;
    assert.equal(attestor.name, "release-verified");
    const publicKey = attestor.attestationAuthorityNote.publicKeys[0];
    // The id gcloud gives a key version added with --keyversion, so sign-and-create finds it.
    assert.equal(publicKey.id, `//cloudkms.googleapis.com/v1/${KEY}/cryptoKeyVersions/1`);
    assert.equal(publicKey.pkixPublicKey.signatureAlgorithm, "EC_SIGN_P256_SHA256");
    assert.match(publicKey.pkixPublicKey.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);

    assert.deepEqual(b.byName("binauthz-policy").inputs.defaultAdmissionRule, {
      evaluationMode: "REQUIRE_ATTESTATION",
      enforcementMode: "ENFORCED_BLOCK_AND_AUDIT_LOG",
      requireAttestationsBies: ["projects/proj-test/attestors/release-verified"],
    });
    assert.equal(await promiseOf(b.value.attestor), "projects/proj-test/attestors/release-verified");
    assert.equal(await promiseOf(b.value.cryptoKey), KEY);
    assert.equal(b.value.keyVersion, `${KEY}/cryptoKeyVersions/1`);
  });

  it("the names come from the settings", async () => {
    const b = await buildComponent(
      () =>
        new BinaryAuthorization("binauthz", {
          project: "proj-test",
          settings: {
            enabled: true,
            attestor: "prod-release",
            keyRing: "signing",
            keyLocation: "europe-west1",
          },
          stack: "prod",
        }),
    );
    assert.equal(b.byName("binauthz-attestor").inputs.name, "prod-release");
    assert.equal(b.byName("binauthz-note").inputs.name, "prod-release");
    assert.equal(b.byName("binauthz-key-ring").inputs.location, "europe-west1");
    assert.equal(await promiseOf(b.value.note), "projects/proj-test/notes/prod-release");
  });
});

describe("DeliveryIdentity with attestation", () => {
  const cicd: CicdConfig = {
    owner: "orchestra-org",
    ownerId: 1000,
    infraRepository: { name: "infra", id: 2000 },
    defaultBranch: "main",
    appId: 3000,
    ownsRepositorySettings: false,
    reviewers: { teams: [], users: [] },
    applications: {},
    registry: { repository: "orchestra", keepVersions: 10, deleteUntaggedAfterDays: 7 },
    secretNames: [],
    manageDeliveryAppKey: false,
  };
  const build = (attestation?: { note: string; cryptoKey: string }) =>
    buildComponent(
      () =>
        new DeliveryIdentity("delivery", {
          project: "proj-test",
          stack: "prod",
          cicd,
          ...(attestation ? { attestation } : {}),
        }),
    );

  it("the deployer may attach to the note, sign with the key and write occurrences; without it, none of that", async () => {
    const member = "serviceAccount:github-deployer@proj-test.iam.gserviceaccount.com";
    const b = await build({ note: "projects/proj-test/notes/release-verified", cryptoKey: KEY });
    assert.deepEqual(b.byName("delivery-attester-note").inputs, {
      project: "proj-test",
      note: "projects/proj-test/notes/release-verified",
      role: "roles/containeranalysis.notes.attacher",
      member,
    });
    assert.deepEqual(b.byName("delivery-attester-key").inputs, {
      cryptoKeyId: KEY,
      role: "roles/cloudkms.signerVerifier",
      member,
    });
    const roles = b.ofType("gcp:projects/iAMMember:IAMMember").map((r) => r.inputs.role as string);
    assert.ok(roles.includes("roles/containeranalysis.occurrences.editor"));
    assert.ok(roles.includes("roles/binaryauthorization.policyEditor"));

    const without = await build();
    const types = without.resources.map((r) => r.type);
    assert.ok(!types.includes("gcp:containeranalysis/noteIamMember:NoteIamMember"));
    assert.ok(!types.includes("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"));
    assert.ok(
      !without
        .ofType("gcp:projects/iAMMember:IAMMember")
        .some((r) => String(r.inputs.role).includes("binaryauthorization")),
    );
  });
});
