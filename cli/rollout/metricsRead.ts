import { callError } from "../live/callError";
import type { Clock, IntervalQuery, IntervalRead, IntervalSource } from "./ports";
import { oneLine } from "./pulumiErrors";

/**
 * Cloud Monitoring's client retries only UNAVAILABLE by itself; these are worth another try too. Any
 * other status (permission, bad filter) fails the look at once.
 */
const TRANSIENT_STATUS = new Set([
  "UNAVAILABLE",
  "DEADLINE_EXCEEDED",
  "RESOURCE_EXHAUSTED",
  "INTERNAL",
  "TIMEOUT",
]);
const TRANSIENT_NETWORK = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EPIPE",
  "ENOTFOUND",
  "UND_ERR_SOCKET",
]);

/** Whether a failed metrics read may succeed if tried again, and what it said. */
export function metricsError(e: unknown): { transient: boolean; reason: string; status?: string } {
  const c = callError(e);
  const transient =
    (c.status !== undefined && TRANSIENT_STATUS.has(c.status)) ||
    (c.network !== undefined && TRANSIENT_NETWORK.has(c.network));
  const what = c.status ?? c.network;
  return {
    transient,
    reason: oneLine(`${what ? `${what}: ` : ""}${c.message}`),
    ...(c.status ? { status: c.status } : {}),
  };
}

export interface MetricsRetry {
  /** Attempts per read, the first included. */
  readonly attempts: number;
  /** First backoff, doubled each retry. */
  readonly initialBackoffMs: number;
}

export const DEFAULT_METRICS_RETRY: MetricsRetry = { attempts: 4, initialBackoffMs: 2_000 };

export type IntervalReadResult =
  | { readonly ok: true; readonly read: IntervalRead }
  | { readonly ok: false; readonly reason: string; readonly attempts: number };

/**
 * Reads one look's data, retrying transient errors with backoff on the rollout's clock. A read the
 * source calls incomplete is a failed look: judging on part of the data could pass a canary on what
 * was not seen.
 */
export async function readInterval(
  source: IntervalSource,
  query: IntervalQuery,
  clock: Clock,
  retry: MetricsRetry = DEFAULT_METRICS_RETRY,
  signal?: AbortSignal,
): Promise<IntervalReadResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      const read = await source.read(query);
      if (read.incomplete.length > 0)
        return {
          ok: false,
          reason: `the data may be incomplete: ${oneLine(read.incomplete.join("; "))}`,
          attempts: attempt,
        };
      return { ok: true, read };
    } catch (e) {
      const { transient, reason } = metricsError(e);
      if (!transient || attempt >= retry.attempts || signal?.aborted)
        return {
          ok: false,
          reason: `${reason} (${attempt} attempt${attempt === 1 ? "" : "s"})`,
          attempts: attempt,
        };
      await clock.sleep(retry.initialBackoffMs * 2 ** (attempt - 1), signal);
    }
  }
}

/** A metrics read that failed for good: its last error, how to fix it when known, and the attempts made. */
export class MetricsReadError extends Error {
  constructor(
    message: string,
    readonly status: string | undefined,
    readonly attempts: number,
  ) {
    super(message);
    this.name = "MetricsReadError";
  }
}

/**
 * Calls `call`, retrying transient errors with doubling backoff on the rollout's clock; anything else,
 * or the last attempt's error, rejects as a MetricsReadError whose message ends with what `fix` says for
 * its status.
 */
export async function retryTransient<T>(
  call: () => Promise<T>,
  clock: Clock,
  retry: MetricsRetry = DEFAULT_METRICS_RETRY,
  signal?: AbortSignal,
  fix: (status: string | undefined) => string | undefined = () => undefined,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const { transient, reason, status } = metricsError(e);
      if (!transient || attempt >= retry.attempts || signal?.aborted) {
        const hint = fix(status);
        throw new MetricsReadError(
          `${reason}${hint ? ` ${hint}` : ""} (${attempt} attempt${attempt === 1 ? "" : "s"})`,
          status,
          attempt,
        );
      }
      await clock.sleep(retry.initialBackoffMs * 2 ** (attempt - 1), signal);
    }
  }
}
