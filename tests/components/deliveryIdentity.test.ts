import { strict as assert } from "node:assert";
import { DeliveryIdentity, type DeliveryIdentityArgs } from "../../components/identity/deliveryIdentity";
import {
  BALANCER_DEPLOYER_ROLES,
  DEPLOYER_ROLES,
  PREVIEWER_ROLES,
  PROJECT_IAM_ADMIN,
} from "../../components/identity/workloadIdentity";
import type { CicdConfig } from "../../model/types";
import { REPO } from "../support/render";
import { buildComponent, promiseOf, type Built } from "../support/components";

const POOL = "projects/123456789012/locations/global/workloadIdentityPools/github-actions";

/** CI/CD settings of a stack with one application repository, its state in GCS and secrets in KMS. */
const CICD: CicdConfig = {
  owner: "orchestra-org",
  ownerId: 1000,
  infraRepository: { name: "infra", id: 2000 },
  defaultBranch: "main",
  appId: 3000,
  ownsRepositorySettings: true,
  reviewers: { teams: [], users: [] },
  applications: { api: { name: "api-app", id: 4000 } },
  registry: { repository: "orchestra", keepVersions: 10, deleteUntaggedAfterDays: 7 },
  stateBucket: "orchestra-state",
  secretsKey: "projects/proj-test/locations/global/keyRings/pulumi/cryptoKeys/state",
  secretNames: [],
  manageDeliveryAppKey: false,
};

function build(overrides: Partial<DeliveryIdentityArgs> = {}): Promise<Built<DeliveryIdentity>> {
  return buildComponent(
    () =>
      new DeliveryIdentity("delivery", {
        project: "proj-test",
        stack: "prod",
        cicd: CICD,
        protectedDeploy: true,
        imageRepositories: { api: REPO },
        ...overrides,
      }),
  );
}

const PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember";

describe("DeliveryIdentity (built alone)", () => {
  let b: Built<DeliveryIdentity>;
  before(async () => {
    b = await build();
  });

  it("one pool with a deploy and a preview provider, both trusting GitHub's issuer", () => {
    assert.equal(b.byName("delivery-pool").inputs.workloadIdentityPoolId, "github-actions");
    for (const kind of ["deploy", "preview"]) {
      const p = b.byName(`delivery-${kind}-provider`);
      assert.equal(p.parent, "delivery");
      assert.equal(p.inputs.workloadIdentityPoolProviderId, `github-${kind}`);
      assert.deepEqual(p.inputs.oidc, { issuerUri: "https://token.actions.githubusercontent.com" });
      assert.match(p.inputs.attributeCondition, /repository_owner_id == '1000'/);
    }
  });

  it("a protected deploy admits the default branch or the stack's environment only", () => {
    const condition = b.byName("delivery-deploy-provider").inputs.attributeCondition as string;
    assert.match(condition, /refs\/heads\/main/);
    assert.match(condition, /'prod'/);
    const open = b.byName("delivery-preview-provider").inputs.attributeCondition as string;
    assert.doesNotMatch(open, /refs\/heads\/main/);
  });

  it("binds each account to one repository id, through its provider's own attribute", () => {
    const members = b
      .ofType("gcp:serviceaccount/iAMMember:IAMMember")
      .map((m) => [m.name, m.inputs.role, m.inputs.member]);
    assert.deepEqual(members, [
      [
        "delivery-deployer-wif",
        "roles/iam.workloadIdentityUser",
        `principalSet://iam.googleapis.com/${POOL}/attribute.deploy_repository_id/2000`,
      ],
      [
        "delivery-previewer-wif",
        "roles/iam.workloadIdentityUser",
        `principalSet://iam.googleapis.com/${POOL}/attribute.preview_repository_id/2000`,
      ],
      [
        "delivery-pusher-wif-api",
        "roles/iam.workloadIdentityUser",
        `principalSet://iam.googleapis.com/${POOL}/attribute.deploy_repository_id/4000`,
      ],
    ]);
  });

  it("grants the deployer its roles and conditional IAM admin, the previewer read-only roles", () => {
    const grants = b.ofType(PROJECT_MEMBER).map((m) => [m.inputs.member, m.inputs.role]);
    const deployer = "serviceAccount:github-deployer@proj-test.iam.gserviceaccount.com";
    const previewer = "serviceAccount:github-previewer@proj-test.iam.gserviceaccount.com";
    assert.deepEqual(grants, [
      ...DEPLOYER_ROLES.map((g) => [deployer, g.role]),
      [deployer, PROJECT_IAM_ADMIN],
      ...PREVIEWER_ROLES.map((g) => [previewer, g.role]),
    ]);
    const admin = b.byName("delivery-deployer-project-iam-admin").inputs.condition;
    assert.equal(admin.title, "only-pipeline-roles");
    assert.doesNotMatch(admin.expression, /compute\./);
  });

  it("declares no binding on the state bucket or its key (granted at bootstrap); the pusher pushes to its image's repository", () => {
    assert.deepEqual(
      b.resources
        .filter(
          (r) =>
            /IAM|Iam/.test(r.type) &&
            !r.type.startsWith("gcp:projects/") &&
            !r.type.startsWith("gcp:serviceaccount/"),
        )
        .map((r) => [r.type, r.name, r.inputs.role]),
      [
        [
          "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
          "delivery-pusher-api",
          "roles/artifactregistry.writer",
        ],
      ],
    );
    assert.deepEqual(b.byName("delivery-pusher-api").inputs.repository, "orchestra");
  });

  it("exports the providers and accounts a workflow authenticates with", async () => {
    assert.equal(await promiseOf(b.value.deployProvider), `${POOL}/providers/github-deploy`);
    assert.equal(await promiseOf(b.value.previewProvider), `${POOL}/providers/github-preview`);
    assert.equal(await promiseOf(b.value.deployerEmail), "github-deployer@proj-test.iam.gserviceaccount.com");
    assert.equal(
      b.value.pusherEmail && (await promiseOf(b.value.pusherEmail)),
      "github-pusher@proj-test.iam.gserviceaccount.com",
    );
  });

  it("with a balancer the deployer also manages load balancing and Cloud Armor, and may grant those roles", async () => {
    const withLb = await build({ balancer: true });
    const roles = withLb.ofType(PROJECT_MEMBER).map((m) => m.inputs.role);
    for (const g of BALANCER_DEPLOYER_ROLES) assert.ok(roles.includes(g.role), g.role);
    assert.match(
      withLb.byName("delivery-deployer-project-iam-admin").inputs.condition.expression,
      /compute\.loadBalancerAdmin/,
    );
  });

  it("without application repositories: no pusher", async () => {
    const bare = await build({
      cicd: { ...CICD, applications: {}, stateBucket: undefined, secretsKey: undefined },
      imageRepositories: {},
    });
    assert.ok(!bare.resources.some((r) => /pusher/.test(r.name)));
    assert.equal(bare.value.pusherEmail, undefined);
  });
});

const KEY = "projects/proj-test/locations/global/keyRings/binauthz/cryptoKeys/attestor";

describe("DeliveryIdentity with attestation (built alone)", () => {
  it("the deployer may attach to the note, sign with the key and write occurrences; without it, none of that", async () => {
    const member = "serviceAccount:github-deployer@proj-test.iam.gserviceaccount.com";
    const b = await build({
      attestation: { note: "projects/proj-test/notes/release-verified", cryptoKey: KEY },
    });
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
