import type * as http from "node:http";
import * as protobuf from "protobufjs";
import { PassThroughClient } from "google-auth-library";
import type { CloudRunClientOptions } from "../../cli/live/cloudRunAdmin";
import { serve } from "./localServer";

/**
 * A local stand-in for the Cloud Run Admin API v2, for the REST paths the official client calls in
 * fallback mode:
 *
 *   GET /v2/projects/P/locations/L/services/S            (Services.GetService)
 *   GET /v2/projects/P/locations/L/services/S/revisions  (Revisions.ListRevisions, paged)
 *
 * Bodies are proto3 JSON, checked against the client's own protos as they are sent; enums come as
 * numbers when the client asks for `$alt=json;enum-encoding=int`, as Google's servers do. Errors have
 * the shape of Google's REST errors. Each region's service changes the way Cloud Run's does:
 *
 * - `deploy(..., "ready")`: the new revision serves the asked split; spec and status agree.
 * - `deploy(..., "fails")`: the new revision never becomes ready. The spec keeps what was asked
 *   (`traffic`, `generation`); `latestCreatedRevision` is the failed revision; `latestReadyRevision`,
 *   `trafficStatuses` and `observedGeneration` keep the last serving state; `terminalCondition` is failed
 *   with "Revision 'X' is not ready and cannot serve traffic." (the `reconciling` comment in service.proto).
 * - `deploy(..., "pending")`: Cloud Run is still reconciling; the status is the old one.
 * - A `deploy` naming an existing revision creates none: it is the latest again, ready or failed as it was.
 * - No service in a region: 404 NOT_FOUND. `fail(...)`: 403, 503 or no answer, for some requests.
 */

// eslint-disable-next-line @typescript-eslint/no-require-imports
const runProtos = require("@google-cloud/run/build/protos/protos.json");

let protoRoot: protobuf.Root | undefined;
export function runType(name: string): protobuf.Type {
  protoRoot ??= protobuf.Root.fromJSON(runProtos);
  return protoRoot.lookupType(`google.cloud.run.v2.${name}`);
}

type Json = Record<string, unknown>;

export type DeployOutcome = "ready" | "fails" | "pending";

export interface FakeTraffic {
  readonly revision: string;
  readonly percent: number;
  readonly tag?: string;
}

interface FakeRevision {
  readonly name: string;
  readonly createTime: string;
  outcome: DeployOutcome;
  /** The image it runs; a fixed one of its own when the test does not care. */
  readonly image?: string;
}

interface FakeService {
  generation: number;
  observedGeneration: number;
  reconciling: boolean;
  latestReadyRevision?: string;
  latestCreatedRevision?: string;
  traffic: FakeTraffic[];
  trafficStatuses: FakeTraffic[];
  failedRevision?: string;
  readonly revisions: FakeRevision[];
}

/** An injected failure: an HTTP status with Google's error body, or no answer at all. */
export type Fault =
  | { readonly kind: "denied"; readonly permission?: string }
  | { readonly kind: "unavailable" }
  | { readonly kind: "api-disabled" }
  | { readonly kind: "hang" };

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly region?: string;
  readonly call?: "getService" | "listRevisions";
  readonly headers: http.IncomingHttpHeaders;
}

const PROJECT_NUMBER = "123456789012";
const FAILED_CONTAINER =
  "The user-provided container failed to start and listen on the port defined provided by the PORT=8080 " +
  "environment variable within the allocated timeout.";

export class FakeCloudRunAdmin {
  readonly requests: RecordedRequest[] = [];
  /** Every response body sent, with the message type it claims to be, for a strict check. */
  readonly sentBodies: { readonly type: string; readonly body: unknown }[] = [];
  private readonly services = new Map<string, FakeService>();
  private readonly faults: {
    region: string;
    call: "getService" | "listRevisions" | "any";
    fault: Fault;
    times: number;
  }[] = [];
  private readonly hanging = new Set<http.ServerResponse>();
  private readonly gates = new Map<string, Promise<void>>();
  private clock = Date.parse("2026-11-01T10:00:00Z");
  /** Revisions per page at most, whatever the client asks, so that paging is exercised. */
  maxPageSize = 100;

  private constructor(
    readonly url: string,
    private readonly stop: () => Promise<void>,
  ) {}

