import { RevisionsClient, ServicesClient, protos } from "@google-cloud/run";
import type {
  LiveCondition,
  LiveConditionState,
  LiveReadFailure,
  LiveRegionRead,
  LiveRegionState,
  LiveRevision,
  LiveServiceRead,
  LiveTrafficStatus,
  LiveTrafficTarget,
} from "../../model/live";

import { callError, withTimeout, type CallError } from "./callError";

import v2 = protos.google.cloud.run.v2;

/** The Admin API clients' constructor options (google-gax `ClientOptions`). */
export type CloudRunClientOptions = NonNullable<ConstructorParameters<typeof ServicesClient>[0]>;

/** How hard to try each region. Every call in a region shares `deadlineMs`. */
export interface LiveReadRetry {
  /** Attempts per call, the first included. Default 4. */
  readonly attempts: number;
  /** One attempt's limit. Default 10 s, the client's own for GetService. */
  readonly attemptTimeoutMs: number;
  /** The whole region's limit, retries and backoff included. Default 30 s. */
  readonly deadlineMs: number;
  /** First backoff, doubled each retry up to `maxBackoffMs`, with jitter. Default 500 ms. */
  readonly initialBackoffMs: number;
  /** Default 4 s. */
  readonly maxBackoffMs: number;
}

export const DEFAULT_LIVE_READ_RETRY: LiveReadRetry = {
  attempts: 4,
  attemptTimeoutMs: 10_000,
  deadlineMs: 30_000,
  initialBackoffMs: 500,
  maxBackoffMs: 4_000,
};

export interface ReadServiceStateArgs {
  readonly project: string;
  readonly service: string;
  readonly regions: readonly string[];
  /** Merged over `{ fallback: true }`: endpoint, port, protocol, credentials (`authClient`)... */
  readonly clientOptions?: CloudRunClientOptions;
  readonly retry?: Partial<LiveReadRetry>;
}

/**
 * Reads one service's live state in each region from the Cloud Run Admin API v2, all regions at once.
 * Never rejects: a region that cannot be read comes back as `{ ok: false, failure }` with the reason and
 * the fix, and does not hide the others. A service missing in a region is `{ exists: false }`.
 */
export async function readServiceState(args: ReadServiceStateArgs): Promise<LiveServiceRead> {
  const retry = { ...DEFAULT_LIVE_READ_RETRY, ...args.retry };
  // REST rather than gRPC: lighter to load for a CLI, and the transport the tests exercise.
  const options: CloudRunClientOptions = { fallback: true, ...args.clientOptions };
  const services = new ServicesClient(options);
  const revisions = new RevisionsClient(options);
  try {
    const regions = await Promise.all(
      args.regions.map((region) => readRegion({ ...args, region, retry, services, revisions })),
    );
    return { project: args.project, service: args.service, regions };
  } finally {
    await Promise.allSettled([services.close(), revisions.close()]);
  }
}

interface RegionRead {
  readonly project: string;
  readonly service: string;
  readonly region: string;
  readonly retry: LiveReadRetry;
  readonly services: ServicesClient;
  readonly revisions: RevisionsClient;
}

async function readRegion(r: RegionRead): Promise<LiveRegionRead> {
  const name = `projects/${r.project}/locations/${r.region}/services/${r.service}`;
  const absent: LiveRegionState = { region: r.region, service: r.service, exists: false };
  const budget = new Budget(r.retry);
  // The client's own retries are off: over REST its errors carry HTTP statuses where its retry settings
  // expect gRPC codes, so it never retries (googleapis/gax-nodejs#1803), and its timeouts are not
  // applied. This loop owns retries and time.
  const call = { retry: null };
  const service = await attempt(budget, () => r.services.getService({ name }, call).then(([s]) => s));
  if (!service.ok) {
    if (service.error.status === "NOT_FOUND") return { region: r.region, ok: true, state: absent };
    return { region: r.region, ok: false, failure: failure(service, "run.services.get", r, name) };
  }
  const listed = await attempt(budget, () =>
    // Every page: a service keeps up to 1,000 revisions. No pageSize: with auto-paging on, the client
    // warns on stderr about one.
    r.revisions.listRevisions({ parent: name }, call).then(([list]) => list),
  );
  if (!listed.ok) {
    // Deleted between the two reads.
    if (listed.error.status === "NOT_FOUND") return { region: r.region, ok: true, state: absent };
    return { region: r.region, ok: false, failure: failure(listed, "run.revisions.list", r, name) };
  }
  return { region: r.region, ok: true, state: toState(r.region, r.service, service.value, listed.value) };
}

