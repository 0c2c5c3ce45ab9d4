import type { Environment } from "./types";

/** Defaults for every per-service setting that does not depend on the environment. */
export const SERVICE_DEFAULTS = {
  cpu: "1",
  memory: "512Mi",
  maxInstances: 10,
  concurrency: 80,
  port: 8080,
  timeoutSeconds: 300,
  ingress: "all",
  allowUnauthenticated: false,
  secretVersion: "latest",
} as const;

/** Defaults that differ by environment: prod keeps a warm instance, guards deletion and demands digests. */
export const ENVIRONMENT_DEFAULTS: Record<
  Environment,
  { readonly minInstances: number; readonly deletionProtection: boolean; readonly requireDigest: boolean }
> = {
  dev: { minInstances: 0, deletionProtection: false, requireDigest: false },
  staging: { minInstances: 0, deletionProtection: false, requireDigest: true },
  prod: { minInstances: 1, deletionProtection: true, requireDigest: true },
};

/** Defaults of `ai-orchestra:cicd`. Owning repository-wide settings is never a default: one stack opts in. */
export const CICD_DEFAULTS = {
  defaultBranch: "main",
  ownsRepositorySettings: false,
  registry: { repository: "orchestra", keepVersions: 10, deleteUntaggedAfterDays: 7 },
  perf: { path: "/", p95Ms: 500, errorRate: 0.01, vus: 5, duration: "30s" },
} as const;
