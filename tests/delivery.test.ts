import { strict as assert } from "node:assert";
import { applicationRepositoryFiles } from "../components/github/workflows/files";
import { readStackConfig } from "../render/stackFile";
import type { RenderedResource, RenderedStack } from "../render/renderStack";
import { byName, ofType, renderRepoStack, renderWithConfig, ROOT } from "./support/render";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

const POOL = "projects/123456789012/locations/global/workloadIdentityPools/github-actions";
const OWNER = "165432109";
const INFRA = "801234567";
const API = "801234568";
const WORKER = "801234569";

const REPOSITORY_WIDE = [
  "github:index/repositoryRuleset:RepositoryRuleset",
  "github:index/repositoryFile:RepositoryFile",
  "github:index/actionsSecret:ActionsSecret",
  "github:index/issueLabel:IssueLabel",
  "github:index/repositoryVulnerabilityAlerts:RepositoryVulnerabilityAlerts",
  "github:index/repositoryDependabotSecurityUpdates:RepositoryDependabotSecurityUpdates",
];

const inputs = (r: RenderedStack, name: string) => byName(r, name).inputs as Json;
/** [name, role, member, condition?] of every binding of a type, by name: registration order is async. */
const bindings = (r: RenderedStack, type: string) =>
  sortByName(ofType(r, type)).map((b) => [
    b.name,
    b.inputs.role,
    b.inputs.member,
    ...(b.inputs.condition ? [b.inputs.condition] : []),
  ]);
const DEPLOYER = "serviceAccount:github-deployer@ai-orchestra-prod.iam.gserviceaccount.com";
const PREVIEWER = "serviceAccount:github-previewer@ai-orchestra-prod.iam.gserviceaccount.com";

