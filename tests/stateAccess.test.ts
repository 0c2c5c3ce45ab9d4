import { strict as assert } from "node:assert";
import { grantCommand, stateAccessGrants } from "../model/stateAccess";
import { ROOT } from "./support/render";
import { runInProcess } from "./support/inProcessCli";

/**
 * The Pulumi state bucket and its KMS key are granted to CI at bootstrap, not by the program: a refresh
 * of a binding the program declared would need getIamPolicy in the operations project.
 */
describe("state access: the one-time grants on the state bucket and key", () => {
  const deployer = "serviceAccount:github-deployer@p.iam.gserviceaccount.com";
  const previewer = "serviceAccount:github-previewer@p.iam.gserviceaccount.com";

  it("lets the deployer write and encrypt, the previewer only read and decrypt", () => {
    const grants = stateAccessGrants({
      project: "p",
      stateBucket: "b",
      secretsKey: "projects/o/locations/global/keyRings/r/cryptoKeys/k",
    });
    assert.deepEqual(
      grants.map((g) => [g.on.kind, g.role, g.member]),
      [
        ["bucket", "roles/storage.objectAdmin", deployer],
        ["bucket", "roles/storage.objectViewer", previewer],
        ["key", "roles/cloudkms.cryptoKeyEncrypterDecrypter", deployer],
        ["key", "roles/cloudkms.cryptoKeyDecrypter", previewer],
      ],
    );
    assert.equal(
      grantCommand(grants[0]),
      `gcloud storage buckets add-iam-policy-binding gs://b --member=${deployer} --role=roles/storage.objectAdmin`,
    );
    assert.equal(
      grantCommand(grants[3]),
      `gcloud kms keys add-iam-policy-binding projects/o/locations/global/keyRings/r/cryptoKeys/k --member=${previewer} --role=roles/cloudkms.cryptoKeyDecrypter`,
    );
  });

  it("grants nothing for what the stack does not set", () => {
    assert.deepEqual(stateAccessGrants({ project: "p" }), []);
    assert.deepEqual(
      stateAccessGrants({ project: "p", stateBucket: "b" }).map((g) => g.on.kind),
      ["bucket", "bucket"],
    );
  });

  it("`orchestra cicd state-access` prints the commands for the stack's own accounts, with no canary hint", async () => {
    const run = await runInProcess(ROOT, ["cicd", "state-access", "--stack", "prod"]);
    assert.equal(run.status, 0, run.stderr);
    const commands = run.stdout.split("\n").filter((l) => l.startsWith("gcloud "));
    assert.equal(commands.length, 4);
    assert.ok(
      commands.every((c) => c.includes("@ai-orchestra-prod.iam.gserviceaccount.com")),
      run.stdout,
    );
    assert.match(run.stdout, /gs:\/\/ai-orchestra-pulumi-state /);
    assert.doesNotMatch(run.stderr, /next:/);

    const json = await runInProcess(ROOT, ["cicd", "state-access", "--stack", "dev", "--json"]);
    const doc = JSON.parse(json.stdout) as { stack: string; grants: { who: string; command: string }[] };
    assert.equal(doc.stack, "dev");
    assert.deepEqual(
      doc.grants.map((g) => g.who),
      ["deployer", "previewer", "deployer", "previewer"],
    );
    assert.ok(doc.grants.every((g) => g.command.includes("@ai-orchestra-dev.")));
  });

  it("a stack that does not exist is an error naming the stacks there are", async () => {
    const run = await runInProcess(ROOT, ["cicd", "state-access", "--stack", "nope"]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /no stack "nope".*Stacks here: dev, prod, staging/);
    assert.equal(run.stdout, "");
  });
});
