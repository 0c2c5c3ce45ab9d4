import { artifactRepository } from "../../model/imageRef";
import {
  decideGate,
  describeFinding,
  type ApprovedDigests,
  type GateVerdict,
  type VulnerabilityOverrideRecord,
} from "../../model/supplyChain/vulnerabilities";
import type { StackConfig } from "../../model/types";
import { CliError } from "../output";
import { formatDuration } from "../rollout/steps";
import { systemClock, type Clock } from "../rollout/ports";
import { resourceUrl, ScanReadError, type ResolvedImage, type ScanRead } from "./scan";

/**
 * The vulnerability gate as the CLI runs it: resolve the reference to the digest Cloud Run runs, read
 * that image's scan from Container Analysis, and wait (with progress) while the findings are not ready.
 * The decision itself is model/supplyChain/vulnerabilities.ts's.
 */

/** Where the gate reads from: the registry, Container Analysis and time; the CLI's are real, tests' fakes. */
export interface GateSources {
  readonly resolve: (ref: string) => Promise<ResolvedImage>;
  /** A reader of the occurrences in `project`. */
  readonly scans: (project: string) => { read(url: string): Promise<ScanRead>; close?(): Promise<void> };
  readonly clock: Clock;
  /** Between two reads while the findings are not ready. Default 15 s. */
  readonly pollMs?: number;
}

export const DEFAULT_GATE_POLL_MS = 15_000;

/** The real sources: the registry's v2 API and Container Analysis, or the emulators the env names. */
export function gateSources(env: Readonly<Record<string, string | undefined>> = process.env): GateSources {
  return {
    // Loaded on use: commands that never gate never load the Google clients.
    /* eslint-disable @typescript-eslint/no-require-imports */
    resolve: (ref) => (require("./registry") as typeof import("./registry")).resolveImage(ref, env),
    scans: (project) =>
      new (require("./containerAnalysis") as typeof import("./containerAnalysis")).ContainerAnalysisReader(
        project,
        env,
      ),
    /* eslint-enable @typescript-eslint/no-require-imports */
    clock: systemClock,
  };
}

/** The gate's end: the decision, or `not-ready` when the findings did not come in time. */
export type GateOutcome = "pass" | "warn" | "refuse" | "not-ready";

export interface GateResult {
  readonly image: string;
  readonly outcome: GateOutcome;
  readonly reason: string;
  readonly verdict: GateVerdict;
  readonly digests: ApprovedDigests;
  /** The image URL whose scan decided it. */
  readonly resourceUrl: string;
  readonly severity: string;
  readonly action: string;
  readonly waitedMs: number;
}

/**
 * Runs the gate for `image` on the stack's settings. Artifact Analysis scans only the first
 * linux/amd64 image of a multi-platform index, so its URL is read first; the index's own URL is read
 * too while the former has no scan, in case the findings were filed under it.
 */
export async function runGate(
  config: StackConfig,
  image: string,
  sources: GateSources,
  options: { readonly override?: string; readonly progress?: (line: string) => void } = {},
): Promise<GateResult> {
  const gate = config.vulnerabilityGate;
  const progress = options.progress ?? (() => undefined);
  progress(`Resolving ${image} in its registry...`);
  const resolved = await sources.resolve(image);
  const { index, linuxAmd64 } = resolved.digests;
  const project = artifactRepository(`${resolved.repository}/`)?.project ?? config.project;
  const urls = [
    resourceUrl(resolved.repository, linuxAmd64),
    ...(index ? [resourceUrl(resolved.repository, index)] : []),
  ];
  const reader = sources.scans(project);
  const start = sources.clock.now();
  const pollMs = sources.pollMs ?? DEFAULT_GATE_POLL_MS;
  const override = options.override ? { reason: options.override } : undefined;
  try {
    for (;;) {
      let read = await reader.read(urls[0]);
      if (read.scan.kind === "pending" && urls[1]) {
        const other = await reader.read(urls[1]);
        if (other.scan.kind !== "pending") read = other;
      }
      const verdict = decideGate(read.scan, read.findings, gate, override);
      const waited = sources.clock.now() - start;
      const base = {
        image,
        verdict,
        digests: resolved.digests,
        resourceUrl: read.resourceUrl,
        severity: gate.severity,
        action: gate.action,
        waitedMs: waited,
      };
      if (verdict.outcome !== "wait") return { ...base, outcome: verdict.outcome, reason: verdict.reason };
      if (waited >= gate.waitMs)
        return {
          ...base,
          outcome: "not-ready",
          reason: `findings not ready after ${formatDuration(gate.waitMs)} (scan: ${read.scan.kind === "pending" ? read.scan.status : read.scan.kind}); retry later`,
        };
      const left = gate.waitMs - waited;
      progress(
        `Vulnerability findings for ${read.resourceUrl} are not ready (${read.scan.kind === "pending" ? read.scan.status : ""}); ` +
          `reading again in ${formatDuration(Math.min(pollMs, left))}, ${formatDuration(Math.ceil(left / 1000) * 1000)} left.`,
      );
      await sources.clock.sleep(Math.min(pollMs, left));
    }
  } catch (e) {
    if (e instanceof ScanReadError) throw new CliError(`${e.message}. Fix: ${e.fix}.`);
    throw e;
  } finally {
    await reader.close?.();
  }
}

/** The findings as lines under a heading, for a refusal or a warning. */
export function findingLines(result: GateResult): string[] {
  return result.verdict.blocking.map((f) => `  ${describeFinding(f)}`);
}

/**
 * What a caller about to edit the stack does with the gate's result: a refusal (or findings not
 * ready) is a CliError naming the findings and the way out, and nothing is changed; a warning is
 * printed and the edit goes on. Returns what the canary records: the approved digests of an index,
 * and the override when one let blocking findings through.
 */
export function acceptGate(
  result: GateResult,
  what: string,
  warn: (line: string) => void,
  now: () => number = Date.now,
): { approvedDigests?: ApprovedDigests; vulnerabilityOverride?: VulnerabilityOverrideRecord } {
  if (result.outcome === "refuse" || result.outcome === "not-ready")
    throw new CliError(
      [
        `The vulnerability gate refused ${result.image}: ${result.reason}, so ${what}.`,
        ...findingLines(result),
        result.outcome === "not-ready"
          ? "Next: run the command again once Artifact Analysis has scanned the image (it scans on push)."
          : result.verdict.blocking.length > 0
            ? "Fix: rebuild the image with the fixed versions, or give `--allow-vulnerable REASON` to release it anyway (the reason is recorded beside the canary)."
            : "Fix: push an image Artifact Analysis can scan, or give `--allow-vulnerable REASON` to release it anyway (the reason is recorded beside the canary).",
      ].join("\n"),
    );
  if (result.outcome === "warn") {
    warn(`${result.image}: ${result.reason} (the gate warns on this stack; going on):`);
    for (const l of findingLines(result)) warn(l);
  }
  const o = result.verdict.overridden;
  return {
    ...(result.digests.index ? { approvedDigests: result.digests } : {}),
    ...(o
      ? {
          vulnerabilityOverride: {
            reason: o.reason,
            findings: [...o.findings],
            approvedAt: new Date(now()).toISOString(),
          },
        }
      : {}),
  };
}