  static async start(): Promise<FakeCloudRunAdmin> {
    // The server needs the fake to answer, and the fake needs the server's URL.
    const box: { fake?: FakeCloudRunAdmin } = {};
    const server = await serve((req, res) => void box.fake?.handle(req, res));
    box.fake = new FakeCloudRunAdmin(server.url, server.close);
    return box.fake;
  }

  /** Options for the real client: REST to this server, no Google credentials. */
  clientOptions(): CloudRunClientOptions {
    const { hostname, port } = new URL(this.url);
    return {
      fallback: true,
      apiEndpoint: hostname,
      port: Number(port),
      protocol: "http",
      // google-auth-library's client for emulators: no credentials, no token requests.
      authClient: new PassThroughClient(),
    };
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    await this.stop();
  }

  /** A first deploy or an update of `service` in `region`, ending the way `outcome` says. */
  deploy(
    project: string,
    region: string,
    service: string,
    update: { revision: string; traffic: FakeTraffic[]; outcome: DeployOutcome; image?: string },
  ): this {
    const key = `${project}/${region}/${service}`;
    const s: FakeService = this.services.get(key) ?? {
      generation: 0,
      observedGeneration: 0,
      reconciling: false,
      traffic: [],
      trafficStatuses: [],
      revisions: [],
    };
    this.services.set(key, s);
    // A template naming an existing revision with its own spec creates nothing (a revert, as in Knative's
    // BYO revision names): that revision is the latest again, and a failed one stays failed.
    const existing = s.revisions.find((r) => r.name === update.revision);
    if (existing && existing.outcome !== update.outcome) {
      throw new Error(
        `fake Cloud Run: revision ${update.revision} exists and is "${existing.outcome}"; the same name and spec ` +
          `is never re-created, so an update naming it cannot end "${update.outcome}".`,
      );
    }
    if (!existing) {
      this.clock += 60_000;
      s.revisions.unshift({
        name: update.revision,
        createTime: new Date(this.clock).toISOString(),
        outcome: update.outcome,
        ...(update.image ? { image: update.image } : {}),
      });
    }
    s.generation++;
    s.traffic = update.traffic;
    s.latestCreatedRevision = update.revision;
    s.reconciling = update.outcome === "pending";
    s.failedRevision = update.outcome === "fails" ? update.revision : undefined;
    if (update.outcome === "ready") {
      s.latestReadyRevision = update.revision;
      s.trafficStatuses = update.traffic;
      s.observedGeneration = s.generation;
    }
    return this;
  }

  /**
   * Cloud Run finishes reconciling the last update of `service` in `region`: its pending revision
   * becomes ready (the status catches up with the spec) or fails (the status keeps the last serving state).
   */
  settle(project: string, region: string, service: string, outcome: "ready" | "fails"): this {
    const s = this.services.get(`${project}/${region}/${service}`);
    const latest = s?.revisions.find((r) => r.name === s.latestCreatedRevision);
    if (!s || !latest || latest.outcome !== "pending")
      throw new Error(`fake Cloud Run: ${service} in ${region} has no pending update to settle.`);
    latest.outcome = outcome;
    s.reconciling = false;
    s.failedRevision = outcome === "fails" ? latest.name : undefined;
    if (outcome === "ready") {
      s.latestReadyRevision = latest.name;
      s.trafficStatuses = s.traffic;
      s.observedGeneration = s.generation;
    }
    return this;
  }

  /** The next `times` matching requests for `region` get `fault` instead of an answer. */
  fail(
    region: string,
    fault: Fault,
    opts: { call?: "getService" | "listRevisions"; times?: number } = {},
  ): this {
    this.faults.push({ region, call: opts.call ?? "any", fault, times: opts.times ?? Infinity });
    return this;
  }

  /** Requests for `region` wait for `until` before they are answered. */
  hold(region: string, until: Promise<void>): this {
    this.gates.set(region, until);
    return this;
  }

