import * as fs from "node:fs";
import * as path from "node:path";
import { sync as writeFileAtomicSync } from "write-file-atomic";

/** Where a rollout keeps its lock, resume state and reports: beside the stack files, git-ignored. */
export const stateDir = (dir: string) => path.join(dir, ".orchestra-rollout");

/** What --resume needs: the plan and the last step whose analysis passed. */
export interface RolloutState {
  readonly stack: string;
  readonly service: string;
  readonly image: string;
  readonly steps: readonly number[];
  /** Index into steps of the last verified step; -1 before the first. */
  readonly lastVerified: number;
  readonly startedAt: string;
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * One rollout per stack: an exclusive lock file holding the owner's pid. A lock whose process is gone
 * (a crash) is taken over; a live one refuses. Returns the release function.
 */
export function acquireLock(dir: string, stack: string, service: string): () => void {
  const file = path.join(stateDir(dir), `${stack}.lock`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const body = JSON.stringify({ pid: process.pid, service, since: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, body, { flag: "wx" });
      return () => fs.rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let owner: { pid?: number; service?: string; since?: string } = {};
      try {
        owner = JSON.parse(fs.readFileSync(file, "utf8")) as typeof owner;
      } catch {
        // Unreadable: treat as held, below.
      }
      if (typeof owner.pid === "number" && !alive(owner.pid)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      throw new LockHeldError(
        `Another rollout holds stack "${stack}" (pid ${owner.pid ?? "?"}, service ${owner.service ?? "?"}, since ${owner.since ?? "?"}). ` +
          `Wait for it, or remove ${file} if that process is gone.`,
      );
    }
  }
  throw new LockHeldError(`Could not take the rollout lock of stack "${stack}".`);
}
