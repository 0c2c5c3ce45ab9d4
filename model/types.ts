/** The typed, validated stack configuration that every component reads. */

import type { LlmSpend, ServiceLlm } from "./llm";
import type { BinaryAuthorizationConfig } from "./supplyChain";
import type { LoadBalancerConfig } from "./loadBalancer";
import type { MonitoringConfig } from "./monitoring";
import type { PolicyConfig } from "./policy";
import type { PushSubscriptionConfig } from "./queue";
import type {
  ApprovedDigests,
  VulnerabilityGate,
  VulnerabilityOverrideRecord,
} from "./supplyChain/vulnerabilities";

/** The Pulumi project, and the namespace of its config keys. */
export const PROJECT = "ai-orchestra";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** Config spelling of ingress, mapped to the Cloud Run v2 enum. */
export const INGRESS_VALUES = {
  all: "INGRESS_TRAFFIC_ALL",
  internal: "INGRESS_TRAFFIC_INTERNAL_ONLY",
  "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
} as const;
export type Ingress = keyof typeof INGRESS_VALUES;

/** A local Docker build, pushed to the service's repository (dev stacks only). */
export interface BuildSpec {
  readonly context: string;
  readonly dockerfile?: string;
  readonly target?: string;
}

export interface StableRelease {
  /** The image by digest, `repo@sha256:...`; absent when `build` is used. */
  readonly image?: string;
  readonly build?: BuildSpec;
  /**
   * The name of the revision stable runs, pinned by `orchestra canary start` and `promote`. It applies
   * while it was built from the current settings (see `builtFrom`); a settings change outside a canary
   * makes a new revision under the content name.
   */
  readonly revision?: string;
}

/**
 * Where a canary stands. Cloud Run refuses a traffic list naming a revision that is not ready, so a
 * canary is created with no traffic entry (`staged`), and only named in the list (`serving`) once it
 * is known to be ready in every region. `rolled-back` reverts the template to the exact stable revision.
 */
export const CANARY_PHASES = ["staged", "serving", "rolled-back"] as const;
export type CanaryPhase = (typeof CANARY_PHASES)[number];

/**
 * Where a baseline stands: `staged` while the template creates it (traffic does not name it yet);
 * `ready` once Cloud Run reported it ready in every region, after which the template creates the canary.
 */
export const BASELINE_PHASES = ["staged", "ready"] as const;
export type BaselinePhase = (typeof BASELINE_PHASES)[number];

/**
 * The stable release deployed afresh (stable's exact spec under a revision name never used), served at
 * the canary's percent under the tag `baseline`, so the canary is compared with a revision as new as
 * itself rather than with the long-warm stable fleet.
 */
export interface BaselineRelease {
  readonly revision: string;
  readonly phase: BaselinePhase;
}

export interface CanaryRelease {
  readonly image: string;
  /** The revision name given at `orchestra canary start`, never used before, so a retry re-creates. */
  readonly revision: string;
  /**
   * Integer 0-100: the share while serving (0 is a dark launch reachable only at the canary tag URL);
   * while staged, the share it takes once ready; once rolled back, the last share it had.
   */
  readonly percent: number;
  readonly phase: CanaryPhase;
  /** A fresh revision of the stable release to compare the canary with; see BaselineRelease. */
  readonly baseline?: BaselineRelease;
  /** The digests the vulnerability gate approved, when the image is a multi-platform index. */
  readonly approvedDigests?: ApprovedDigests;
  /** Set when the release went out despite blocking findings (`--allow-vulnerable`). */
  readonly vulnerabilityOverride?: VulnerabilityOverrideRecord;
}

/**
 * How Cloud Run bills CPU: `request` allocates CPU only while a request is handled (`cpuIdle: true`);
 * `instance` keeps it allocated for the instance's life, for background work after the response.
 */
export const CPU_ALLOCATIONS = ["request", "instance"] as const;
export type CpuAllocation = (typeof CPU_ALLOCATIONS)[number];

export interface SecretEnvRef {
  /** Secret Manager secret id, or its full `projects/P/secrets/S` name. */
  readonly secret: string;
  readonly version: string;
}