  /** Resolves once a request for `region` has arrived. */
  seen(region: string): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (this.requests.some((r) => r.region === region) ? resolve() : setTimeout(check, 5));
      check();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const m = /^\/v2\/projects\/([^/]+)\/locations\/([^/]+)\/services\/([^/]+)(\/revisions)?$/.exec(
      url.pathname,
    );
    const call = m ? (m[4] ? "listRevisions" : "getService") : undefined;
    this.requests.push({
      method: req.method ?? "",
      path: url.pathname,
      query: url.search,
      ...(m ? { region: m[2] } : {}),
      ...(call ? { call } : {}),
      headers: req.headers,
    });
    if (!m || !call || req.method !== "GET") {
      return this.error(
        res,
        404,
        "NOT_FOUND",
        `The requested URL ${url.pathname} was not found on this server.`,
      );
    }
    const [, project, region, service] = m;
    await this.gates.get(region);
    const numericEnums = (url.searchParams.get("$alt") ?? "").includes("enum-encoding=int");
    const fault = this.faults.find(
      (f) => f.region === region && (f.call === "any" || f.call === call) && f.times > 0,
    );
    if (fault) {
      fault.times--;
      return this.fault(res, fault.fault, project, region, service, call);
    }
    const s = this.services.get(`${project}/${region}/${service}`);
    if (!s) {
      return this.error(
        res,
        404,
        "NOT_FOUND",
        `Resource '${service}' of kind 'SERVICE' in region '${region}' in project '${project}' does not exist.`,
      );
    }
    const name = `projects/${project}/locations/${region}/services/${service}`;
    if (call === "getService") {
      return this.send(res, "Service", serviceJson(name, region, service, s), numericEnums);
    }
    const pageSize = Math.min(
      Number(url.searchParams.get("pageSize") ?? 0) || this.maxPageSize,
      this.maxPageSize,
    );
    const offset = Number(url.searchParams.get("pageToken") || 0);
    const page = s.revisions.slice(offset, offset + pageSize);
    const next = offset + pageSize < s.revisions.length ? String(offset + pageSize) : undefined;
    const body: Json = { revisions: page.map((r) => revisionJson(name, service, s, r)) };
    if (next) body.nextPageToken = next;
    return this.send(res, "ListRevisionsResponse", body, numericEnums);
  }

  private fault(
    res: http.ServerResponse,
    fault: Fault,
    project: string,
    region: string,
    service: string,
    call: "getService" | "listRevisions",
  ): void {
    const resource = `projects/${project}/locations/${region}/services/${service}`;
    switch (fault.kind) {
      case "hang":
        this.hanging.add(res);
        return;
      case "unavailable":
        return this.error(res, 503, "UNAVAILABLE", "The service is currently unavailable.");
      case "api-disabled":
        return this.error(
          res,
          403,
          "PERMISSION_DENIED",
          `Cloud Run Admin API has not been used in project ${PROJECT_NUMBER} before or it is disabled.`,
          [errorInfo("SERVICE_DISABLED", "googleapis.com", { service: "run.googleapis.com" })],
        );
      case "denied": {
        const permission =
          fault.permission ?? (call === "getService" ? "run.services.get" : "run.revisions.list");
        return this.error(
          res,
          403,
          "PERMISSION_DENIED",
          `Permission '${permission}' denied on resource '${resource}' (or resource may not exist).`,
          [errorInfo("IAM_PERMISSION_DENIED", "iam.googleapis.com", { permission, resource })],
        );
      }
    }
  }

  private error(
    res: http.ServerResponse,
    code: number,
    status: string,
    message: string,
    details?: Json[],
  ): void {
    const body = { error: { code, message, status, ...(details ? { details } : {}) } };
    res.writeHead(code, { "content-type": "application/json; charset=UTF-8" });
    res.end(JSON.stringify(body));
  }

  private send(res: http.ServerResponse, type: string, body: Json, numericEnums: boolean): void {
    this.sentBodies.push({ type, body });
    const wire = numericEnums ? numericEnumsOf(runType(type), body) : body;
    res.writeHead(200, { "content-type": "application/json; charset=UTF-8" });
    res.end(JSON.stringify(wire));
  }
}

const errorInfo = (reason: string, domain: string, metadata: Record<string, string>): Json => ({
  "@type": "type.googleapis.com/google.rpc.ErrorInfo",
  reason,
  domain,
  metadata,
});

const uriOf = (service: string, region: string, tag?: string): string =>
  `https://${tag ? `${tag}---` : ""}${service}-${PROJECT_NUMBER}.${region}.run.app`;

const target = (t: FakeTraffic): Json => ({
  type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION",
  revision: t.revision,
  percent: t.percent,
  ...(t.tag ? { tag: t.tag } : {}),
});

