/**
 * Pure decisions about a GitHub token: its kind from the prefix, what it can do for a purpose, and how
 * close it is to expiry. No I/O here; `tokenCheck.ts` gathers the facts from the API.
 */

export type TokenKind =
  "classic" | "fine-grained" | "oauth" | "app-user" | "app-installation" | "refresh" | "unknown";

const PREFIXES: readonly (readonly [string, TokenKind])[] = [
  ["github_pat_", "fine-grained"],
  ["ghp_", "classic"],
  ["gho_", "oauth"],
  ["ghu_", "app-user"],
  ["ghs_", "app-installation"],
  ["ghr_", "refresh"],
];

export const KIND_TEXT: Record<TokenKind, string> = {
  classic: "classic personal access token",
  "fine-grained": "fine-grained personal access token",
  oauth: "OAuth app token",
  "app-user": "GitHub App user-to-server token",
  "app-installation": "GitHub App installation token (also Actions' GITHUB_TOKEN)",
  refresh: "GitHub App refresh token",
  unknown: "token of unknown kind (no known prefix)",
};

export function tokenKind(token: string): TokenKind {
  return PREFIXES.find(([prefix]) => token.startsWith(prefix))?.[1] ?? "unknown";
}

/** Kinds whose rights are listed in `X-OAuth-Scopes`; the others are checked per request. */
export function hasScopes(kind: TokenKind): boolean {
  return kind === "classic" || kind === "oauth" || kind === "unknown";
}

export type Purpose = "secrets" | "workflows" | "environments";
export const PURPOSES: readonly Purpose[] = ["secrets", "workflows", "environments"];

export const PURPOSE_TEXT: Record<Purpose, string> = {
  secrets: "write Actions secrets and variables",
  workflows: "commit files under .github/workflows",
  environments: "manage deployment environments",
};

/** Classic scopes each purpose needs. `workflow` is separate from `repo`: without it GitHub refuses the push. */
export const REQUIRED_SCOPES: Record<Purpose, readonly string[]> = {
  secrets: ["repo"],
  workflows: ["repo", "workflow"],
  environments: ["repo"],
};

/** Fine-grained / app permissions each purpose needs (for the messages; the probe's header is authoritative). */
export const REQUIRED_PERMISSIONS: Record<Purpose, readonly string[]> = {
  secrets: ["secrets: write", "variables: write"],
  workflows: ["contents: write", "workflows: write"],
  environments: ["environments: write"],
};

export function parseScopes(header: string | undefined | null): string[] {
  return (header ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Scopes of `required` the token lacks; `repo` does not follow from `public_repo`, only the reverse. */
export function missingScopes(scopes: readonly string[], required: readonly string[]): string[] {
  return required.filter((r) => !scopes.includes(r));
}

/**
 * `X-Accepted-GitHub-Permissions: contents=read; secrets=read,metadata=read` lists alternatives separated
 * by `;`, each a comma-separated set that would all be needed.
 */
export function parseAcceptedPermissions(header: string | undefined | null): string[][] {
  return (header ?? "")
    .split(";")
    .map((alt) =>
      alt
        .split(",")
        .map((p) => p.trim().replace("=", ": "))
        .filter((p) => p !== ""),
    )
    .filter((alt) => alt.length > 0);
}

/** `GitHub-Authentication-Token-Expiration`, e.g. `2027-08-05 06:20:31 UTC` or `... +0200`. */
export function parseExpiration(header: string | undefined | null): Date | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)\s*(UTC|Z|[+-]\d{2}:?\d{2})?$/.exec(
    (header ?? "").trim(),
  );
  if (!m) return undefined;
  const zone = !m[3] || m[3] === "UTC" || m[3] === "Z" ? "Z" : m[3].replace(/^([+-]\d{2})(\d{2})$/, "$1:$2");
  const date = new Date(`${m[1]}T${m[2]}${zone}`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export type ExpiryStatus =
  | { readonly state: "never" }
  | { readonly state: "ok" | "expiring" | "expired"; readonly expiresAt: Date; readonly daysLeft: number };

export const DEFAULT_WARN_DAYS = 14;

export function expiryStatus(
  expiresAt: Date | undefined,
  now: Date,
  warnDays = DEFAULT_WARN_DAYS,
): ExpiryStatus {
  if (!expiresAt) return { state: "never" };
  const daysLeft = Math.floor((expiresAt.getTime() - now.getTime()) / 86_400_000);
  const state = expiresAt.getTime() <= now.getTime() ? "expired" : daysLeft < warnDays ? "expiring" : "ok";
  return { state, expiresAt, daysLeft };
}

/** "in 3 days", "in 5 hours", "within the hour": whole units, never "in 0 days". */
export function timeLeftText(days: number): string {
  const plural = (n: number, unit: string) => `in ${n} ${unit}${n === 1 ? "" : "s"}`;
  if (days >= 1) return plural(Math.floor(days), "day");
  const hours = Math.floor(days * 24);
  return hours >= 1 ? plural(hours, "hour") : "within the hour";
}

/** `owner/name` of a GitHub remote URL (https, ssh or scp-like), any host (Enterprise too). */
export function repoFromRemote(url: string): string | undefined {
  const m =
    /^(?:[a-z+]+:\/\/)?(?:[^@/]+@)?[^/:]+(?::\d+)?[:/](?:api\/v3\/)?([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(
      url.trim(),
    );
  return m ? `${m[1]}/${m[2]}` : undefined;
}