export interface ServiceConfig {
  readonly name: string;
  /** Cloud Run regions, each with its own service and the same traffic split; never empty. */
  readonly regions: readonly string[];
  readonly repository: string;
  readonly stable: StableRelease;
  readonly canary?: CanaryRelease;
  readonly cpu: string;
  readonly cpuAllocation: CpuAllocation;
  readonly memory: string;
  /** `minInstances` is the service's (shared by the revisions with traffic); the rest are per revision. */
  readonly scaling: {
    readonly minInstances: number;
    readonly maxInstances: number;
    readonly concurrency: number;
  };
  readonly env: Readonly<Record<string, string>>;
  readonly secretEnv: Readonly<Record<string, SecretEnvRef>>;
  readonly ingress: Ingress;
  readonly allowUnauthenticated: boolean;
  readonly invokers: readonly string[];
  readonly healthCheckPath?: string;
  readonly port: number;
  readonly timeoutSeconds: number;
  readonly deletionProtection: boolean;
  /** Topics Pub/Sub pushes to this service, one push subscription each. */
  readonly consumes: readonly PushSubscriptionConfig[];
  /** Topics this service's runtime account may publish to. */
  readonly publishes: readonly string[];
  /** The service logs its model calls (docs/llm.md): their metrics, charts and, when it streams, time to first token. */
  readonly llm?: ServiceLlm;
  /** Break-glass: the reason this service's deploys bypass Binary Authorization's check, while set. */
  readonly breakglassJustification?: string;
}

/** A GitHub repository by name and by the numeric id that OIDC tokens carry. */
export interface GithubRepository {
  readonly name: string;
  readonly id: number;
}

/** Keyless CI/CD of a stack: who may deploy it from GitHub, and what is declared on GitHub. */
export interface CicdConfig {
  /** GitHub organisation (or user) owning every repository below, and its numeric id. */
  readonly owner: string;
  readonly ownerId: number;
  /** This infrastructure repository. */
  readonly infraRepository: GithubRepository;
  readonly defaultBranch: string;
  /** The GitHub App whose short-lived installation tokens write across repositories. */
  readonly appId: number;
  /**
   * True in exactly one stack: it owns repository-wide GitHub objects (rulesets, repository
   * variables and secrets, application workflows, Dependabot and vulnerability alerts).
   */
  readonly ownsRepositorySettings: boolean;
  /** Required reviewers of the stack's GitHub environment (numeric ids). */
  readonly reviewers: { readonly teams: readonly number[]; readonly users: readonly number[] };
  /** Service name to its application repository; only in the owning stack. */
  readonly applications: Readonly<Record<string, GithubRepository>>;
  readonly registry: {
    readonly repository: string;
    readonly keepVersions: number;
    readonly deleteUntaggedAfterDays: number;
  };
  /** GCS bucket of the Pulumi state (`gs://` backend), if any. */
  readonly stateBucket?: string;
  /** Cloud KMS key of the stack's `gcpkms://` secrets provider, if any. */
  readonly secretsKey?: string;
  /** The k6 smoke test after each deploy; absent when no service is reachable from the internet. */
  readonly perf?: {
    readonly service: string;
    readonly path: string;
    readonly p95Ms: number;
    readonly errorRate: number;
    readonly vus: number;
    readonly duration: string;
  };
  /** Names of `ai-orchestra:githubSecrets`; the values are read as secrets by the program. */
  readonly secretNames: readonly string[];
  /** Whether `ai-orchestra:deliveryAppPrivateKey` is set, so the App's key is managed as a secret. */
  readonly manageDeliveryAppKey: boolean;
}

export interface StackConfig {
  readonly stack: string;
  readonly project: string;
  /** The provider's region (`gcp:region`): regional resources such as the registry live here. */
  readonly region: string;
  /** Default regions of the services (`ai-orchestra:regions`); `[region]` when unset. */
  readonly regions: readonly string[];
  readonly environment: Environment;
  readonly labels: Readonly<Record<string, string>>;
  readonly services: readonly ServiceConfig[];
  /** Keyless CI/CD; absent when `ai-orchestra:cicd` is not set. */
  readonly cicd?: CicdConfig;
  readonly monitoring: MonitoringConfig;
  /** Guardrail levels and limits (`ai-orchestra:policy`). */
  readonly policy: PolicyConfig;
  /** The global load balancer in front of some services; absent when `ai-orchestra:loadBalancer` is not set. */
  readonly loadBalancer?: LoadBalancerConfig;
  /** Model prices, the daily spend alert and the billing budget; absent when `ai-orchestra:llm` is not set. */
  readonly llm?: LlmSpend;
  /** Binary Authorization for the stack's Cloud Run services; absent when `ai-orchestra:binaryAuthorization` is not set. */
  readonly binaryAuthorization?: BinaryAuthorizationConfig;
  /** Which findings stop a release (`ai-orchestra:vulnerabilityGate`). */
  readonly vulnerabilityGate: VulnerabilityGate;
}
