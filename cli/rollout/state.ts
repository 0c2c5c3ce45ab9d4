import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import lockfile from "proper-lockfile";
import { sync as writeFileAtomicSync } from "write-file-atomic";
import type { BudgetState } from "../../model/judgment/judge";
import type { ApprovedDigests, VulnerabilityOverrideRecord } from "../../model/supplyChain/vulnerabilities";

/** Where a rollout keeps its lock, resume state and reports: beside the stack files, git-ignored. */
export const stateDir = (dir: string) => path.join(dir, ".orchestra-rollout");

/** What --resume needs: the plan, how far it got, and a rollback not yet confirmed applied. */
export interface RolloutState {
  readonly stack: string;
  readonly service: string;
  readonly image: string;
  /** The steps after the guardrail and a running canary's percent were applied (see planSteps). */
  readonly steps: readonly number[];
  /** Index into steps of the last verified step; -1 before the first. */
  readonly lastVerified: number;
  readonly startedAt: string;
  /** The attempt id of a canary this rollout starts, so that a resumed start names the same revision. */
  readonly attempt?: string;
  /** Whether the canary this rollout starts has a baseline (`--with-baseline`), so a resumed start has it too. */
  readonly baseline?: boolean;
  /** What the vulnerability gate approved for the image this rollout starts, recorded beside the canary. */
  readonly approval?: {
    readonly approvedDigests?: ApprovedDigests;
    readonly vulnerabilityOverride?: VulnerabilityOverrideRecord;
  };
  /**
   * A rollback decided and not yet confirmed live: the stack file is written only once it is, so a
   * kill during its apply leaves this for --resume to apply again.
   */
  readonly rollback?: { readonly reason: string; readonly at: string };
  /**
   * The false-rollback budget and how much of it the looks so far spent: a resumed rollout spends
   * only what is left, so stopping and resuming never buys a fresh budget.
   */
  readonly judgment?: BudgetState;
}

const stateFile = (dir: string, stack: string, service: string) =>
  path.join(stateDir(dir), `${stack}.${service}.state.json`);

export function readState(dir: string, stack: string, service: string): RolloutState | undefined {
  try {
    return JSON.parse(fs.readFileSync(stateFile(dir, stack, service), "utf8")) as RolloutState;
  } catch {
    return undefined;
  }
}

/** Written atomically, so a crash leaves the previous state or the new one. */
export function writeState(dir: string, state: RolloutState): void {
  writeAtomic(stateFile(dir, state.stack, state.service), `${JSON.stringify(state, null, 2)}\n`);
}

export function clearState(dir: string, stack: string, service: string): void {
  fs.rmSync(stateFile(dir, stack, service), { force: true });
}

/** Replaces `file` atomically, creating its folder first (the state folder, a report's folder). */
export function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomicSync(file, text);
}

export class LockHeldError extends Error {}

/** A lock not refreshed for this long is stale: its rollout stopped without releasing it. */
export const LOCK_STALE_MS = 20_000;

/** Who holds a stack's lock, kept in the lock folder for the message a second rollout gets. */
interface LockOwner {
  readonly pid?: number;
  readonly host?: string;
  readonly service?: string;
  readonly since?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readOwner(file: string): LockOwner {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as LockOwner;
  } catch {
    return {}; // Not written yet, or unreadable: the message says "?".
  }
}

/**
 * proper-lockfile removes its lock folder with rmdir; the owner file inside it must go with it, on
 * release, on exit and when a stale lock is taken over.
 */
const removeWithOwner = (p: fs.PathLike) => fs.rmSync(p, { recursive: true });
const lockFs = {
  ...fs,
  rmdirSync: removeWithOwner,
  rmdir: (p: fs.PathLike, done: (e: NodeJS.ErrnoException | null) => void) =>
    fs.rm(p, { recursive: true }, done),
};

/**
 * One rollout per stack, by proper-lockfile: a lock folder whose mtime the holder refreshes, with the
 * holder's pid in it. A lock whose holder on this machine is gone (killed) is taken over at once; any
 * other is taken over once it has not been refreshed for LOCK_STALE_MS. Returns the release function.
 */
export function acquireLock(dir: string, stack: string, service: string): () => void {
  const lockDir = path.join(stateDir(dir), `${stack}.lock`);
  // Each lock folder is new and empty: an owner file in it is always the current holder's.
  const ownerFile = path.join(lockDir, "owner.json");
  fs.mkdirSync(stateDir(dir), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const release = lockfile.lockSync(path.join(stateDir(dir), stack), {
        lockfilePath: lockDir,
        realpath: false,
        stale: LOCK_STALE_MS,
        fs: lockFs,
        // Refreshing failed for longer than the stale time: a second rollout may take the stack.
        onCompromised: (e) =>
          process.stderr.write(
            `warning: the rollout lock of stack "${stack}" was lost (${e.message}); another rollout may start on it.\n`,
          ),
      });
      const owner: LockOwner = {
        pid: process.pid,
        host: os.hostname(),
        service,
        since: new Date().toISOString(),
      };
      // Adding the file changes the folder's mtime, which proper-lockfile compares with the one it set
      // before each refresh: put it back, or the lock counts as taken over at its first refresh.
      const { atime, mtime } = fs.statSync(lockDir);
      fs.writeFileSync(ownerFile, `${JSON.stringify(owner)}\n`);
      fs.utimesSync(lockDir, atime, mtime);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ELOCKED") throw e;
      const owner = readOwner(ownerFile);
      const gone = owner.host === os.hostname() && typeof owner.pid === "number" && !alive(owner.pid);
      if (gone && attempt === 0) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      throw new LockHeldError(
        `Another rollout holds stack "${stack}" (pid ${owner.pid ?? "?"}, service ${owner.service ?? "?"}, since ${owner.since ?? "?"}). ` +
          `Wait for it, or remove ${lockDir} if that process is gone.`,
      );
    }
  }
}
