/** GitHub Actions workflows as data: what the builders return and the tests inspect. */

export type PermissionLevel = "read" | "write" | "none";
/** A job's or workflow's `permissions`; an empty object grants nothing. */
export type Permissions = Readonly<Partial<Record<PermissionScope, PermissionLevel>>>;
export type PermissionScope =
  | "actions"
  | "attestations"
  | "checks"
  | "contents"
  | "deployments"
  | "id-token"
  | "issues"
  | "packages"
  | "pull-requests"
  | "security-events"
  | "statuses";

export interface Step {
  readonly name: string;
  readonly id?: string;
  readonly if?: string;
  readonly uses?: string;
  readonly with?: Readonly<Record<string, string | number | boolean>>;
  readonly run?: string;
  readonly shell?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly "continue-on-error"?: boolean;
}

export interface Job {
  readonly name?: string;
  readonly needs?: readonly string[];
  readonly if?: string;
  readonly "runs-on": string;
  readonly environment?: { readonly name: string; readonly url?: string };
  readonly permissions: Permissions;
  readonly concurrency?: { readonly group: string; readonly "cancel-in-progress": boolean | string };
  readonly "timeout-minutes": number;
  readonly outputs?: Readonly<Record<string, string>>;
  readonly env?: Readonly<Record<string, string>>;
  readonly steps: readonly Step[];
}

export interface Workflow {
  readonly name: string;
  readonly on: Readonly<Record<string, unknown>>;
  readonly permissions: Permissions;
  readonly concurrency?: { readonly group: string; readonly "cancel-in-progress": boolean | string };
  readonly jobs: Readonly<Record<string, Job>>;
}

/** A file to commit, by its path in the repository. */
export interface GeneratedFile {
  readonly path: string;
  readonly content: string;
}
