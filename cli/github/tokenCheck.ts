import { githubClient, requestTimeoutMs } from "./client";
import { REDACTED, redactCredentials } from "../../model/secrets";
import {
  parseAcceptedPermissions,
  parseExpiration,
  parseScopes,
  type Purpose,
  type TokenKind,
} from "./token";

/** What the GitHub API said about a token. */
export interface ApiFacts {
  readonly apiUrl: string;
  /** Login of the user, or `installation (N repositories)` for an app installation token. */
  readonly identity: string;
  /** `X-OAuth-Scopes`; undefined when the header is absent (fine-grained and app tokens). */
  readonly scopes?: readonly string[];
  readonly expiresAt?: Date;
  readonly probes: readonly Probe[];
}

/** A read request standing in for a purpose, answered with or without a missing permission. */
export interface Probe {
  readonly purpose: Purpose;
  readonly request: string;
  readonly outcome: "ok" | "missing-permission" | "not-found" | "error";
  readonly status: number;
  /** Alternatives from `X-Accepted-GitHub-Permissions`, each a set that would all be needed. */
  readonly accepted: readonly (readonly string[])[];
}

/** The API could not answer about the token at all. */
export class ApiProblem extends Error {
  constructor(
    readonly kind: "unauthorized" | "rate-limited" | "network" | "http" | "not-json",
    message: string,
    readonly resetAt?: Date,
  ) {
    super(message);
  }
}

export const DEFAULT_API_URL = "https://api.github.com";

/** `GITHUB_API_URL` as GitHub Actions and Enterprise Server set it (`https://HOST/api/v3`). */
export function apiUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.GITHUB_API_URL?.trim() || DEFAULT_API_URL).replace(/\/+$/, "");
}

/** Read-only requests whose `X-Accepted-GitHub-Permissions` tells which permission a purpose needs. */
const PROBES: Record<Purpose, (repo: string) => string> = {
  secrets: (repo) => `GET /repos/${repo}/actions/secrets/public-key`,
  workflows: (repo) => `GET /repos/${repo}/contents/.github/workflows`,
  environments: (repo) => `GET /repos/${repo}/environments`,
};

interface ErrorLike {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

/**
 * Text from an answer that may be shown: one line, at most 160 characters, with the token and anything
 * shaped like a credential redacted (a proxy or a misconfigured server may echo the request).
 */
function shown(text: string, token?: string): string {
  const plain = token ? text.split(token).join(REDACTED) : text;
  const line = redactCredentials(plain).replace(/\s+/g, " ").trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** What came back, in words, when it is not the JSON the API sends: never the body itself. */
export function describeBody(
  data: unknown,
  headers: Record<string, unknown> | undefined,
  elapsedMs: number,
  timeoutMs: number,
  token?: string,
): string {
  const type = header(headers, "content-type")?.split(";")[0].trim() || "no content type";
  if (data === undefined || data === "") {
    return elapsedMs >= timeoutMs * 0.9
      ? `a body that did not complete within ${Math.round(timeoutMs / 1000)} s (${type})`
      : `an empty body (${type})`;
  }
  if (typeof data === "string") {
    const size = Buffer.byteLength(data);
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(data)?.[1];
    const what = /html/i.test(type) || /^\s*<(?:!doctype|html)/i.test(data) ? "an HTML page" : "text";
    return `${what} (${type}, ${size} bytes${title ? `, title "${shown(title, token)}"` : ""})`;
  }
  if (data instanceof ArrayBuffer) return `binary data (${type}, ${data.byteLength} bytes)`;
  return `JSON of another shape (${type})`;
}

/** An answer that is not the API's JSON: a proxy's page, an Enterprise web root, a stalled body. */
function notJson(request: string, base: string, what: string): ApiProblem {
  return new ApiProblem(
    "not-json",
    `${request} at ${base} did not answer with GitHub's JSON but with ${what}. ` +
      "Check GITHUB_API_URL (on Enterprise Server it ends in /api/v3), a proxy, or retry.",
  );
}

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const v = headers?.[name];
  return v === undefined || v === null ? undefined : String(v);
}

export function problemOf(e: unknown, base: string, token?: string): ApiProblem {
  const err = e as ErrorLike;
  const headers = err.response?.headers;
  if (!err.response) {
    // fetch wraps the socket error: RequestError -> TypeError("fetch failed") -> Error{code: ECONNREFUSED}.
    let why = err.message ?? String(e);
    for (let c = (e as { cause?: unknown }).cause; c; c = (c as { cause?: unknown }).cause) {
      const code = (c as { code?: unknown }).code;
      if (typeof code === "string") {
        why = code;
        break;
      }
      if (c instanceof Error) why = c.message;
    }
    return new ApiProblem(
      "network",
      `Cannot reach the GitHub API at ${base} (${why}). Check the network, a proxy, or GITHUB_API_URL.`,
    );
  }
  if (err.status === 401) {
    return new ApiProblem(
      "unauthorized",
      "GitHub answered 401 Bad credentials: the token is invalid, revoked or expired.",
    );
  }
  if ((err.status === 403 || err.status === 429) && header(headers, "x-ratelimit-remaining") === "0") {
    const reset = Number(header(headers, "x-ratelimit-reset"));
    const resetAt = Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000) : undefined;
    return new ApiProblem(
      "rate-limited",
      `GitHub's rate limit for this token is used up${resetAt ? ` until ${resetAt.toISOString()}` : ""}; nothing was checked.`,
      resetAt,
    );
  }
  const retryAfter = Number(header(headers, "retry-after"));
  if (err.status === 429 || (err.status === 403 && Number.isFinite(retryAfter) && retryAfter > 0)) {
    return new ApiProblem(
      "rate-limited",
      `GitHub's secondary rate limit stopped the check${retryAfter > 0 ? `; retry after ${retryAfter} s` : ""}.`,
      retryAfter > 0 ? new Date(Date.now() + retryAfter * 1000) : undefined,
    );
  }
  // Only the `message` of GitHub's JSON error is quoted, redacted; any other body is described.
  const data = err.response.data;
  const message =
    data !== null && typeof data === "object" && typeof (data as { message?: unknown }).message === "string"
      ? shown((data as { message: string }).message, token)
      : `not GitHub's JSON but ${describeBody(data, headers, 0, 1, token)}`;
  return new ApiProblem("http", `GitHub answered ${err.status}: ${message}.`);
}

