import * as artifactregistry from "@pulumi/gcp/artifactregistry";
import * as containeranalysis from "@pulumi/gcp/containeranalysis";
import * as iam from "@pulumi/gcp/iam";
import * as kms from "@pulumi/gcp/kms";
import * as projects from "@pulumi/gcp/projects";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import type * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { artifactRepository } from "../../model/imageRef";
import { ATTESTER_GRANTS } from "../../model/supplyChain";
import { DEPLOYER_ACCOUNT_ID, PREVIEWER_ACCOUNT_ID } from "../../model/stateAccess";
import type { CicdConfig } from "../../model/types";
import {
  DEPLOY_ATTRIBUTE,
  DEPLOY_PROVIDER_ID,
  deployerRoles,
  GITHUB_ISSUER,
  POOL_ID,
  PREVIEW_ATTRIBUTE,
  PREVIEW_PROVIDER_ID,
  PREVIEWER_ROLES,
  PROJECT_IAM_ADMIN,
  attributeMapping,
  deployCondition,
  previewCondition,
  projectIamAdminCondition,
  repositoryPrincipalSet,
} from "./workloadIdentity";

export interface DeliveryIdentityArgs {
  /** GCP project the pool and accounts live in. */
  readonly project: string;
  /** Stack name, for descriptions. */
  readonly stack: string;
  /** The stack's validated CI/CD settings; plain, because they decide bindings. */
  readonly cicd: CicdConfig;
  /** True in prod: only the default branch or the prod environment may deploy. Default: false. */
  readonly protectedDeploy?: boolean;
  /** Image repository of each service with an application repository (`REGION-docker.pkg.dev/P/R/IMAGE`). Default: none. */
  readonly imageRepositories?: Readonly<Record<string, string>>;
  /** The stack declares a global load balancer: the deployer also manages load balancing and Cloud Armor. Default: false. */
  readonly balancer?: boolean;
  /** The stack declares Pub/Sub topics: the deployer also manages Pub/Sub. Default: false. */
  readonly queues?: boolean;
  /**
   * The stack requires Binary Authorization: the deployer manages the attestor and its key, and attests
   * images before it deploys them (`containeranalysis.notes.attacher` on the note, `cloudkms.signerVerifier`
   * on the key, occurrences at project level). Default: none.
   */
  readonly attestation?: {
    /** `projects/P/notes/ID`. */
    readonly note: pulumi.Input<string>;
    /** The signing key's id, `projects/P/locations/L/keyRings/R/cryptoKeys/K`. */
    readonly cryptoKey: pulumi.Input<string>;
  };
}

/**
 * Keyless access from GitHub Actions: a Workload Identity pool with two GitHub OIDC providers, a
 * deployer account (this repository's `pulumi up`), a read-only previewer (`pulumi preview` in pull
 * requests, drift checks) and, with application repositories, an image pusher. No keys are created.
 */
export class DeliveryIdentity extends pulumi.ComponentResource {
  /** `projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/ID`, for google-github-actions/auth. */
  public readonly deployProvider: pulumi.Output<string>;
  public readonly previewProvider: pulumi.Output<string>;
  public readonly deployerEmail: pulumi.Output<string>;
  public readonly previewerEmail: pulumi.Output<string>;
  /** Absent without application repositories. */
  public readonly pusherEmail?: pulumi.Output<string>;