// --- From the API's messages to the model ------------------------------------------------------------

/** Full resource names (`projects/.../revisions/svc-abc`) and short names alike, as the short name. */
const shortName = (name: string | null | undefined): string | undefined =>
  name ? name.slice(name.lastIndexOf("/") + 1) || undefined : undefined;

const nonEmpty = (s: string | null | undefined): string | undefined => (s ? s : undefined);

/** An enum field as its name, whether the transport decoded it as a number or a string. */
function enumName(value: unknown, values: object): string | undefined {
  const name = typeof value === "number" ? (values as Record<number, string>)[value] : value;
  return typeof name === "string" ? name : undefined;
}

const CONDITION_STATES: Record<string, LiveConditionState> = {
  CONDITION_SUCCEEDED: "succeeded",
  CONDITION_FAILED: "failed",
  CONDITION_RECONCILING: "reconciling",
  CONDITION_PENDING: "pending",
};

function toCondition(c: v2.ICondition): LiveCondition {
  const state = CONDITION_STATES[enumName(c.state, v2.Condition.State) ?? ""] ?? "unspecified";
  // One of three reason fields is set, by oneof; the *_UNDEFINED values mean none.
  const reason = [
    enumName(c.reason, v2.Condition.CommonReason),
    enumName(c.revisionReason, v2.Condition.RevisionReason),
    enumName(c.executionReason, v2.Condition.ExecutionReason),
  ].find((x) => x && !x.endsWith("_UNDEFINED"));
  const message = nonEmpty(c.message);
  return { state, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

function toTarget(t: v2.ITrafficTarget | v2.ITrafficTargetStatus): LiveTrafficTarget {
  const latest = enumName(t.type, v2.TrafficTargetAllocationType) === "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST";
  const revision = shortName(t.revision);
  const tag = nonEmpty(t.tag);
  return {
    allocation: latest ? "latest" : "revision",
    ...(revision ? { revision } : {}),
    percent: t.percent ?? 0,
    ...(tag ? { tag } : {}),
  };
}

function toStatus(t: v2.ITrafficTargetStatus): LiveTrafficStatus {
  const uri = nonEmpty(t.uri);
  return { ...toTarget(t), ...(uri ? { uri } : {}) };
}

/** Readiness from the `Ready` condition; while it is pending or reconciling, not settled. */
function toRevision(r: v2.IRevision): LiveRevision {
  const conditions = (r.conditions ?? []).map((c) => ({ type: c.type ?? "", ...toCondition(c) }));
  const ready = conditions.find((c) => c.type === "Ready");
  const failed = ready?.state === "failed";
  const settled = ready?.state === "succeeded" || failed;
  // A failed Ready condition may carry only a summary; the failed condition beside it (ContainerHealthy,
  // ResourcesAvailable) has the cause.
  const cause = failed && !ready.message ? conditions.find((c) => c.state === "failed" && c.message) : ready;
  const reason = settled && !failed ? undefined : (cause?.reason ?? ready?.reason);
  const message = settled && !failed ? undefined : cause?.message;
  const createTime = timestamp(r.createTime);
  const image = r.containers?.[0]?.image || undefined;
  return {
    name: shortName(r.name) ?? "",
    ready: settled ? !failed : undefined,
    failed,
    reconciling: r.reconciling === true,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
    ...(createTime ? { createTime } : {}),
    ...(image ? { image } : {}),
  };
}

function timestamp(t: protos.google.protobuf.ITimestamp | null | undefined): string | undefined {
  if (!t || t.seconds == null) return undefined;
  const ms = Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

function toState(
  region: string,
  service: string,
  s: v2.IService,
  revisions: readonly v2.IRevision[],
): LiveRegionState {
  const latestReadyRevision = shortName(s.latestReadyRevision);
  const latestCreatedRevision = shortName(s.latestCreatedRevision);
  const uri = nonEmpty(s.uri);
  return {
    region,
    service,
    exists: true,
    reconciling: s.reconciling === true,
    // int64 fields arrive as strings.
    generation: Number(s.generation ?? 0),
    observedGeneration: Number(s.observedGeneration ?? 0),
    ...(latestReadyRevision ? { latestReadyRevision } : {}),
    ...(latestCreatedRevision ? { latestCreatedRevision } : {}),
    ...(s.terminalCondition ? { terminalCondition: toCondition(s.terminalCondition) } : {}),
    ...(uri ? { uri } : {}),
    traffic: (s.traffic ?? []).map(toTarget),
    trafficStatuses: (s.trafficStatuses ?? []).map(toStatus),
    revisions: revisions.map(toRevision),
  };
}

// --- Retries and errors ---------------------------------------------------------------------------------

type Attempted<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: CallError; readonly attempts: number; readonly elapsedMs: number };

class Budget {
  private readonly start = Date.now();
  constructor(readonly policy: LiveReadRetry) {}
  elapsed(): number {
    return Date.now() - this.start;
  }
  remaining(): number {
    return this.policy.deadlineMs - this.elapsed();
  }
}

const TRANSIENT = new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED", "TIMEOUT"]);
const NETWORK_TRANSIENT = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EPIPE",
  "UND_ERR_SOCKET",
]);

