import { createHash } from "node:crypto";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { GateSources } from "../../cli/supplyChain/gate";
import { parseImageRef } from "../../model/imageRef";
import { serve } from "./localServer";
import { ListServiceFake } from "./grpcFake";

/**
 * Local stand-ins for what the vulnerability gate reads: Container Analysis's Grafeas v1 service over
 * gRPC on 127.0.0.1, loaded from the client's own `grafeas.proto`, and a registry's v2 manifests
 * endpoint over HTTP.
 *
 * The Grafeas fake answers ListOccurrences from the occurrences it holds, selected by the filter's
 * `kind="..."` and `resourceUrl="..."` terms (a filter without both selects nothing, so a wrong
 * filter reads nothing), in pages of `pageSize`. `fail(...)` answers the next calls with a gRPC error;
 * `script` changes the occurrences before each call (a scan that finishes while the gate waits).
 */

const GRAFEAS_PROTOS = path.join(
  path.dirname(require.resolve("@google-cloud/grafeas/package.json")),
  "build",
  "protos",
);

type Json = Record<string, unknown>;

export interface ListRequest {
  readonly parent: string;
  readonly filter: string;
  readonly pageSize: number;
  readonly pageToken: string;
}

/** A DISCOVERY occurrence with `status` for the image at `url`. */
export const discovery = (url: string, status: string, error?: string): Json => ({
  name: `projects/p/occurrences/discovery-${status}`,
  resourceUri: url,
  noteName: "projects/goog-analysis/notes/PACKAGE_VULNERABILITY",
  kind: "DISCOVERY",
  discovery: {
    analysisStatus: status,
    ...(error ? { analysisStatusError: { code: 3, message: error } } : {}),
  },
});

/** A VULNERABILITY occurrence of `id` in `pkg` for the image at `url`. */
export const vulnerability = (
  url: string,
  id: string,
  o: { severity: string; fixable: boolean; pkg?: string; installed?: string; fixed?: string },
): Json => ({
  name: `projects/p/occurrences/${id}-${o.pkg ?? "openssl"}`,
  resourceUri: url,
  noteName: `projects/goog-vulnz/notes/${id}`,
  kind: "VULNERABILITY",
  vulnerability: {
    severity: o.severity,
    effectiveSeverity: o.severity,
    fixAvailable: o.fixable,
    packageIssue: [
      {
        affectedPackage: o.pkg ?? "openssl",
        affectedVersion: { name: o.installed ?? "3.0.1", kind: "NORMAL" },
        fixedVersion: o.fixed ? { name: o.fixed, kind: "NORMAL" } : { kind: "MAXIMUM" },
        fixAvailable: o.fixable,
      },
    ],
  },
});

export class FakeContainerAnalysis extends ListServiceFake {
  readonly requests: ListRequest[] = [];
  occurrences: Json[] = [];
  /** The DISCOVERY status of an image it holds no occurrence for; default none (not scanned yet). */
  defaultScan?: string;
  /** Called before each answer with the number of calls so far (1 for the first). */
  script?: (call: number) => void;

  /** Starts on a free port; returns the address for ORCHESTRA_CONTAINER_ANALYSIS_ENDPOINT. */
  start(): Promise<string> {
    return this.listen("grafeas/v1/grafeas.proto", [GRAFEAS_PROTOS], "grafeas.v1.Grafeas", {
      ListOccurrences: (call: grpc.ServerUnaryCall<ListRequest, Json>, callback: grpc.sendUnaryData<Json>) =>
        this.list(call.request, callback),
    });
  }