  constructor(name: string, args: DeliveryIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:identity:DeliveryIdentity", name, {}, opts);
    const { cicd, project } = args;
    const parent = { parent: this };
    const appIds = Object.values(cicd.applications).map((a) => a.id);

    const pool = new iam.WorkloadIdentityPool(
      `${name}-pool`,
      {
        project,
        workloadIdentityPoolId: POOL_ID,
        displayName: "GitHub Actions",
        description: `Keyless deploys of stack ${args.stack} from GitHub Actions. Managed by Pulumi.`,
      },
      parent,
    );
    const provider = (kind: "deploy" | "preview", id: string, condition: string) =>
      new iam.WorkloadIdentityPoolProvider(
        `${name}-${kind}-provider`,
        {
          project,
          workloadIdentityPoolId: pool.workloadIdentityPoolId,
          workloadIdentityPoolProviderId: id,
          displayName: `GitHub ${kind}`,
          attributeMapping: attributeMapping(kind),
          attributeCondition: condition,
          oidc: { issuerUri: GITHUB_ISSUER },
        },
        parent,
      );
    const deploy = provider(
      "deploy",
      DEPLOY_PROVIDER_ID,
      deployCondition({
        ownerId: cicd.ownerId,
        infraRepositoryId: cicd.infraRepository.id,
        applicationRepositoryIds: appIds,
        ...(args.protectedDeploy
          ? { protectedDeploy: { branch: cicd.defaultBranch, environment: args.stack } }
          : {}),
      }),
    );
    const preview = provider(
      "preview",
      PREVIEW_PROVIDER_ID,
      previewCondition({ ownerId: cicd.ownerId, infraRepositoryId: cicd.infraRepository.id }),
    );

    const account = (role: string, accountId: string, what: string) =>
      new serviceaccount.Account(
        `${name}-${role}`,
        {
          project,
          accountId,
          displayName: what,
          description: `${what} (stack ${args.stack}). Managed by Pulumi.`,
        },
        parent,
      );
    const impersonation = (role: string, sa: serviceaccount.Account, attribute: string, repoId: number) =>
      new serviceaccount.IAMMember(
        `${name}-${role}`,
        {
          serviceAccountId: sa.name,
          role: "roles/iam.workloadIdentityUser",
          member: pool.name.apply((pool) => repositoryPrincipalSet(pool, attribute, repoId)),
        },
        parent,
      );
    const projectRole = (
      role: string,
      sa: serviceaccount.Account,
      grant: string,
      condition?: gcp.types.input.projects.IAMMemberCondition,
    ) =>
      new projects.IAMMember(
        `${name}-${role}`,
        {
          project,
          role: grant,
          member: pulumi.interpolate`serviceAccount:${sa.email}`,
          ...(condition ? { condition } : {}),
        },
        parent,
      );
    const short = (role: string) =>
      role
        .replace(/^roles\//, "")
        .replace(/[^a-zA-Z0-9]+/g, "-")
        .toLowerCase();

    const deployer = account("deployer", DEPLOYER_ACCOUNT_ID, "GitHub deployer");
    impersonation("deployer-wif", deployer, DEPLOY_ATTRIBUTE, cicd.infraRepository.id);
    const roles = {
      balancer: args.balancer ?? false,
      queues: args.queues ?? false,
      binaryAuthorization: args.attestation !== undefined,
    };
    for (const g of deployerRoles(roles)) projectRole(`deployer-${short(g.role)}`, deployer, g.role);
    projectRole("deployer-project-iam-admin", deployer, PROJECT_IAM_ADMIN, projectIamAdminCondition(roles));

    if (args.attestation) this.grantAttester(name, deployer, project, args.attestation);

    const previewer = account("previewer", PREVIEWER_ACCOUNT_ID, "GitHub previewer (read-only)");
    impersonation("previewer-wif", previewer, PREVIEW_ATTRIBUTE, cicd.infraRepository.id);
    for (const g of PREVIEWER_ROLES) projectRole(`previewer-${short(g.role)}`, previewer, g.role);

    // The state bucket and its KMS key are granted at bootstrap, not here: see model/stateAccess.ts.

    if (Object.keys(cicd.applications).length > 0) {
      const pusher = account("pusher", "github-pusher", "GitHub image pusher");
      for (const [service, repo] of Object.entries(cicd.applications)) {
        impersonation(`pusher-wif-${service}`, pusher, DEPLOY_ATTRIBUTE, repo.id);
        const ar = artifactRepository(args.imageRepositories?.[service] ?? "");
        if (!ar) continue;
        new artifactregistry.RepositoryIamMember(
          `${name}-pusher-${service}`,
          {
            project: ar.project,
            location: ar.location,
            repository: ar.repository,
            role: "roles/artifactregistry.writer",
            member: pulumi.interpolate`serviceAccount:${pusher.email}`,
          },
          parent,
        );
      }
      this.pusherEmail = pusher.email;
    }

    this.deployProvider = deploy.name;
    this.previewProvider = preview.name;
    this.deployerEmail = deployer.email;
    this.previewerEmail = previewer.email;
    this.registerOutputs({
      deployProvider: this.deployProvider,
      previewProvider: this.previewProvider,
      deployerEmail: this.deployerEmail,
      previewerEmail: this.previewerEmail,
      pusherEmail: this.pusherEmail,
    });
  }
  /** The attester's grants on the note and the key; its project role comes with the deployer's. */
  private grantAttester(
    name: string,
    attester: serviceaccount.Account,
    project: string,
    on: NonNullable<DeliveryIdentityArgs["attestation"]>,
  ): void {
    const member = pulumi.interpolate`serviceAccount:${attester.email}`;
    for (const g of ATTESTER_GRANTS) {
      if (g.on === "note")
        new containeranalysis.NoteIamMember(
          `${name}-attester-note`,
          { project, note: on.note, role: g.role, member },
          { parent: this },
        );
      else if (g.on === "key")
        new kms.CryptoKeyIAMMember(
          `${name}-attester-key`,
          { cryptoKeyId: on.cryptoKey, role: g.role, member },
          { parent: this },
        );
    }
  }
}
