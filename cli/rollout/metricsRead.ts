import { callError } from "../live/cloudRunAdmin";
import type { RevisionMetrics } from "./analysis";
import type { Clock, MetricsSource } from "./ports";
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

export type MetricsRead =
  | { readonly ok: true; readonly metrics: RevisionMetrics }
  | { readonly ok: false; readonly reason: string; readonly attempts: number };

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

/** Reads one revision's metrics, retrying transient errors with backoff on the rollout's clock. */
export async function readMetrics(
  source: MetricsSource,
  query: Parameters<MetricsSource["revisionMetrics"]>[0],
  clock: Clock,
  retry: MetricsRetry = DEFAULT_METRICS_RETRY,
  signal?: AbortSignal,
): Promise<MetricsRead> {
  try {
    return {
      ok: true,
      metrics: await retryTransient(() => source.revisionMetrics(query), clock, retry, signal),
    };
  } catch (e) {
    if (!(e instanceof MetricsReadError)) throw e;
    return { ok: false, reason: e.message, attempts: e.attempts };
  }
}