/** Asks the API who the token is, what it may do, and when it expires. */
export async function fetchTokenFacts(
  token: string,
  kind: TokenKind,
  purposes: readonly Purpose[],
  repo: string | undefined,
  base = apiUrl(),
): Promise<ApiFacts> {
  const octokit = await githubClient(token, base);
  const timeoutMs = requestTimeoutMs();

  let identity: string;
  let headers: Record<string, unknown>;
  const request = kind === "app-installation" ? "GET /installation/repositories" : "GET /user";
  const started = Date.now();
  let data: unknown;
  try {
    // An installation token has no user; GET /user is refused for it.
    const r = await octokit.request(request, kind === "app-installation" ? { per_page: 1 } : {});
    data = r.data;
    headers = r.headers;
  } catch (e) {
    throw problemOf(e, base, token);
  }
  // Octokit hands back whatever came: a proxy's HTML page as a string, a stalled body as "".
  const fields = data !== null && typeof data === "object" ? (data as Record<string, unknown>) : undefined;
  if (kind === "app-installation") {
    if (typeof fields?.total_count !== "number")
      throw notJson(request, base, describeBody(data, headers, Date.now() - started, timeoutMs, token));
    identity = `app installation with access to ${fields.total_count} repositories`;
  } else {
    if (typeof fields?.login !== "string")
      throw notJson(request, base, describeBody(data, headers, Date.now() - started, timeoutMs, token));
    identity = fields.login;
  }

  const scopesHeader = header(headers, "x-oauth-scopes");
  const probes: Probe[] = [];
  if (scopesHeader === undefined && repo) {
    for (const purpose of purposes) {
      const request = PROBES[purpose](repo);
      try {
        const r = await octokit.request(request);
        probes.push({ purpose, request, outcome: "ok", status: r.status, accepted: [] });
      } catch (e) {
        const err = e as ErrorLike;
        if (!err.response) throw problemOf(e, base, token);
        const problem = problemOf(e, base, token);
        if (problem.kind === "rate-limited" || problem.kind === "unauthorized") throw problem;
        const accepted = parseAcceptedPermissions(
          header(err.response.headers, "x-accepted-github-permissions"),
        );
        const outcome =
          accepted.length > 0 && (err.status === 403 || err.status === 404)
            ? "missing-permission"
            : err.status === 404
              ? "not-found"
              : "error";
        probes.push({ purpose, request, outcome, status: err.status ?? 0, accepted });
      }
    }
  }

  return {
    apiUrl: base,
    identity,
    scopes: scopesHeader === undefined ? undefined : parseScopes(scopesHeader),
    expiresAt: parseExpiration(header(headers, "github-authentication-token-expiration")),
    probes,
  };
}
