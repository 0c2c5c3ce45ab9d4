import type * as gcp from "@pulumi/gcp";

export interface CleanupSettings {
  /** Most recent versions kept per image, whatever their age or tags. */
  readonly keepVersions: number;
  /** Untagged versions (build leftovers, superseded layers) are deleted after this many days. */
  readonly deleteUntaggedAfterDays: number;
}

/**
 * Artifact Registry cleanup: untagged versions go after a while, the newest few always stay. CI tags
 * every pushed image with its commit, so released digests stay tagged and are never deleted.
 * A KEEP policy wins over a DELETE one.
 */
export function cleanupPolicies(
  s: CleanupSettings,
): gcp.types.input.artifactregistry.RepositoryCleanupPolicy[] {
  return [
    {
      id: "delete-untagged",
      action: "DELETE",
      condition: { tagState: "UNTAGGED", olderThan: `${s.deleteUntaggedAfterDays * 86400}s` },
    },
    { id: "keep-recent", action: "KEEP", mostRecentVersions: { keepCount: s.keepVersions } },
  ];
}
