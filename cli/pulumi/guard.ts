/** What decides whether `up` may deploy a production stack from here. */
export interface UpGuardInput {
  readonly stack: string;
  /** `ai-orchestra:environment` of the stack. */
  readonly environment: string;
  readonly branch?: string;
  readonly defaultBranch?: string;
  /** Uncommitted paths; undefined outside a git repository. */
  readonly dirty?: readonly string[];
  /** The branch's upstream and how far HEAD is ahead of it; undefined when it has none. */
  readonly upstream?: { readonly upstream: string; readonly ahead: number };
  readonly allowDirty: boolean;
  readonly allowBranch: boolean;
  readonly allowUnpushed: boolean;
}

/**
 * Why `up` refuses to run, one reason a line; empty when it may. Only prod is guarded: what is deployed
 * there must be what was reviewed and merged.
 */
export function upRefusals(i: UpGuardInput): string[] {
  if (i.environment !== "prod") return [];
  const reasons: string[] = [];
  if (!i.allowDirty) {
    if (i.dirty === undefined)
      reasons.push(
        "this is not a git repository, so what would be deployed cannot be told from a commit (--allow-dirty to deploy anyway)",
      );
    else if (i.dirty.length > 0)
      reasons.push(
        `the working tree has ${i.dirty.length} uncommitted change${i.dirty.length === 1 ? "" : "s"} (${i.dirty.slice(0, 3).join(", ")}${i.dirty.length > 3 ? ", ..." : ""}): commit or stash them, or pass --allow-dirty`,
      );
  }
  if (!i.allowBranch) {
    const want = i.defaultBranch ?? "main";
    if (i.branch !== want)
      reasons.push(
        `${i.branch ? `the branch is ${i.branch}` : "no branch is checked out"}, not the default branch ${want}: deploy ${i.stack} from ${want}, or pass --allow-branch`,
      );
  }
  // A commit only this machine has was never reviewed, and nobody else can tell what was deployed.
  if (!i.allowUnpushed && i.dirty !== undefined) {
    const branch = i.branch ?? "HEAD";
    if (!i.upstream)
      reasons.push(
        `${branch} has no upstream, so whether this commit was pushed cannot be told: push it (git push -u origin ${branch}), or pass --allow-unpushed`,
      );
    else if (i.upstream.ahead > 0)
      reasons.push(
        `${branch} is ${i.upstream.ahead} commit${i.upstream.ahead === 1 ? "" : "s"} ahead of ${i.upstream.upstream}: push first (git push), so that what is deployed is what was pushed, or pass --allow-unpushed`,
      );
  }
  return reasons;
}
