import * as fs from "node:fs";
import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { CONTAINER_ANALYSIS_ENDPOINT_ENV, REGISTRY_ENDPOINT_ENV } from "../../cli/supplyChain/scan";
import { FakeContainerAnalysis, FakeRegistry } from "./fakeScanner";

/**
 * A Container Analysis and a registry in their own process, for the CLI runs of tests about something
 * else: every image by digest is a single-platform image whose scan finished with no findings, so
 * `canary start` and `rollout` pass the vulnerability gate. A process of its own, because most CLI
 * runs block this one (spawnSync) and could not be answered from here. It exits with the process that
 * started it.
 */

let portsFile: string | undefined;
let started: Record<string, string> | undefined;

/** Starts the clean scanner's process once; returns the file its addresses will be written to. */
function spawnOnce(): string {
  if (portsFile) return portsFile;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-scanner-")), "ports.json");
  const child = spawn(
    process.execPath,
    ["--require", require.resolve("@swc-node/register"), __filename, file, String(process.pid)],
    { detached: true, stdio: "ignore" },
  );
  child.unref();
  portsFile = file;
  return file;
}

const read = (file: string) =>
  (started = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>);

/**
 * Waits for the clean scanner without blocking this process: the runs that do not block it (spawned
 * asynchronously, or in this process) wait here, so that timers of their own (a lock kept fresh) run.
 */
export async function cleanScannerReady(): Promise<void> {
  const file = spawnOnce();
  const until = Date.now() + 60_000;
  while (!started && !fs.existsSync(file)) {
    if (Date.now() > until) throw new Error("the clean scanner did not start within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!started) read(file);
}

/** The environment that points the CLI's gate at the clean scanner, started (and waited for) on first use. */
export function cleanScannerEnv(): Record<string, string> {
  if (started) return started;
  const file = spawnOnce();
  const until = Date.now() + 60_000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (!fs.existsSync(file)) {
    if (Date.now() > until) throw new Error("the clean scanner did not start within 60 s");
    Atomics.wait(pause, 0, 0, 50);
  }
  return read(file);
}

async function serveClean(file: string, parent: number): Promise<void> {
  const scanner = new FakeContainerAnalysis();
  scanner.defaultScan = "FINISHED_SUCCESS";
  const registry = new FakeRegistry();
  registry.anyDigest = true;
  const env = {
    [CONTAINER_ANALYSIS_ENDPOINT_ENV]: await scanner.start(),
    [REGISTRY_ENDPOINT_ENV]: await registry.start(),
  };
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(env));
  fs.renameSync(`${file}.tmp`, file);
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      process.exit(0);
    }
  }, 1000);
}

if (require.main === module) void serveClean(process.argv[2], Number(process.argv[3]));
