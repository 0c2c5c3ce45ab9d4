// Apart from the Cloud Run client (cloudRunAdmin.ts), so that its other readers, the metrics reads, and
// every command the CLI registers do not load the Google clients.

/** What a failed call said, whichever transport it came through. */
export interface CallError {
  /** Canonical status name (`PERMISSION_DENIED`), or `TIMEOUT` for an attempt this module cut short. */
  readonly status?: string;
  readonly message: string;
  /** From a `google.rpc.ErrorInfo` detail: `IAM_PERMISSION_DENIED`, `SERVICE_DISABLED`... */
  readonly errorReason?: string;
  readonly errorMetadata?: Readonly<Record<string, string>>;
  /** A socket error code (`ECONNRESET`...) when the request never got an answer. */
  readonly network?: string;
}

/** An attempt cut short by `withTimeout`. */
export class AttemptTimeout extends Error {}

/**
 * The REST transport ignores the client's `timeout`, and its calls cannot be cancelled from outside: a
 * timed-out request is abandoned, not aborted.
 */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AttemptTimeout(`no answer within ${ms} ms`)), Math.max(0, ms));
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const GRPC_STATUS = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

/** Google's mapping of HTTP statuses to canonical codes (google/rpc/code.proto). */
const HTTP_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

interface RestErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    details?: { "@type"?: string; reason?: string; metadata?: Record<string, string> }[];
  };
}

/**
 * Normalises the three shapes a failed call takes: a GoogleError with a gRPC code (gRPC transport), a
 * GaxiosError with the HTTP status and Google's JSON error body as its message (REST transport: the
 * auth client's fetch throws before the client decodes the body), and a socket error.
 */
export function callError(e: unknown): CallError {
  if (e instanceof AttemptTimeout) return { status: "TIMEOUT", message: e.message };
  const err = (e ?? {}) as {
    message?: unknown;
    code?: unknown;
    status?: unknown;
    response?: { status?: unknown };
    reason?: unknown;
    errorInfoMetadata?: unknown;
    cause?: { code?: unknown };
  };
  const text = typeof err.message === "string" ? err.message : String(e);
  const httpStatus =
    typeof err.status === "number"
      ? err.status
      : typeof err.response?.status === "number"
        ? err.response.status
        : undefined;
  if (httpStatus !== undefined) {
    const body = parseRestError(text);
    const info = body?.error?.details?.find((d) => d["@type"]?.endsWith("google.rpc.ErrorInfo"));
    return {
      status:
        body?.error?.status ?? HTTP_STATUS[httpStatus] ?? (httpStatus >= 500 ? "UNAVAILABLE" : "UNKNOWN"),
      message: oneLine(body?.error?.message ?? `HTTP ${httpStatus}${body ? "" : `: ${text}`}`),
      ...(info?.reason ? { errorReason: info.reason } : {}),
      ...(info?.metadata ? { errorMetadata: info.metadata } : {}),
    };
  }
  if (typeof err.code === "number" && GRPC_STATUS[err.code]) {
    return {
      status: GRPC_STATUS[err.code],
      message: oneLine(text.replace(/^\d+ [A-Z_]+: /, "")),
      ...(typeof err.reason === "string" ? { errorReason: err.reason } : {}),
      ...(err.errorInfoMetadata && typeof err.errorInfoMetadata === "object"
        ? { errorMetadata: err.errorInfoMetadata as Record<string, string> }
        : {}),
    };
  }
  const network = [err.code, err.cause?.code].find((c): c is string => typeof c === "string");
  if (/default credentials|invalid_grant|reauth/i.test(text))
    return { status: "UNAUTHENTICATED", message: oneLine(text) };
  return { message: oneLine(text), ...(network ? { network } : {}) };
}

function parseRestError(text: string): RestErrorBody | undefined {
  if (!text.trimStart().startsWith("{")) return undefined;
  try {
    const body = JSON.parse(text) as RestErrorBody;
    return body && typeof body === "object" && body.error ? body : undefined;
  } catch {
    return undefined;
  }
}

const oneLine = (s: string): string => {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
};
