/** The typed, validated stack configuration that every component reads. */

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
  /** The revision serving stable traffic while a canary runs; pinned by `orchestra canary start`. */
  readonly revision?: string;
}

export interface CanaryRelease {
  readonly image: string;
  /** Integer 0-100; 0 is a dark launch reachable only at the canary tag URL. */
  readonly percent: number;
  /** Set by `orchestra canary rollback`: stable serves 100% and the canary is kept at 0% for inspection. */
  readonly rolledBack: boolean;
}

export interface SecretEnvRef {
  /** Secret Manager secret id, or its full `projects/P/secrets/S` name. */
  readonly secret: string;
  readonly version: string;
}

export interface ServiceConfig {
  readonly name: string;
  readonly repository: string;
  readonly stable: StableRelease;
  readonly canary?: CanaryRelease;
  readonly cpu: string;
  readonly memory: string;
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
}

export interface StackConfig {
  readonly stack: string;
  readonly project: string;
  readonly region: string;
  readonly environment: Environment;
  readonly labels: Readonly<Record<string, string>>;
  readonly services: readonly ServiceConfig[];
}
