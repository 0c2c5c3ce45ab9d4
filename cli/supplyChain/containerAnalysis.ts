import * as path from "node:path";
import { ContainerAnalysisClient, protos } from "@google-cloud/containeranalysis";
import { loopbackUrl } from "../live/endpoint";
import {
  SEVERITIES,
  type Finding,
  type ScanStatus,
  type Severity,
} from "../../model/supplyChain/vulnerabilities";
import { CONTAINER_ANALYSIS_ENDPOINT_ENV, ScanReadError, type ScanRead } from "./scan";

type Occurrence = protos.grafeas.v1.IOccurrence;
type GrafeasClient = ReturnType<ContainerAnalysisClient["getGrafeasClient"]>;
type ClientOptions = NonNullable<ConstructorParameters<typeof ContainerAnalysisClient>[0]>;

/** The role that reads an image's occurrences. */
export const OCCURRENCES_VIEWER_ROLE = "roles/containeranalysis.occurrences.viewer";

/**
 * Client options from the environment: Google's endpoint with Application Default Credentials, or
 * an emulator at `ORCHESTRA_CONTAINER_ANALYSIS_ENDPOINT` (loopback only, plain gRPC, no credentials
 * looked for). The insecure credentials come from the grpc-js of the client's own google-gax, which
 * is not the one this project uses elsewhere.
 */
export function containerAnalysisClientOptions(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ClientOptions | undefined {
  const url = loopbackUrl(CONTAINER_ANALYSIS_ENDPOINT_ENV, env);
  if (!url) return undefined;
  // The client's own google-gax and google-auth-library (older majors than this project's): their
  // credentials are the ones its gRPC channel and its auth accept.
  const clientDir = path.dirname(require.resolve("@google-cloud/containeranalysis"));
  const own = (name: string) => require.resolve(name, { paths: [clientDir] });
  /* eslint-disable @typescript-eslint/no-require-imports */
  const gax = require(own("google-gax")) as typeof import("google-gax");
  const auth = require(own("google-auth-library")) as typeof import("google-auth-library");
  /* eslint-enable @typescript-eslint/no-require-imports */
  return {
    apiEndpoint: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: Number(url.port),
    sslCreds: gax.grpc.credentials.createInsecure(),
    // No credentials to look for (not even on a metadata server): the emulator takes none.
    authClient: new auth.PassThroughClient(),
    // The options type lists only the JSON credential clients; gax takes any AuthClient.
  } as unknown as ClientOptions;
}

/** A gRPC status, by name: the client gives the number in `code`. */
const STATUS_NAMES: Record<number, string> = {
  3: "INVALID_ARGUMENT",
  5: "NOT_FOUND",
  7: "PERMISSION_DENIED",
  16: "UNAUTHENTICATED",
};

/** The severity the gate reads: the distro's (effective) one when set, else the note's. */
function severityOf(v: protos.grafeas.v1.IVulnerabilityOccurrence): Severity | undefined {
  for (const s of [v.effectiveSeverity, v.severity])
    if (typeof s === "string" && (SEVERITIES as readonly string[]).includes(s)) return s as Severity;
  return undefined;
}

const versionText = (v: protos.grafeas.v1.IVersion | null | undefined): string | undefined => {
  if (!v || v.kind === "MAXIMUM" || !v.name) return undefined;
  return v.fullName || [v.epoch ? `${v.epoch}:` : "", v.name, v.revision ? `-${v.revision}` : ""].join("");
};

/** One finding per vulnerability occurrence, from its first package issue (the one it was found in). */
export function findingOf(o: Occurrence): Finding | undefined {
  const v = o.vulnerability;
  if (!v) return undefined;
  const issue = v.packageIssue?.[0];
  const fixedVersion = versionText(issue?.fixedVersion);
  const installedVersion = versionText(issue?.affectedVersion);
  const severity = severityOf(v);
  return {
    // Note names end in the vulnerability's id: projects/goog-vulnz/notes/CVE-2024-3094.
    id: (o.noteName ?? "").split("/").pop() || o.name || "unknown",
    ...(severity ? { severity } : {}),
    fixable: Boolean(v.fixAvailable || v.packageIssue?.some((p) => p.fixAvailable)),
    package: issue?.affectedPackage || "unknown package",
    ...(installedVersion ? { installedVersion } : {}),
    ...(fixedVersion ? { fixedVersion } : {}),
  };
}

/** The scan's state from the image's DISCOVERY occurrences (none yet: pending). */
export function scanStatusOf(discoveries: readonly Occurrence[]): ScanStatus {
  const d = discoveries.find((o) => o.discovery)?.discovery;
  if (!d) return { kind: "pending", status: "no discovery occurrence yet" };
  const status = String(d.analysisStatus ?? "ANALYSIS_STATUS_UNSPECIFIED");
  if (status === "FINISHED_SUCCESS" || status === "COMPLETE") return { kind: "finished" };
  if (status === "FINISHED_FAILED" || status === "FINISHED_UNSUPPORTED") {
    const detail = d.analysisStatusError?.message || undefined;
    return { kind: "failed", status, ...(detail ? { detail } : {}) };
  }
  return { kind: "pending", status };
}

/**
 * Reads an image's scan from Container Analysis with the official client's Grafeas client: two
 * ListOccurrences calls (paged) filtered on the image's URL, one for its DISCOVERY occurrence (the
 * scan's status), one for its VULNERABILITY occurrences.
 */
export class ContainerAnalysisReader {
  private readonly client: GrafeasClient;

  constructor(
    /** The project holding the image's occurrences: the Artifact Registry repository's. */
    private readonly project: string,
    env: Readonly<Record<string, string | undefined>> = process.env,
    client?: GrafeasClient,
  ) {
    this.client =
      client ?? new ContainerAnalysisClient(containerAnalysisClientOptions(env)).getGrafeasClient();
  }

  async read(url: string): Promise<ScanRead> {
    const [discoveries, vulnerabilities] = await Promise.all([
      this.list(`kind="DISCOVERY" AND resourceUrl=${JSON.stringify(url)}`),
      this.list(`kind="VULNERABILITY" AND resourceUrl=${JSON.stringify(url)}`),
    ]);
    return {
      resourceUrl: url,
      scan: scanStatusOf(discoveries),
      findings: vulnerabilities.map(findingOf).filter((f): f is Finding => f !== undefined),
    };
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private async list(filter: string): Promise<Occurrence[]> {
    const all: Occurrence[] = [];
    try {
      for await (const o of this.client.listOccurrencesAsync(
        { parent: `projects/${this.project}`, filter },
        // The async iterator pages by itself; gax warns unless told not to auto-paginate.
        { autoPaginate: false },
      ))
        all.push(o);
    } catch (e) {
      const err = e as { code?: number; details?: string; message?: string };
      const status = STATUS_NAMES[err.code ?? -1] ?? `code ${err.code ?? "?"}`;
      throw new ScanReadError(
        `Container Analysis refused to list the image's occurrences in project ${this.project}: ${status}: ${err.details || err.message || "no detail"}`,
        readFix(this.project, status),
      );
    }
    return all;
  }
}

function readFix(project: string, status: string): string {
  switch (status) {
    case "PERMISSION_DENIED":
      return (
        `grant the identity this runs as ${OCCURRENCES_VIEWER_ROLE} on project ${project}, and check that ` +
        "the Container Scanning API is enabled there"
      );
    case "UNAUTHENTICATED":
      return "sign in with `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS";
    default:
      return "retry; if it persists, check the Container Analysis API's status";
  }
}