const isTransient = (e: CallError): boolean =>
  (e.status !== undefined && TRANSIENT.has(e.status)) ||
  (e.network !== undefined && NETWORK_TRANSIENT.has(e.network));

async function attempt<T>(budget: Budget, call: () => Promise<T>): Promise<Attempted<T>> {
  const { policy } = budget;
  let attempts = 0;
  for (;;) {
    const limit = Math.min(policy.attemptTimeoutMs, budget.remaining());
    if (limit <= 0) {
      // An earlier call of this region used the whole deadline.
      const error = { status: "TIMEOUT", message: `no answer within the region's ${policy.deadlineMs} ms` };
      return { ok: false, error, attempts, elapsedMs: budget.elapsed() };
    }
    attempts++;
    let error: CallError;
    try {
      return { ok: true, value: await withTimeout(call(), limit) };
    } catch (e) {
      error = callError(e);
    }
    const backoff = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempts - 1));
    const delay = backoff / 2 + Math.random() * (backoff / 2);
    if (!isTransient(error) || attempts >= policy.attempts || delay >= budget.remaining()) {
      return { ok: false, error, attempts, elapsedMs: budget.elapsed() };
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

function failure(
  a: Extract<Attempted<unknown>, { ok: false }>,
  permission: string,
  r: { project: string; region: string },
  resource: string,
): LiveReadFailure {
  const { error, attempts } = a;
  const base = { attempts, ...(error.status && error.status !== "TIMEOUT" ? { status: error.status } : {}) };
  const said = error.message;
  const tries = `${attempts} attempt${attempts === 1 ? "" : "s"} in ${(a.elapsedMs / 1000).toFixed(1)} s`;
  if (error.errorReason === "SERVICE_DISABLED" || /has not been used in project/i.test(said)) {
    return {
      ...base,
      kind: "api-disabled",
      reason: `the Cloud Run Admin API is not enabled in project ${r.project}: ${said}`,
      fix: `enable it: gcloud services enable run.googleapis.com --project ${r.project}`,
    };
  }
  switch (error.status) {
    case "PERMISSION_DENIED": {
      const needed = error.errorMetadata?.permission ?? permission;
      return {
        ...base,
        kind: "permission-denied",
        reason: `permission ${needed} denied on ${resource}: ${said}`,
        fix:
          `the caller needs ${needed} (roles/run.viewer) in project ${r.project}; ` +
          `Cloud Run also answers this way when the project does not exist`,
      };
    }
    case "UNAUTHENTICATED":
      return {
        ...base,
        kind: "unauthenticated",
        reason: `no valid Google credentials: ${said}`,
        fix: "log in with `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS",
      };
    case "RESOURCE_EXHAUSTED":
      return {
        ...base,
        kind: "quota",
        reason: `the Cloud Run Admin API's read quota is exhausted: ${said}`,
        fix: `wait a minute and retry; the quota is per project (${r.project}) and region`,
      };
    case "INVALID_ARGUMENT":
      return {
        ...base,
        kind: "invalid-request",
        reason: `Cloud Run refused the request for ${resource}: ${said}`,
        fix: `check the project id (${r.project}) and the region name (${r.region})`,
      };
  }
  if (isTransient(error)) {
    const timedOut = error.status === "TIMEOUT" || error.status === "DEADLINE_EXCEEDED";
    return {
      ...base,
      kind: timedOut ? "timeout" : "unavailable",
      reason: `the Cloud Run Admin API did not answer for ${r.region} (${tries}; last: ${error.status ?? error.network}: ${said})`,
      fix: "retry in a few minutes; https://status.cloud.google.com shows Cloud Run incidents by region",
    };
  }
  return {
    ...base,
    kind: "unknown",
    reason: `reading ${resource} failed${error.status ? ` with ${error.status}` : ""}: ${said}`,
    fix: "retry; if it persists, check the project, the region and your network",
  };
}
