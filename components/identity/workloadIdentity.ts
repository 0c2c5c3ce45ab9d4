import { ATTESTER_GRANTS } from "../../model/supplyChain";

/**
 * The decisions behind keyless deploys from GitHub Actions: which OIDC tokens the Workload Identity
 * provider accepts, how their claims map to attributes, and which service account may be impersonated
 * by whom. Pure, so tests assert them directly.
 */

export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";

/** Workload Identity pool and provider ids (4-32 lowercase letters, digits and '-'). */
export const POOL_ID = "github-actions";
export const DEPLOY_PROVIDER_ID = "github-deploy";
export const PREVIEW_PROVIDER_ID = "github-preview";

/**
 * Attributes that only one provider maps. Both providers live in one pool and a principalSet names a
 * pool, not a provider: binding the deployer to `attribute.deploy_repository_id/ID` means only tokens
 * the deploy provider accepted can impersonate it, whatever the preview provider lets in.
 */
export const DEPLOY_ATTRIBUTE = "deploy_repository_id";
export const PREVIEW_ATTRIBUTE = "preview_repository_id";

export type ProviderKind = "deploy" | "preview";

/** Claims mapped to attributes, for audit logs and for principalSet bindings. */
export function attributeMapping(kind: ProviderKind): Record<string, string> {
  return {
    "google.subject": "assertion.sub",
    "attribute.repository_id": "assertion.repository_id",
    "attribute.repository_owner_id": "assertion.repository_owner_id",
    "attribute.ref": "assertion.ref",
    "attribute.event_name": "assertion.event_name",
    [`attribute.${kind === "deploy" ? DEPLOY_ATTRIBUTE : PREVIEW_ATTRIBUTE}`]: "assertion.repository_id",
  };
}

export interface ConditionInput {
  /** Numeric id of the GitHub owner; names can be renamed and re-registered, ids cannot. */
  readonly ownerId: number;
  /** The infrastructure repository's numeric id: it deploys (and previews) the stacks. */
  readonly infraRepositoryId: number;
  /** Application repositories' numeric ids: they push images. */
  readonly applicationRepositoryIds: readonly number[];
  /**
   * Set for prod: tokens must come from a push or manual run on the default branch (protected by the
   * ruleset), or from a job in the prod environment (protected branches and required reviewers).
   */
  readonly protectedDeploy?: { readonly branch: string; readonly environment: string };
}

const quote = (value: string | number) => `'${String(value).replace(/['\\]/g, "")}'`;
const inList = (ids: readonly (string | number)[]) => `[${[...new Set(ids)].map(quote).join(", ")}]`;

/**
 * The deploy provider's CEL attribute condition. GitHub's claims are strings, so ids are compared as
 * strings. In prod, application repositories may only push from their default branch, and the
 * infrastructure repository only deploys from the default branch or the prod environment.
 */
export function deployCondition(input: ConditionInput): string {
  const owner = `assertion.repository_owner_id == ${quote(input.ownerId)}`;
  const infra = `assertion.repository_id == ${quote(input.infraRepositoryId)}`;
  const apps = input.applicationRepositoryIds.length
    ? `assertion.repository_id in ${inList(input.applicationRepositoryIds)}`
    : undefined;
  const guard = input.protectedDeploy;
  if (!guard) {
    const repos = apps ? `(${infra} || ${apps})` : infra;
    return `${owner} && ${repos}`;
  }
  const onBranch = `assertion.ref == ${quote(`refs/heads/${guard.branch}`)}`;
  const byPushOrHand = `assertion.event_name in ['push', 'workflow_dispatch']`;
  const inEnvironment = `(has(assertion.environment) && assertion.environment == ${quote(guard.environment)})`;
  const infraRule = `(${infra} && ${byPushOrHand} && (${onBranch} || ${inEnvironment}))`;
  const appRule = apps ? `(${apps} && assertion.event_name == 'push' && ${onBranch})` : undefined;
  return `${owner} && ${appRule ? `(${infraRule} || ${appRule})` : infraRule}`;
}

/**
 * The preview provider's condition: the infrastructure repository only, from any ref (pull requests
 * and the drift check). It can only reach the read-only previewer account.
 */
export function previewCondition(input: Pick<ConditionInput, "ownerId" | "infraRepositoryId">): string {
  return `assertion.repository_owner_id == ${quote(input.ownerId)} && assertion.repository_id == ${quote(input.infraRepositoryId)}`;
}

/** The principalSet of one repository's tokens through one provider's attribute; never a wildcard. */
export function repositoryPrincipalSet(poolName: string, attribute: string, repositoryId: number): string {
  if (!Number.isInteger(repositoryId) || repositoryId <= 0) {
    throw new Error(`A principalSet needs a numeric repository id; got ${repositoryId}.`);
  }
  return `principalSet://iam.googleapis.com/${poolName}/attribute.${attribute}/${repositoryId}`;
}

