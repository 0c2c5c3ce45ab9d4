import { EventEmitter } from "node:events";
import type { RolloutFlags } from "../../cli/commands/rollout";
import { smokeCheck, type UpRequest } from "../../cli/rollout/ports";
import type { OutputStream, RolloutRuntime } from "../../cli/rollout/run";
import { FakeClock, FakePulumi, HttpMetricsSource } from "./rolloutHarness";
import { standInOutputs, type StandInCloud } from "./rolloutOutputs";

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
  readonly cloud: StandInCloud;
  readonly metricsUrl: string;
  readonly tty?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly onUp?: (n: number, request: UpRequest) => void | Promise<void>;
}

/** A rollout runtime of stand-ins: Pulumi in-process, metrics and smoke over local HTTP, virtual time. */
export function standInRuntime(o: StandInOptions) {
  const pulumi = new FakePulumi((text) => standInOutputs(text, "api", o.cloud), o.onUp);
  const stdout = new Capture(o.tty ?? false);
  const stderr = new Capture(false);
  const signals = new EventEmitter();
  const exits: number[] = [];
  const runtime: RolloutRuntime = {
    dir: o.dir,
    cwd: o.cwd,
    pulumi: async () => pulumi,
    metrics: async () => new HttpMetricsSource(o.metricsUrl),
    clock: new FakeClock(),
    smoke: (url, headers) => smokeCheck(url, headers, 2, 2000),
    stdout,
    stderr,
    env: o.env ?? {},
    signals,
    exit: (code) => exits.push(code),
  };
  return { runtime, pulumi, stdout, stderr, signals, exits };
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
    report: "rollout-report",
    ...extra,
  };
}