function serviceJson(name: string, region: string, service: string, s: FakeService): Json {
  const terminalCondition: Json = s.reconciling
    ? { type: "Ready", state: "CONDITION_RECONCILING", message: "Deploying revision." }
    : s.failedRevision
      ? {
          type: "Ready",
          state: "CONDITION_FAILED",
          message: `Revision '${s.failedRevision}' is not ready and cannot serve traffic. ${FAILED_CONTAINER}`,
          lastTransitionTime: new Date().toISOString(),
        }
      : { type: "Ready", state: "CONDITION_SUCCEEDED", lastTransitionTime: new Date().toISOString() };
  const routes = s.failedRevision
    ? "CONDITION_FAILED"
    : s.reconciling
      ? "CONDITION_RECONCILING"
      : "CONDITION_SUCCEEDED";
  return {
    name,
    uid: "0b5e8d3c-4b0e-4a55-8a39-6f1e2f0a1c11",
    generation: String(s.generation),
    createTime: "2026-11-01T10:00:00Z",
    launchStage: "GA",
    ingress: "INGRESS_TRAFFIC_ALL",
    traffic: s.traffic.map(target),
    observedGeneration: String(s.observedGeneration),
    terminalCondition,
    conditions: [
      { type: "RoutesReady", state: routes },
      {
        type: "ConfigurationsReady",
        state: routes,
        ...(s.failedRevision ? { reason: "REVISION_FAILED", message: FAILED_CONTAINER } : {}),
      },
    ],
    ...(s.latestReadyRevision ? { latestReadyRevision: `${name}/revisions/${s.latestReadyRevision}` } : {}),
    ...(s.latestCreatedRevision
      ? { latestCreatedRevision: `${name}/revisions/${s.latestCreatedRevision}` }
      : {}),
    trafficStatuses: s.trafficStatuses.map((t) => ({
      ...target(t),
      ...(t.tag ? { uri: uriOf(service, region, t.tag) } : {}),
    })),
    uri: uriOf(service, region),
    urls: [uriOf(service, region)],
    reconciling: s.reconciling,
    etag: `"${s.generation}"`,
  };
}

function revisionJson(serviceName: string, _service: string, s: FakeService, r: FakeRevision): Json {
  const pending = r.outcome === "pending";
  const failed = r.outcome === "fails";
  const ready = failed
    ? {
        type: "Ready",
        state: "CONDITION_FAILED",
        revisionReason: "HEALTH_CHECK_CONTAINER_ERROR",
        message: FAILED_CONTAINER,
      }
    : pending
      ? {
          type: "Ready",
          state: "CONDITION_RECONCILING",
          revisionReason: "PENDING",
          message: "Deploying revision.",
        }
      : { type: "Ready", state: "CONDITION_SUCCEEDED" };
  const serving = s.trafficStatuses.some((t) => t.revision === r.name && t.percent > 0);
  return {
    name: `${serviceName}/revisions/${r.name}`,
    uid: `uid-${r.name}`,
    generation: "1",
    createTime: r.createTime,
    launchStage: "GA",
    service: serviceName,
    // Without an image of its own, a container with no image reported: the live check has nothing to compare.
    containers: [r.image ? { image: r.image } : {}],
    reconciling: pending,
    conditions: [
      ready,
      {
        type: "ContainerHealthy",
        state: failed ? "CONDITION_FAILED" : pending ? "CONDITION_PENDING" : "CONDITION_SUCCEEDED",
        ...(failed ? { revisionReason: "HEALTH_CHECK_CONTAINER_ERROR", message: FAILED_CONTAINER } : {}),
      },
      ...(failed || pending
        ? []
        : [
            {
              type: "Active",
              state: "CONDITION_SUCCEEDED",
              ...(serving ? {} : { revisionReason: "RESERVE" }),
            },
          ]),
    ],
    observedGeneration: pending ? "0" : "1",
    etag: `"${r.name}"`,
  };
}

/** The same JSON with every enum value as its number, walking the message type. */
function numericEnumsOf(type: protobuf.Type, value: Json): Json {
  type.root.resolveAll();
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key] ?? type.fieldsArray.find((f) => f.name === key);
    if (!field) throw new Error(`fake Cloud Run: ${type.fullName} has no field ${key}`);
    const convert = (x: unknown): unknown => {
      const rt = field.resolvedType;
      if (rt instanceof protobuf.Enum) {
        const n = rt.values[x as string];
        if (n === undefined) throw new Error(`fake Cloud Run: ${String(x)} is not a ${rt.fullName}`);
        return n;
      }
      if (rt instanceof protobuf.Type && !rt.fullName.startsWith(".google.protobuf.")) {
        return numericEnumsOf(rt, x as Json);
      }
      return x;
    };
    out[key] = field.map ? v : Array.isArray(v) ? v.map(convert) : convert(v);
  }
  return out;
}