/** A project role and why the account needs it. */
export interface RoleGrant {
  readonly role: string;
  readonly why: string;
}

/**
 * Roles the deployer needs to run this program, each for a reason. It manages its own identity pieces
 * too, so it may grant project roles, but only these roles (an IAM condition on modifiedGrantsByRole):
 * never owner or editor, and never project IAM administration itself.
 */
export const DEPLOYER_ROLES: readonly RoleGrant[] = [
  { role: "roles/run.admin", why: "Cloud Run services, revisions and their invoker bindings" },
  {
    role: "roles/iam.serviceAccountAdmin",
    why: "runtime and CI service accounts, and who may impersonate them",
  },
  { role: "roles/iam.serviceAccountUser", why: "deploy revisions that run as the runtime accounts" },
  {
    role: "roles/artifactregistry.admin",
    why: "the image registry, its cleanup policies and pull/push grants",
  },
  {
    role: "roles/secretmanager.admin",
    why: "grant each runtime account access to the secrets it references",
  },
  { role: "roles/iam.workloadIdentityPoolAdmin", why: "the GitHub Workload Identity pool and providers" },
  {
    role: "roles/monitoring.editor",
    why: "dashboards, alert policies, uptime checks, SLOs and notification channels",
  },
  { role: "roles/logging.configWriter", why: "log-based metrics" },
];

/** Added to the deployer's roles in a stack with a global load balancer. */
export const BALANCER_DEPLOYER_ROLES: readonly RoleGrant[] = [
  {
    role: "roles/compute.loadBalancerAdmin",
    why: "the balancer's address, NEGs, backends, certificate, URL maps, proxies and forwarding rules",
  },
  { role: "roles/compute.securityAdmin", why: "the Cloud Armor policy and attaching it to backends" },
];

/** Added to the deployer's roles in a stack with Pub/Sub topics. */
export const QUEUE_DEPLOYER_ROLES: readonly RoleGrant[] = [
  {
    role: "roles/pubsub.admin",
    why: "topics, push and dead-letter subscriptions, and who may publish to or consume them",
  },
];

/** Added to the deployer's roles in a stack with Binary Authorization. */
export const BINARY_AUTHORIZATION_DEPLOYER_ROLES: readonly RoleGrant[] = [
  { role: "roles/cloudkms.admin", why: "the attestor's key ring and signing key, and who may sign with it" },
  { role: "roles/containeranalysis.admin", why: "the attestor's note and who may attach attestations to it" },
  { role: "roles/binaryauthorization.attestorsAdmin", why: "the attestor" },
  { role: "roles/binaryauthorization.policyEditor", why: "the project's Binary Authorization policy" },
  // The deploy job attests images itself (docs/supply-chain.md); the note and key grants are on them.
  ...ATTESTER_GRANTS.filter((g) => g.on === "project").map((g) => ({ role: g.role, why: g.why })),
];

/** Which optional parts a stack declares, each needing its own deployer roles. */
export interface DeployerScope {
  readonly balancer?: boolean;
  readonly queues?: boolean;
  readonly binaryAuthorization?: boolean;
}

/** The deployer's project roles: the balancer's, the queues' and Binary Authorization's only where the stack declares them. */
export function deployerRoles(options: DeployerScope = {}): readonly RoleGrant[] {
  return [
    ...DEPLOYER_ROLES,
    ...(options.balancer ? BALANCER_DEPLOYER_ROLES : []),
    ...(options.queues ? QUEUE_DEPLOYER_ROLES : []),
    ...(options.binaryAuthorization ? BINARY_AUTHORIZATION_DEPLOYER_ROLES : []),
  ];
}

/** Read-only roles of the previewer: `pulumi preview` and the drift check read resources and IAM policies. */
export const PREVIEWER_ROLES: readonly RoleGrant[] = [
  { role: "roles/viewer", why: "read every resource the program declares" },
  { role: "roles/iam.securityReviewer", why: "read the IAM policies the program declares bindings in" },
];

export const PROJECT_IAM_ADMIN = "roles/resourcemanager.projectIamAdmin";

/** The roles the deployer may grant or revoke at project level: its own and the previewer's, nothing else. */
export function grantableRoles(options: DeployerScope = {}): string[] {
  return [...new Set([...deployerRoles(options), ...PREVIEWER_ROLES].map((g) => g.role))].sort();
}

/** IAM condition limiting the deployer's project IAM administration to `grantableRoles()`. */
export function projectIamAdminCondition(options: DeployerScope = {}): {
  title: string;
  description: string;
  expression: string;
} {
  return {
    title: "only-pipeline-roles",
    description: "The deployer may grant or revoke only the CI/CD roles this program declares.",
    expression: `api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly(${inList(grantableRoles(options))})`,
  };
}
