import { callError } from "../live/cloudRunAdmin";
import type { RevisionMetrics } from "./analysis";
import type { Clock, MetricsSource } from "./ports";
import { oneLine } from "./pulumiErrors";

/**
 * Cloud Monitoring's client retries only UNAVAILABLE by itself; these are worth another try too. Any
 * other status (permission, bad filter) fails the look at once.
 */
const TRANSIENT_STATUS = new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "TIMEOUT"]);
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
export function metricsError(e: unknown): { transient: boolean; reason: string } {
  const c = callError(e);
  const transient =
    (c.status !== undefined && TRANSIENT_STATUS.has(c.status)) ||
    (c.network !== undefined && TRANSIENT_NETWORK.has(c.network));
  const what = c.status ?? c.network;
  return { transient, reason: oneLine(`${what ? `${what}: ` : ""}${c.message}`) };
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

/** Reads one revision's metrics, retrying transient errors with backoff on the rollout's clock. */
export async function readMetrics(
  source: MetricsSource,
  query: Parameters<MetricsSource["revisionMetrics"]>[0],
  clock: Clock,
  retry: MetricsRetry = DEFAULT_METRICS_RETRY,
  signal?: AbortSignal,
): Promise<MetricsRead> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, metrics: await source.revisionMetrics(query) };
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
