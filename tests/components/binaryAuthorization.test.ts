import { strict as assert } from "node:assert";
import { BinaryAuthorization } from "../../components/supplychain/binaryAuthorization";
import { BreakglassAlert } from "../../components/monitoring/breakglassAlert";
import { BINARY_AUTHORIZATION_DEFAULTS, breakglassLogFilter } from "../../model/supplyChain";
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

describe("BreakglassAlert (built alone)", () => {
  it("one log-match policy that notifies the page route's channels only, rate-limited", async () => {
    const b = await buildComponent(
      () =>
        new BreakglassAlert("breakglass", {
          project: "proj-test",
          stack: "prod",
          channels: {
            page: ["projects/proj-test/notificationChannels/1"],
            ticket: ["projects/proj-test/notificationChannels/2"],
          },
          autoCloseSeconds: 1800,
          labels: { team: "orchestra" },
        }),
    );
    assert.deepEqual(
      b.resources.map((r) => [r.type, r.name, r.parent]),
      [
        ["ai-orchestra:monitoring:BreakglassAlert", "breakglass", undefined],
        ["gcp:monitoring/alertPolicy:AlertPolicy", "breakglass-policy", "breakglass"],
      ],
    );
    const policy = b.byName("breakglass-policy").inputs;
    assert.deepEqual(policy.notificationChannels, ["projects/proj-test/notificationChannels/1"]);
    assert.equal(policy.severity, "CRITICAL");
    assert.equal(policy.conditions[0].conditionMatchedLog.filter, breakglassLogFilter());
    assert.deepEqual(policy.alertStrategy, { autoClose: "1800s", notificationRateLimit: { period: "300s" } });
    assert.deepEqual(policy.userLabels, { team: "orchestra" });
  });
});
