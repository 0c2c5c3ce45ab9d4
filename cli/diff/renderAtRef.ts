import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RenderedStack } from "../../render/renderStack";
import { exec } from "../exec";
import { CliError } from "../output";

export interface RefRender {
  readonly commit: string;
  /** Undefined when the stack file does not exist at that ref. */
  readonly rendered?: RenderedStack;
}

/** Resolves a ref to its commit, or explains why it cannot be used. */
export async function resolveRef(repo: string, ref: string): Promise<string> {
  const r = await exec("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { cwd: repo });
  if (r.code !== 0) throw new CliError(`"${ref}" is not a commit in this repository.`, 2);
  return r.stdout.trim();
}

/** The default base: where this branch left the default branch, else HEAD. */
export async function defaultBase(repo: string, defaultBranch: string | undefined): Promise<string> {
  if (defaultBranch) {
    for (const candidate of [`origin/${defaultBranch}`, defaultBranch]) {
      const r = await exec("git", ["merge-base", "HEAD", candidate], { cwd: repo });
      if (r.code === 0 && r.stdout.trim())
        return candidate === defaultBranch
          ? `merge-base with ${defaultBranch}`
          : `merge-base with ${candidate}`;
    }
  }
  return "HEAD";
}

export async function mergeBaseCommit(repo: string, label: string): Promise<string> {
  const m = /^merge-base with (.+)$/.exec(label);
  if (!m) return resolveRef(repo, label);
  const r = await exec("git", ["merge-base", "HEAD", m[1]], { cwd: repo });
  return r.stdout.trim();
}

/** Runs the render child in `projectDir` (a checkout) for `stack`. */
function renderInChild(projectDir: string, stack: string): Promise<RenderedStack> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      // The CLI's own loader (see bin/orchestra.js), resolved here: the checkout may have none.
      [
        "--require",
        require.resolve("@swc-node/register"),
        path.join(__dirname, "renderChild.ts"),
        projectDir,
        stack,
      ],
      {
        cwd: projectDir,
        // The checkout is a fresh worktree each time, so the loader's cache of its files would never be
        // read again; and the child's process.exit() would cut its writes off (see bin/orchestra.js).
        env: { ...process.env, SWC_NODE_CACHE: "0" },
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 180_000,
      },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) {
        try {
          return resolve(JSON.parse(Buffer.concat(out).toString("utf8")) as RenderedStack);
        } catch (e) {
          return reject(e);
        }
      }
      reject(new CliError(Buffer.concat(err).toString("utf8").trim() || `the render exited ${code}`));
    });
  });
}

/**
 * Renders `stack` as the program at `commit` declares it: a detached worktree of that commit (the
 * program's code may differ from the working tree's), with this checkout's node_modules linked in,
 * rendered in a child process. The worktree is removed afterwards, also on failure or Ctrl-C.
 */
/** The git path of `Pulumi.<stack>.yaml` in the project folder `projectRel` of the repository. */
function stackFileRef(projectRel: string, stack: string): string {
  return path.posix.join(projectRel.split(path.sep).join("/"), `Pulumi.${stack}.yaml`).replace(/^\.\//, "");
}

/** The text of `Pulumi.<stack>.yaml` at `commit`; undefined when it does not exist there. */
export async function stackFileAtCommit(
  repo: string,
  projectRel: string,
  stack: string,
  commit: string,
): Promise<string | undefined> {
  const r = await exec("git", ["show", `${commit}:${stackFileRef(projectRel, stack)}`], { cwd: repo });
  return r.code === 0 ? r.stdout : undefined;
}

export async function renderAtCommit(
  repo: string,
  projectRel: string,
  stack: string,
  commit: string,
  nodeModules: string,
): Promise<RefRender> {
  const exists = await exec("git", ["cat-file", "-e", `${commit}:${stackFileRef(projectRel, stack)}`], {
    cwd: repo,
  });
  if (exists.code !== 0) return { commit };

  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-diff-"));
  const tree = path.join(parent, "tree");
  const cleanup = () => {
    const link = path.join(tree, projectRel, "node_modules");
    try {
      if (fs.lstatSync(link).isSymbolicLink()) fs.unlinkSync(link);
    } catch {
      // not linked yet
    }
    // Best effort and synchronous, so it also runs from a signal handler. Only this worktree is
    // removed: `git worktree prune` would touch every worktree of the repository.
    spawnSync("git", ["worktree", "remove", "--force", tree], { cwd: repo });
    fs.rmSync(parent, { recursive: true, force: true });
  };
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const added = await exec("git", ["worktree", "add", "--detach", tree, commit], {
      cwd: repo,
      timeoutMs: 60_000,
    });
    if (added.code !== 0)
      throw new CliError(`Could not check out ${commit.slice(0, 10)}: ${added.stderr.trim()}`);
    const dir = path.join(tree, projectRel);
    if (!fs.existsSync(path.join(dir, "node_modules")))
      fs.symlinkSync(nodeModules, path.join(dir, "node_modules"), "dir");
    try {
      return { commit, rendered: await renderInChild(dir, stack) };
    } catch (e) {
      throw new CliError(
        `Could not render stack "${stack}" at ${commit.slice(0, 10)}:\n${e instanceof Error ? e.message : String(e)}`,
      );
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    cleanup();
  }
}
