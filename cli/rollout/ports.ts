import type { ServiceLlm } from "../../model/llm";
import type { LiveServiceRead } from "../../model/live";
import type { Interval } from "../../model/judgment/input";
import type { PreflightReport } from "./preflight";

/** What one `pulumi up` applies: the stack file in `workDir` (a mirror of the project, see workDir.ts). */
export interface UpRequest {
  readonly stack: string;
  readonly workDir: string;
  readonly onOutput: (line: string) => void;
}
// No abort signal: a Ctrl-C on a terminal already reaches `pulumi` (same process group), which cancels
// gracefully; forwarding it would be a second SIGINT, which makes pulumi stop at once, mid-operation.

/** What preflight checks: the project folder (holding Pulumi.yaml) and the stack. */
export interface PreflightRequest {
  readonly stack: string;
  readonly dir: string;
  /** The stack's state bucket (`cicd.stateBucket`), named in the login fix. */
  readonly stateBucket?: string;
}

/**
 * Runs `pulumi up` on an edited stack file; returns the stack outputs. A failure is thrown as an Error
 * whose message is one line, the CLI's own words (see pulumiErrors.ts).
 */
export interface PulumiDriver {
  /** Whether `up` can run at all (CLI, login, stack, secrets provider); changes nothing. */
  preflight(request: PreflightRequest): Promise<PreflightReport>;
  up(request: UpRequest): Promise<Record<string, unknown>>;
}

/** Reads what Cloud Run serves now, per region, from its Admin API. Never rejects: see model/live.ts. */
export interface LiveCloudRun {
  read(service: string, regions: readonly string[]): Promise<LiveServiceRead>;
}

/** Time, injectable so tests run minutes of baking in milliseconds. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/** GETs `url` a few times; every answer must be 2xx within the timeout. Returns a failure, or undefined. */
export async function smokeCheck(
  url: string,
  headers: Readonly<Record<string, string>> = {},
  attempts = 3,
  timeoutMs = 10_000,
): Promise<string | undefined> {
  for (let i = 1; i <= attempts; i++) {
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
      await res.arrayBuffer();
      if (res.status < 200 || res.status > 299)
        return `GET ${url} answered ${res.status} (attempt ${i} of ${attempts}).`;
    } catch (e) {
      return `GET ${url} failed: ${(e as Error).message} (attempt ${i} of ${attempts}).`;
    }
  }
  return undefined;
}

/** What one look of the judgment reads: the canary, stable and (when deployed) baseline revisions. */
export interface IntervalQuery {
  readonly service: string;
  /** Every region the service runs in; each is read and judged on its own. */
  readonly regions: readonly string[];
  readonly revisions: { readonly canary: string; readonly stable?: string; readonly baseline?: string };
  readonly start: Date;
  readonly end: Date;
  /** The service logs its model calls: they are read too, per region and revision. */
  readonly llm?: ServiceLlm;
}

export interface IntervalRead {
  /** Always the per-region form (`{ regions: { REGION: sides } }`). */
  readonly interval: Interval;
  /** The window actually read, aligned to whole minutes. */
  readonly window: { readonly start: Date; readonly end: Date };
  /** Why the data may be incomplete (the response's execution_errors, say); empty when complete. */
  readonly incomplete: readonly string[];
}

/** Reads one look's data per region; rejects only once its own retries of transient errors are spent. */
export interface IntervalSource {
  read(query: IntervalQuery): Promise<IntervalRead>;
}
