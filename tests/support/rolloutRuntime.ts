import { EventEmitter } from "node:events";
import * as path from "node:path";
import type { RolloutFlags } from "../../cli/commands/rollout";
import { smokeCheck, type UpRequest } from "../../cli/rollout/ports";
import type { PreflightProblem } from "../../cli/rollout/preflight";
import type { OutputStream, RolloutRuntime } from "../../cli/rollout/run";
import { StandInCloudRun } from "./rolloutCloud";
import { cleanScanSources } from "./fakeScanner";
import type { GateSources } from "../../cli/supplyChain/gate";
import { FakeClock, FakePulumi, HttpIntervalSource } from "./rolloutHarness";
import { standInOutputs, type StandInUrls } from "./rolloutOutputs";

/** An output stream that keeps what was written. */
export class Capture implements OutputStream {
  text = "";
  constructor(readonly isTTY: boolean) {}
  write(text: string): boolean {
    this.text += text;
    return true;
  }
}

export interface StandInOptions {
  readonly dir: string;
  readonly cwd: string;
  readonly urls: StandInUrls;
  /** The stand-in Cloud Run's state file (see StandInCloudRun.seed). */
  readonly cloudFile: string;
  readonly metricsUrl: string;
  readonly tty?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly onUp?: (n: number, request: UpRequest) => void | Promise<void>;
  readonly problems?: readonly PreflightProblem[];
  /** Where the vulnerability gate reads; default: every image clean. */
  readonly gate?: GateSources;
}

/** Where a test project's stand-in Cloud Run keeps its state: beside the project, not in it. */
export const cloudFileOf = (dir: string) => path.join(path.dirname(dir), `${path.basename(dir)}.cloud.json`);

/**
 * A rollout runtime of stand-ins: Pulumi in-process applying to a stand-in Cloud Run, metrics and smoke
 * over local HTTP, virtual time.
 */
export function standInRuntime(o: StandInOptions) {
  const cloud = new StandInCloudRun(o.cloudFile);
  const pulumi = new FakePulumi({
    outputs: (text) => standInOutputs(text, "api", o.urls),
    onUp: o.onUp,
    cloud,
    problems: o.problems,
  });
  const stdout = new Capture(o.tty ?? false);
  const stderr = new Capture(false);
  const signals = new EventEmitter();
  const exits: number[] = [];
  const runtime: RolloutRuntime = {
    dir: o.dir,
    cwd: o.cwd,
    pulumi: async () => pulumi,
    intervals: async () => new HttpIntervalSource(o.metricsUrl),
    live: async () => cloud,
    gate: o.gate ?? cleanScanSources(),
    clock: new FakeClock(),
    smoke: (url, headers) => smokeCheck(url, headers, 2, 2000),
    stdout,
    stderr,
    env: o.env ?? {},
    signals,
    exit: (code) => exits.push(code),
  };
  return { runtime, pulumi, cloud, stdout, stderr, signals, exits };
}

/** The command-line flags with their defaults, as commander parses them. */
export function rolloutFlags(extra: Partial<RolloutFlags> = {}): RolloutFlags {
  return {
    stack: "staging",
    steps: [5, 25, 50, 100],
    interval: 600_000,
    maxIntervals: 3,
    metricsLag: 120_000,
    minRequests: 100,
    readyTimeout: 300_000,
    maxFailedReads: 3,
    budget: 0.01,
    passRisk: 0.05,
    baseline: true,
    llm: true,
    variance: "request",
    expectedRequests: 1000,
    report: "rollout-report",
    ...extra,
  };
}
