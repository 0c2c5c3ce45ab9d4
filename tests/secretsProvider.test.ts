import { strict as assert } from "node:assert";
import { describeProblem, secretsManagerOf, secretsProviderProblem } from "../model/secretsProvider";

const text = (...args: Parameters<typeof secretsProviderProblem>) => {
  const p = secretsProviderProblem(...args);
  return p ? describeProblem(p) : "";
};

const KEY = "projects/ops/locations/global/keyRings/pulumi/cryptoKeys/state";

describe("the stack's secrets provider, as CI needs it", () => {
  it("accepts the KMS provider of cicd.secretsKey with its committed data key", () => {
    const lines = { secretsprovider: `gcpkms://${KEY}`, encryptedkey: "CiQA..." };
    assert.equal(secretsProviderProblem("prod", lines, KEY), undefined);
    assert.equal(secretsProviderProblem("prod", lines, undefined), undefined);
  });

  it("knows which secrets manager the Pulumi CLI builds", () => {
    assert.deepEqual(secretsManagerOf({ secretsprovider: `gcpkms://${KEY}` }, false), {
      kind: "provider",
      provider: `gcpkms://${KEY}`,
    });
    assert.deepEqual(secretsManagerOf({ secretsprovider: "passphrase" }, true), { kind: "passphrase" });
    assert.deepEqual(secretsManagerOf({ encryptionsalt: "v1:x" }, true), { kind: "passphrase" });
    assert.deepEqual(secretsManagerOf({}, false), { kind: "passphrase" });
    assert.deepEqual(secretsManagerOf({}, true), { kind: "backend" });
    // Pulumi Cloud keeps the secrets of a stack file without provider lines: nothing to fix.
    assert.equal(secretsProviderProblem("prod", {}, KEY, true), undefined);
  });

  it("refuses no provider line, naming CI's failure and the command to run", () => {
    const problem = text("prod", {}, KEY);
    assert.match(problem, /names no secrets provider/);
    assert.match(problem, /passphrase must be set with PULUMI_CONFIG_PASSPHRASE/);
    assert.match(problem, new RegExp(`pulumi stack change-secrets-provider "gcpkms://${KEY}" -s prod`));
    assert.match(problem, /commit the `secretsprovider` and `encryptedkey` lines/);
  });

  it("refuses a passphrase stack, another key than CI is granted, and a KMS provider without its data key", () => {
    assert.match(text("dev", { encryptionsalt: "v1:abc" }, KEY), /uses a passphrase/);
    assert.match(
      text(
        "dev",
        { secretsprovider: "gcpkms://projects/x/locations/l/keyRings/r/cryptoKeys/k", encryptedkey: "a" },
        KEY,
      ),
      /but `cicd.secretsKey` \(which CI is granted\) is/,
    );
    assert.match(text("dev", { secretsprovider: `gcpkms://${KEY}` }, KEY), /has no `encryptedkey`/);
  });
});