describe("keyless CI/CD (stack files under mocks)", () => {
  const stacks: Record<string, RenderedStack> = {};
  let withSecrets: RenderedStack;
  before(async () => {
    for (const stack of ["dev", "staging", "prod"]) stacks[stack] = await renderRepoStack(stack);
    const prod = readStackConfig(ROOT, "prod").flat;
    withSecrets = await renderWithConfig(
      "prod",
      {
        ...prod,
        "ai-orchestra:githubSecrets": JSON.stringify({ SLACK_WEBHOOK_URL: "https://hooks.example/abc" }),
        "ai-orchestra:deliveryAppPrivateKey": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
      },
      ["ai-orchestra:githubSecrets", "ai-orchestra:deliveryAppPrivateKey"],
    );
  });

  describe("Workload Identity", () => {
    it("prod's deploy provider pins owner and repositories by id, and the default branch or prod environment", () => {
      const p = inputs(stacks.prod, "delivery-deploy-provider");
      assert.equal(p.workloadIdentityPoolProviderId, "github-deploy");
      assert.deepEqual(p.oidc, { issuerUri: "https://token.actions.githubusercontent.com" });
      assert.equal(
        p.attributeCondition,
        `assertion.repository_owner_id == '${OWNER}' && (` +
          `(assertion.repository_id == '${INFRA}' && assertion.event_name in ['push', 'workflow_dispatch'] && ` +
          `(assertion.ref == 'refs/heads/main' || (has(assertion.environment) && assertion.environment == 'prod'))) || ` +
          `(assertion.repository_id in ['${API}', '${WORKER}'] && assertion.event_name == 'push' && assertion.ref == 'refs/heads/main'))`,
      );
    });

    it("dev's deploy provider pins owner and this repository, from any ref", () => {
      assert.equal(
        inputs(stacks.dev, "delivery-deploy-provider").attributeCondition,
        `assertion.repository_owner_id == '${OWNER}' && assertion.repository_id == '${INFRA}'`,
      );
    });

    it("the preview provider admits this repository only, and maps its own attribute", () => {
      for (const r of Object.values(stacks)) {
        const p = inputs(r, "delivery-preview-provider");
        assert.equal(
          p.attributeCondition,
          `assertion.repository_owner_id == '${OWNER}' && assertion.repository_id == '${INFRA}'`,
        );
        assert.equal(p.attributeMapping["attribute.preview_repository_id"], "assertion.repository_id");
        assert.equal(p.attributeMapping["attribute.deploy_repository_id"], undefined);
        assert.equal(
          inputs(r, "delivery-deploy-provider").attributeMapping["attribute.preview_repository_id"],
          undefined,
        );
      }
    });

    it("binds each account to one provider's principalSet of one repository id", () => {
      const delivery = (type: string) =>
        bindings(stacks.prod, type).filter(([name]) => String(name).startsWith("delivery-"));
      assert.deepEqual(delivery("gcp:serviceaccount/iAMMember:IAMMember"), [
        [
          "delivery-deployer-wif",
          "roles/iam.workloadIdentityUser",
          `principalSet://iam.googleapis.com/${POOL}/attribute.deploy_repository_id/${INFRA}`,
        ],
        [
          "delivery-previewer-wif",
          "roles/iam.workloadIdentityUser",
          `principalSet://iam.googleapis.com/${POOL}/attribute.preview_repository_id/${INFRA}`,
        ],
        [
          "delivery-pusher-wif-api",
          "roles/iam.workloadIdentityUser",
          `principalSet://iam.googleapis.com/${POOL}/attribute.deploy_repository_id/${API}`,
        ],
        [
          "delivery-pusher-wif-worker",
          "roles/iam.workloadIdentityUser",
          `principalSet://iam.googleapis.com/${POOL}/attribute.deploy_repository_id/${WORKER}`,
        ],
      ]);
      for (const b of ofType(stacks.prod, "gcp:serviceaccount/iAMMember:IAMMember").filter((b) =>
        b.name.startsWith("delivery-"),
      ))
        assert.match(
          b.inputs.serviceAccountId as string,
          /^projects\/ai-orchestra-prod\/serviceAccounts\/github-[a-z]+@/,
        );
    });

    it("grants the deployer and previewer exactly these project roles", () => {
      const projectIam = bindings(stacks.prod, "gcp:projects/iAMMember:IAMMember");
      assert.deepEqual(
        projectIam,
        sortByName([
          ["delivery-deployer-run-admin", "roles/run.admin", DEPLOYER],
          ["delivery-deployer-iam-serviceaccountadmin", "roles/iam.serviceAccountAdmin", DEPLOYER],
          ["delivery-deployer-iam-serviceaccountuser", "roles/iam.serviceAccountUser", DEPLOYER],
          ["delivery-deployer-artifactregistry-admin", "roles/artifactregistry.admin", DEPLOYER],
          ["delivery-deployer-secretmanager-admin", "roles/secretmanager.admin", DEPLOYER],
          [
            "delivery-deployer-iam-workloadidentitypooladmin",
            "roles/iam.workloadIdentityPoolAdmin",
            DEPLOYER,
          ],
          ["delivery-deployer-monitoring-editor", "roles/monitoring.editor", DEPLOYER],
          ["delivery-deployer-logging-configwriter", "roles/logging.configWriter", DEPLOYER],
          // Prod declares a global load balancer.
          ["delivery-deployer-compute-loadbalanceradmin", "roles/compute.loadBalancerAdmin", DEPLOYER],
          ["delivery-deployer-compute-securityadmin", "roles/compute.securityAdmin", DEPLOYER],
          // Prod declares Pub/Sub topics.
          ["delivery-deployer-pubsub-admin", "roles/pubsub.admin", DEPLOYER],
          // Prod requires Binary Authorization: the deployer manages it and attests images.
          ["delivery-deployer-cloudkms-admin", "roles/cloudkms.admin", DEPLOYER],
          ["delivery-deployer-containeranalysis-admin", "roles/containeranalysis.admin", DEPLOYER],
          [
            "delivery-deployer-binaryauthorization-attestorsadmin",
            "roles/binaryauthorization.attestorsAdmin",
            DEPLOYER,
          ],
          [
            "delivery-deployer-binaryauthorization-policyeditor",
            "roles/binaryauthorization.policyEditor",
            DEPLOYER,
          ],
          [
            "delivery-deployer-containeranalysis-occurrences-editor",
            "roles/containeranalysis.occurrences.editor",
            DEPLOYER,
          ],
          [
            "delivery-deployer-project-iam-admin",
            "roles/resourcemanager.projectIamAdmin",
            DEPLOYER,
            {
              title: "only-pipeline-roles",
              description: "The deployer may grant or revoke only the CI/CD roles this program declares.",
              expression:
                "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly(['roles/artifactregistry.admin', 'roles/binaryauthorization.attestorsAdmin', 'roles/binaryauthorization.policyEditor', 'roles/cloudkms.admin', 'roles/compute.loadBalancerAdmin', 'roles/compute.securityAdmin', 'roles/containeranalysis.admin', 'roles/containeranalysis.occurrences.editor', 'roles/iam.securityReviewer', 'roles/iam.serviceAccountAdmin', 'roles/iam.serviceAccountUser', 'roles/iam.workloadIdentityPoolAdmin', 'roles/logging.configWriter', 'roles/monitoring.editor', 'roles/pubsub.admin', 'roles/run.admin', 'roles/secretmanager.admin', 'roles/viewer'])",
            },
          ],
          ["delivery-previewer-viewer", "roles/viewer", PREVIEWER],
          ["delivery-previewer-iam-securityreviewer", "roles/iam.securityReviewer", PREVIEWER],
        ]),
      );
      for (const r of ofType(stacks.prod, "gcp:projects/iAMMember:IAMMember"))
        assert.equal(r.inputs.project, "ai-orchestra-prod");
    });

    it("leaves the state bucket and its key to bootstrap (no refresh needs getIamPolicy there); the pusher only pushes", () => {
      for (const stack of Object.values(stacks)) {
        assert.deepEqual(bindings(stack, "gcp:storage/bucketIAMMember:BucketIAMMember"), []);
        // The only key binding is prod's signer on the Binary Authorization attestor's key.
        assert.deepEqual(
          ofType(stack, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember").map((b) => [
            b.inputs.cryptoKeyId,
            b.inputs.role,
            b.inputs.member,
          ]),
          stack === stacks.prod
            ? [
                [
                  "projects/ai-orchestra-prod/locations/global/keyRings/binauthz/cryptoKeys/attestor",
                  "roles/cloudkms.signerVerifier",
                  DEPLOYER,
                ],
              ]
            : [],
        );
      }
      const pushers = ofType(
        stacks.prod,
        "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
      ).filter((b) => b.name.startsWith("delivery-"));
      assert.deepEqual(
        pushers.map((b) => b.inputs),
        ["api", "worker"].map(() => ({
          project: "ai-orchestra-prod",
          location: "europe-west1",
          repository: "orchestra",
          role: "roles/artifactregistry.writer",
          member: "serviceAccount:github-pusher@ai-orchestra-prod.iam.gserviceaccount.com",
        })),
      );
    });

    it("no member anywhere is a wildcard, owner or editor, and no key is ever created", () => {
      for (const r of Object.values(stacks)) {
        for (const res of r.resources) {
          const member = res.inputs.member as string | undefined;
          if (member?.startsWith("principalSet:"))
            assert.match(member, /\/attribute\.[a-z_]+\/\d+$/, res.name);
          assert.ok(!String(member ?? "").includes("*"), res.name);
          assert.ok(!["roles/owner", "roles/editor"].includes(res.inputs.role as string), res.name);
          assert.notEqual(res.type, "gcp:serviceaccount/key:Key");
        }
      }
      assert.equal(
        ofType(stacks.dev, "gcp:serviceaccount/account:Account").filter((a) => a.name === "delivery-pusher")
          .length,
        0,
      );
    });
  });

  describe("Artifact Registry", () => {
    it("deletes untagged images after a week and always keeps the newest ten", () => {
      const repo = inputs(stacks.prod, "registry-repository");
      assert.equal(repo.repositoryId, "orchestra");
      assert.equal(repo.format, "DOCKER");
      assert.deepEqual(repo.cleanupPolicies, [
        {
          id: "delete-untagged",
          action: "DELETE",
          condition: { tagState: "UNTAGGED", olderThan: "604800s" },
        },
        { id: "keep-recent", action: "KEEP", mostRecentVersions: { keepCount: 10 } },
      ]);
      assert.equal(repo.cleanupPolicyDryRun, false);
      assert.deepEqual(repo.dockerConfig, { immutableTags: true });
      assert.deepEqual(inputs(stacks.dev, "registry-repository").dockerConfig, { immutableTags: false });
    });
  });

  describe("GitHub", () => {
    it("gives prod an environment with reviewers, no self-review, protected branches only", () => {
      assert.deepEqual(inputs(stacks.prod, "github-environment"), {
        repository: "infra",
        environment: "prod",
        reviewers: [{ teams: [9876543], users: [] }],
        deploymentBranchPolicy: { protectedBranches: true, customBranchPolicies: false },
        preventSelfReview: true,
        canAdminsBypass: false,
      });
      assert.deepEqual(inputs(stacks.dev, "github-environment"), { repository: "infra", environment: "dev" });
    });

    it("points every GitHub object at the owner through the stack's provider", () => {
      assert.equal(inputs(stacks.prod, "github-provider").owner, "ai-orchestra");
    });

    it("writes the stack's variables with its suffix: project, region, WIF provider, accounts, registry, URLs", () => {
      const vars = Object.fromEntries(
        ofType(stacks.prod, "github:index/actionsVariable:ActionsVariable")
          .filter((v) => v.inputs.repository === "infra")
          .map((v) => [v.inputs.variableName, v.inputs.value]),
      );
      assert.equal(vars.GCP_PROJECT_PROD, "ai-orchestra-prod");
      assert.equal(vars.GCP_REGION_PROD, "europe-west1");
      assert.equal(vars.WIF_PROVIDER_PROD, `${POOL}/providers/github-deploy`);
      assert.equal(vars.WIF_PREVIEW_PROVIDER_PROD, `${POOL}/providers/github-preview`);
      assert.equal(vars.DEPLOYER_SA_PROD, DEPLOYER.replace("serviceAccount:", ""));
      assert.equal(vars.REGISTRY_PROD, "europe-west1-docker.pkg.dev/ai-orchestra-prod/orchestra");
      assert.deepEqual(Object.keys(JSON.parse(vars.SERVICE_URLS_PROD)), ["api", "worker"]);
      assert.equal(vars.PERF_P95_MS_PROD, "500");
      assert.equal(vars.DELIVERY_APP_ID, "1043210");
      assert.equal(vars.PULUMI_BACKEND_URL, "gs://ai-orchestra-pulumi-state");
    });

    it("lets only the owning stack declare repository-wide objects, and no two stacks write the same one", () => {
      const owners = ["dev", "staging", "prod"].filter(
        (s) => JSON.parse(readStackConfig(ROOT, s).flat["ai-orchestra:cicd"]).ownsRepositorySettings === true,
      );
      assert.deepEqual(owners, ["prod"]);
      for (const s of ["dev", "staging"]) {
        for (const type of REPOSITORY_WIDE)
          assert.deepEqual(ofType(stacks[s], type), [], `${s} declares ${type}`);
        for (const v of ofType(stacks[s], "github:index/actionsVariable:ActionsVariable"))
          assert.ok(
            (v.inputs.variableName as string).endsWith(`_${s.toUpperCase()}`),
            v.inputs.variableName as string,
          );
      }
      const keys = Object.values(stacks).flatMap((r) =>
        r.resources
          .filter((x) => x.type.startsWith("github:index/"))
          .map((x) => objectKey(x))
          .filter((k): k is string => k !== undefined),
      );
      assert.deepEqual(
        keys.filter((k, i) => keys.indexOf(k) !== i),
        [],
        "a GitHub object declared twice",
      );
    });

    it("commits the builders' workflows and Dependabot config to each application repository", () => {
      for (const [service, repo] of [
        ["api", "api"],
        ["worker", "worker"],
      ]) {
        const expected = applicationRepositoryFiles({
          service,
          defaultBranch: "main",
          infraRepository: "infra",
          infraDefaultBranch: "main",
          releaseStack: "prod",
        });
        const files = ofType(stacks.prod, "github:index/repositoryFile:RepositoryFile").filter(
          (f) => f.inputs.repository === repo,
        );
        assert.deepEqual(
          files.map((f) => [f.inputs.file, f.inputs.content, f.inputs.branch, f.inputs.overwriteOnCreate]),
          expected.map((f) => [f.path, f.content, "main", true]),
        );
      }
      const dependabot = ofType(stacks.prod, "github:index/repositoryFile:RepositoryFile").find(
        (f) => f.inputs.file === ".github/dependabot.yml",
      );
      for (const eco of ["npm", "github-actions", "docker"])
        assert.match(dependabot?.inputs.content as string, new RegExp(`package-ecosystem: ${eco}\\n`));
    });

    it("requires CI and preview checks from GitHub Actions; only the delivery App bypasses, in application repositories", () => {
      const infra = inputs(stacks.prod, "github-infra-ruleset");
      assert.deepEqual(infra.conditions, { refName: { includes: ["~DEFAULT_BRANCH"], excludes: [] } });
      assert.deepEqual(infra.rules.requiredStatusChecks.requiredChecks, [
        { context: "test", integrationId: 15368 },
        { context: "preview", integrationId: 15368 },
      ]);
      assert.equal(infra.bypassActors, undefined);
      const api = inputs(stacks.prod, "github-app-api-ruleset");
      assert.deepEqual(
        api.rules.requiredStatusChecks.requiredChecks.map((c: Json) => c.context),
        ["lint", "test", "build"],
      );
      assert.deepEqual(api.bypassActors, [
        { actorType: "Integration", actorId: 1043210, bypassMode: "always" },
      ]);
      for (const repo of ["infra", "api", "worker"]) {
        const alerts = ofType(
          stacks.prod,
          "github:index/repositoryVulnerabilityAlerts:RepositoryVulnerabilityAlerts",
        );
        assert.ok(
          alerts.some((a) => a.inputs.repository === repo && a.inputs.enabled === true),
          repo,
        );
      }
    });

    it("keeps secret config secret and replaces GitHub secrets by deleting them first", () => {
      const env = ofType(withSecrets, "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret");
      assert.deepEqual(
        env.map((s) => [
          s.name,
          s.inputs.secretName,
          s.inputs.environment,
          s.inputs.value,
          s.deleteBeforeReplace,
        ]),
        [["github-env-secret-slack_webhook_url", "SLACK_WEBHOOK_URL", "prod", "[secret]", true]],
      );
      const repo = ofType(withSecrets, "github:index/actionsSecret:ActionsSecret");
      assert.deepEqual(
        repo.map((s) => [s.inputs.repository, s.inputs.secretName, s.inputs.value, s.deleteBeforeReplace]),
        [
          ["infra", "DELIVERY_APP_PRIVATE_KEY", "[secret]", true],
          ["api", "DELIVERY_APP_PRIVATE_KEY", "[secret]", true],
          ["worker", "DELIVERY_APP_PRIVATE_KEY", "[secret]", true],
        ],
      );
      assert.ok(!JSON.stringify(withSecrets.resources).includes("hooks.example"));
      assert.ok(!JSON.stringify(withSecrets.resources).includes("BEGIN PRIVATE KEY"));
    });

    it("exports what a workflow needs to authenticate", () => {
      assert.deepEqual(stacks.prod.outputs.delivery, {
        workloadIdentityProvider: `${POOL}/providers/github-deploy`,
        previewIdentityProvider: `${POOL}/providers/github-preview`,
        deployer: "github-deployer@ai-orchestra-prod.iam.gserviceaccount.com",
        previewer: "github-previewer@ai-orchestra-prod.iam.gserviceaccount.com",
        pusher: "github-pusher@ai-orchestra-prod.iam.gserviceaccount.com",
        registry: "europe-west1-docker.pkg.dev/ai-orchestra-prod/orchestra",
      });
    });
  });
});

function sortByName<T extends { name: string } | unknown[]>(items: T[]): T[] {
  const key = (x: T) => (Array.isArray(x) ? String(x[0]) : (x as { name: string }).name);
  return [...items].sort((a, b) => key(a).localeCompare(key(b)));
}

/** The GitHub object a resource writes, for resources two stacks could both write. */
function objectKey(r: RenderedResource): string | undefined {
  const i = r.inputs as Json;
  switch (r.type) {
    case "github:index/actionsVariable:ActionsVariable":
      return `variable ${i.repository}/${i.variableName}`;
    case "github:index/actionsSecret:ActionsSecret":
      return `secret ${i.repository}/${i.secretName}`;
    case "github:index/repositoryFile:RepositoryFile":
      return `file ${i.repository}/${i.file}`;
    case "github:index/repositoryEnvironment:RepositoryEnvironment":
      return `environment ${i.repository}/${i.environment}`;
    case "github:index/repositoryRuleset:RepositoryRuleset":
      return `ruleset ${i.repository}/${i.name}`;
    case "github:index/issueLabel:IssueLabel":
      return `label ${i.repository}/${i.name}`;
    default:
      return r.type.includes("Repository") ? `${r.type} ${i.repository}` : undefined;
  }
}
