import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROGRAM_ENTRIES } from "../../render/programFiles";
import { cleanScannerEnv, cleanScannerReady } from "./cleanScanner";

/**
 * End-to-end helpers: run the real `orchestra` process against throwaway copies of the stack files.
 * The repository's own Pulumi.*.yaml are only ever read, never written.
 */

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const CLI = path.join(REPO_ROOT, "bin", "orchestra.js");

/** Extra settings for one run. */
export interface RunOptions {
  /** Variables added to (or, when undefined, removed from) the run's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Written to the process's stdin, which is then closed. */
  readonly input?: string;
}

export interface CliResult {
  /** Exit code; null only if the process was killed (e.g. by the timeout). */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TempProjectOptions {
  /** Symlink the program (index.ts, sources, node_modules) so that `orchestra plan` can render. */
  readonly program?: boolean;
  /** Per stack: the new text of `Pulumi.<stack>.yaml`, or a function of the repository's text. */
  readonly stacks?: Readonly<Record<string, string | ((original: string) => string)>>;
}

const created = new Set<string>();

/** A temporary project folder: Pulumi.yaml and real copies of every Pulumi.<stack>.yaml. */
export class TempProject {
  constructor(readonly dir: string) {}

  stackFile(stack: string): string {
    return path.join(this.dir, `Pulumi.${stack}.yaml`);
  }

  read(stack: string): string {
    return fs.readFileSync(this.stackFile(stack), "utf8");
  }

  write(stack: string, text: string): void {
    fs.writeFileSync(this.stackFile(stack), text);
  }

  /** Runs `orchestra ...args` here without blocking, so independent runs can overlap. */
  runAsync(...args: string[]): Promise<CliResult> {
    return runCliAsync(this.dir, args);
  }

  /** Like runAsync, with extra environment variables or stdin. */
  runWith(options: RunOptions, ...args: string[]): Promise<CliResult> {
    return runCliAsync(this.dir, args, options);
  }

  cleanup(): void {
    removeTempDir(this.dir);
  }
}

export function makeTempProject(options: TempProjectOptions = {}): TempProject {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-cli-"));
  created.add(dir);
  for (const file of fs.readdirSync(REPO_ROOT)) {
    if (/^Pulumi(\.[^.]+)?\.ya?ml$/.test(file))
      fs.copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file));
  }
  const project = new TempProject(dir);
  for (const [stack, text] of Object.entries(options.stacks ?? {})) {
    const original = fs.existsSync(project.stackFile(stack)) ? project.read(stack) : "";
    project.write(stack, typeof text === "function" ? text(original) : text);
  }
  if (options.program) {
    for (const entry of PROGRAM_ENTRIES) {
      const target = path.join(REPO_ROOT, entry);
      fs.symlinkSync(target, path.join(dir, entry), fs.statSync(target).isDirectory() ? "dir" : "file");
    }
  }
  return project;
}

/**
 * Removes a temporary project. Symlinks are unlinked one by one first, so that nothing can ever
 * follow them into the repository.
 */
export function removeTempDir(dir: string): void {
  if (!created.has(dir) || !fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir)) {
    const p = path.join(dir, entry);
    if (fs.lstatSync(p).isSymbolicLink()) fs.unlinkSync(p);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  created.delete(dir);
  if (dir === sharedStateDir) sharedStateDir = undefined;
}

/** Removes every temporary project this process made. */
export function cleanupTempProjects(): void {
  for (const dir of [...created]) removeTempDir(dir);
}

let sharedStateDir: string | undefined;

/** One throwaway state folder (history, token memo) for every run that does not bring its own. */
function defaultStateDir(): string {
  if (!sharedStateDir) {
    sharedStateDir = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-state-"));
    created.add(sharedStateDir);
  }
  return sharedStateDir;
}

/**
 * The test process's own environment while an in-process run (inProcessCli.ts) has replaced
 * process.env with the run's: a process spawned meanwhile starts from this one, not from the run's.
 */
export const outsideEnv: { current?: NodeJS.ProcessEnv } = {};

/** Environment that turns the next-step suggestion back on for a run. */
export const SUGGESTIONS = { ORCHESTRA_NO_SUGGESTIONS: undefined } as const;

/**
 * The environment of a run: no colour, never the user's own history, keyring or GitHub token, plus
 * the run's own variables.
 */
export function cliEnv(extra: RunOptions["env"] = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...(outsideEnv.current ?? process.env),
    NO_COLOR: "1",
    ORCHESTRA_STATE_DIR: defaultStateDir(),
    ORCHESTRA_NO_KEYRING: "1",
    // The next-step hint reads git and every stack file after each command; the tests that check it
    // turn it back on with SUGGESTIONS.
    ORCHESTRA_NO_SUGGESTIONS: "1",
    // The vulnerability gate of `canary start` and `rollout` reads a scanner that finds nothing.
    ...cleanScannerEnv(),
  };
  for (const key of ["FORCE_COLOR", "GITHUB_TOKEN", "GH_TOKEN", "GITHUB_API_URL", "GITHUB_ACTIONS"])
    delete env[key];
  for (const key of Object.keys(env)) if (key.startsWith("TS_NODE_")) delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

// Long enough for a busy machine; a test file running many at once sets its own, longer timeout.
const TIMEOUT_MS = 180_000;

// Each run is CPU-bound (module loading, renders), so more parallel runs than cores only adds contention.
const MAX_PARALLEL = Math.max(2, os.availableParallelism());
let running = 0;
const waiting: (() => void)[] = [];

async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export function runCliAsync(
  cwd: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CliResult> {
  return slot(async () => {
    // The clean scanner is waited for without blocking: a test may hold timers (a lock kept fresh).
    await cleanScannerReady();
    return new Promise<CliResult>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        cwd,
        env: cliEnv(options.env),
        timeout: TIMEOUT_MS,
      });
      child.stdin.end(options.input ?? "");
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      child.on("error", reject);
      child.on("close", (status) =>
        resolve({
          status,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        }),
      );
    });
  });
}

/** A readable summary of a run, for assertion messages. */
export function describeRun(r: CliResult): string {
  return `exit ${r.status}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** Lines that look like a JavaScript stack trace frame. */
export function stackTraceLines(text: string): string[] {
  return text.split("\n").filter((l) => /^\s+at\s/.test(l));
}