  private list(request: ListRequest, callback: grpc.sendUnaryData<Json>): void {
    this.requests.push(request);
    this.script?.(this.requests.length);
    const failure = this.nextFailure();
    if (failure) return callback({ code: failure.code, details: failure.details });
    const terms = new Map<string, string>();
    for (const m of request.filter.matchAll(/(\w+)\s*=\s*("(?:[^"\\]|\\.)*")/g))
      terms.set(m[1], JSON.parse(m[2]) as string);
    const url = terms.get("resourceUrl");
    let all =
      terms.has("kind") && url !== undefined
        ? this.occurrences.filter((o) => o.kind === terms.get("kind") && o.resourceUri === url)
        : [];
    if (
      all.length === 0 &&
      this.defaultScan &&
      terms.get("kind") === "DISCOVERY" &&
      url !== undefined &&
      !this.occurrences.some((o) => o.resourceUri === url)
    )
      all = [discovery(url, this.defaultScan)];
    const { items, nextPageToken } = this.page(all, request.pageToken);
    callback(null, { occurrences: items, nextPageToken });
  }
}

const sha256 = (body: string) => `sha256:${createHash("sha256").update(body).digest("hex")}`;

/** A registry's manifest (or index) by its content, which is what its digest is taken of. */
export interface StoredManifest {
  readonly mediaType: string;
  readonly body: string;
  readonly digest: string;
}

export function manifest(seed: string): StoredManifest {
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256(seed), size: 1 },
    layers: [],
  });
  return { mediaType: "application/vnd.oci.image.manifest.v1+json", body, digest: sha256(body) };
}

export function imageIndex(
  entries: { manifest: StoredManifest; os: string; architecture: string }[],
): StoredManifest {
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: entries.map((e) => ({
      mediaType: e.manifest.mediaType,
      digest: e.manifest.digest,
      size: e.manifest.body.length,
      platform: { os: e.os, architecture: e.architecture },
    })),
  });
  return { mediaType: "application/vnd.oci.image.index.v1+json", body, digest: sha256(body) };
}

/**
 * A registry answering `GET /v2/<name>/manifests/<digest or tag>` from what it holds. A request that
 * does not accept the stored media type gets 404, as a registry that cannot convert answers.
 */
export class FakeRegistry {
  readonly requests: { path: string; accept: string }[] = [];
  private readonly byRef = new Map<string, StoredManifest>();
  /** Answer any digest it does not hold as a single-platform image of that digest. */
  anyDigest = false;
  /** Answer every request with this status instead (a 403 from a registry that refuses the caller). */
  refuseWith?: number;
  private server?: { url: string; close: () => Promise<void> };

  /** Holds `m` under `name`, by its digest and under `tag`. */
  put(name: string, m: StoredManifest, tag?: string): void {
    this.byRef.set(`${name}@${m.digest}`, m);
    if (tag) this.byRef.set(`${name}:${tag}`, m);
  }

  async start(): Promise<string> {
    this.server = await serve((req, res) => {
      const accept = String(req.headers.accept ?? "");
      this.requests.push({ path: req.url ?? "", accept });
      if (this.refuseWith) {
        res.writeHead(this.refuseWith, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ code: "DENIED" }] }));
        return;
      }
      const m = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(req.url ?? "");
      const key = m ? `${m[1]}${m[2].startsWith("sha256:") ? "@" : ":"}${m[2]}` : "";
      const stored =
        this.byRef.get(key) ??
        (this.anyDigest && m?.[2].startsWith("sha256:") ? { ...manifest(m[2]), digest: m[2] } : undefined);
      if (!stored || !accept.includes(stored.mediaType)) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN" }] }));
        return;
      }
      res.writeHead(200, { "content-type": stored.mediaType, "docker-content-digest": stored.digest });
      res.end(stored.body);
    });
    return this.server.url;
  }

  stop(): Promise<void> {
    return this.server?.close() ?? Promise.resolve();
  }
}

/**
 * Gate sources for tests about something else: every image resolves to itself (a single-platform
 * image, or with `amd64` an index whose linux/amd64 image is that digest) and its scan finished with
 * no findings, so the gate passes.
 */
export function cleanScanSources(o: { readonly amd64?: string } = {}): GateSources {
  return {
    resolve: async (ref) => {
      const parsed = parseImageRef(ref);
      if (!parsed?.digest) throw new Error(`the stand-in registry resolves digests only, not ${ref}`);
      const digests = o.amd64 ? { index: parsed.digest, linuxAmd64: o.amd64 } : { linuxAmd64: parsed.digest };
      return { repository: parsed.repository, digests };
    },
    scans: () => ({ read: async (url) => ({ resourceUrl: url, scan: { kind: "finished" }, findings: [] }) }),
    clock: { now: () => 0, sleep: async () => undefined },
  };
}
