import { stripVTControlCharacters } from "node:util";
import { cliEnv, outsideEnv, type CliResult, type RunOptions } from "./cliHarness";
import { cleanScannerReady } from "./cleanScanner";

/**
 * `orchestra ...args` run by the CLI's `main` inside the test process, with what a spawned run
 * (cliHarness) has: its environment, the project as working folder, stdout and stderr that are not
 * a terminal, and the exit code `main` returns. A spawned run spends most of a second of CPU loading
 * the CLI through @swc-node/register before the command starts; here the modules load once per test process.
 *
 * What only a process has stays with spawned runs: stdin (`input` is refused here) and the exit code
 * leaving bin/orchestra.js.
 *
 * The environment, the working folder and process.stdout/stderr belong to the whole process: runs
 * here take turns. A spawned run started meanwhile (cliHarness) starts from the test process's own
 * environment, not this run's.
 */

type Write = typeof process.stdout.write;

let queue: Promise<unknown> = Promise.resolve();

export function runInProcess(
  cwd: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CliResult> {
  if (options.input !== undefined) throw new Error("a run that reads stdin needs its own process");
  const run = queue.catch(() => undefined).then(() => runNow(cwd, args, options));
  queue = run;
  return run;
}

async function runNow(cwd: string, args: readonly string[], options: RunOptions): Promise<CliResult> {
  await cleanScannerReady();
  const env = cliEnv(options.env);
  const savedEnv = { ...process.env };
  const savedCwd = process.cwd();
  const savedExitCode = process.exitCode;
  const out: string[] = [];
  const err: string[] = [];
  const restore = [replaceStream(process.stdout, out), replaceStream(process.stderr, err)];
  outsideEnv.current = savedEnv;
  setEnv(env);
  process.chdir(cwd);
  process.exitCode = undefined;
  let status: number;
  try {
    // Loaded on first use, under the run's environment: cli/output reads NO_COLOR as it loads.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { main } = require("../../cli/main") as typeof import("../../cli/main");
    status = await main([...args]);
  } catch (e) {
    // What bin/orchestra.js prints for an error main did not handle.
    err.push(`orchestra: unexpected error: ${e instanceof Error && e.stack ? e.stack : String(e)}\n`);
    status = 1;
  } finally {
    process.exitCode = savedExitCode;
    process.chdir(savedCwd);
    setEnv(savedEnv);
    outsideEnv.current = undefined;
    for (const r of restore) r();
  }
  // cli/output decides on colour once, when it loads, from this process's stdout, which may be a
  // terminal; a spawned run has NO_COLOR and a pipe, so it prints the same text without the escapes.
  return {
    status,
    stdout: stripVTControlCharacters(out.join("")),
    stderr: stripVTControlCharacters(err.join("")),
  };
}

function setEnv(env: NodeJS.ProcessEnv): void {
  for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
  for (const [key, value] of Object.entries(env)) if (value !== undefined) process.env[key] = value;
}

/** Collects what is written to `stream`, which reads as no terminal, until the returned undo runs. */
function replaceStream(stream: NodeJS.WriteStream, chunks: string[]): () => void {
  const own = (key: string) => Object.getOwnPropertyDescriptor(stream, key);
  const saved = { write: own("write"), isTTY: own("isTTY") };
  stream.write = ((chunk: string | Uint8Array, encoding?: unknown, done?: unknown) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    const callback = typeof encoding === "function" ? encoding : done;
    if (typeof callback === "function") process.nextTick(callback as () => void);
    return true;
  }) as Write;
  Object.defineProperty(stream, "isTTY", { value: false, configurable: true, writable: true });
  return () => {
    for (const [key, descriptor] of Object.entries(saved)) {
      if (descriptor) Object.defineProperty(stream, key, descriptor);
      else delete (stream as unknown as Record<string, unknown>)[key];
    }
  };
}
