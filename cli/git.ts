import { exec } from "./exec";

/** The checked-out branch; undefined outside a repository or on a detached HEAD. */
export async function currentBranch(cwd: string): Promise<string | undefined> {
  const r = await exec("git", ["symbolic-ref", "--quiet", "--short", "HEAD"], { cwd });
  return r.code === 0 ? r.stdout.trim() || undefined : undefined;
}

/** The default branch: origin's HEAD if known, else `main` or `master`, whichever exists. */
export async function defaultBranch(cwd: string): Promise<string | undefined> {
  const head = await exec("git", ["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"], { cwd });
  if (head.code === 0 && head.stdout.trim()) return head.stdout.trim().replace(/^origin\//, "");
  for (const name of ["main", "master"]) {
    const r = await exec("git", ["rev-parse", "--verify", "--quiet", `refs/heads/${name}`], { cwd });
    if (r.code === 0) return name;
  }
  return undefined;
}

/** Paths with uncommitted changes (staged, unstaged or untracked), relative to the repository root. */
export async function dirtyPaths(cwd: string): Promise<string[] | undefined> {
  const r = await exec("git", ["status", "--porcelain"], { cwd });
  if (r.code !== 0) return undefined;
  return r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.slice(3));
}

export async function gitTopLevel(cwd: string): Promise<string | undefined> {
  const r = await exec("git", ["rev-parse", "--show-toplevel"], { cwd });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/**
 * The checked-out branch's upstream (`origin/main`) and how many commits HEAD has that it lacks, as of
 * the last fetch; undefined when the branch has no upstream, or outside a repository.
 */
export async function upstreamStatus(cwd: string): Promise<{ upstream: string; ahead: number } | undefined> {
  const up = await exec("git", ["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}"], { cwd });
  if (up.code !== 0 || !up.stdout.trim()) return undefined;
  const count = await exec("git", ["rev-list", "--count", "@{upstream}..HEAD"], { cwd });
  if (count.code !== 0) return undefined;
  return { upstream: up.stdout.trim(), ahead: Number(count.stdout.trim()) };
}

/** A file's content in the last commit (`path` relative to `cwd`); undefined if it has none or outside git. */
export async function committedText(cwd: string, file: string): Promise<string | undefined> {
  const r = await exec("git", ["show", `HEAD:./${file}`], { cwd });
  return r.code === 0 ? r.stdout : undefined;
}
