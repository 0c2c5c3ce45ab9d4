import type { Edit } from "../../model/canary/edits";
import { PROJECT } from "../../model/types";

/**
 * Pure decisions of `orchestra cicd ids`: which numeric GitHub ids a stack's `ai-orchestra:cicd`
 * declares, the API request that answers each from its name, and the edits that set the answers.
 * The stack file is read leniently here (an id may be missing or wrong: that is what the command
 * fixes); the whole stack is validated before anything is written.
 */

/** One id the API can check, because the config names what it belongs to. */
export interface IdTarget {
  /** What the id belongs to, as shown in the table: `owner`, `repository`, `team`, `user`, `App`. */
  readonly kind: "owner" | "repository" | "team" | "user" | "App";
  /** Its name as GitHub shows it: `ai-orchestra`, `ai-orchestra/infra`, `ai-orchestra/platform`. */
  readonly name: string;
  /** The REST request whose answer's `id` is the id. */
  readonly request: string;
  /** The id in the stack file; undefined when it is not written yet. */
  readonly configured?: number;
  /** Where the id lives, from the file's root. */
  readonly path: readonly string[];
  /** For an id not written yet: the sibling key it goes after. */
  readonly after?: string;
}

/** A reviewer written as a bare id: nothing names it, so it cannot be checked. */
export interface UncheckedId {
  readonly kind: "team" | "user";
  readonly configured: unknown;
  readonly path: readonly string[];
}

export interface IdPlan {
  readonly targets: readonly IdTarget[];
  readonly unchecked: readonly UncheckedId[];
}

/** The stack file cannot be read for ids at all (no owner, no cicd block...). */
export class IdConfigError extends Error {}

const AT = `${PROJECT}:cicd`;
const ROOT = ["config", AT];
const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const idOf = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined;

function name(value: unknown, key: string): string {
  if (typeof value !== "string" || !NAME.test(value))
    throw new IdConfigError(
      `${AT}.${key} must be a GitHub name (letters, digits, '.', '_' and '-'); got ${JSON.stringify(value)}.\n` +
        `Fix: write the name; \`orchestra cicd ids\` looks the id up from it.`,
    );
  return value;
}

/** The ids of a stack's `ai-orchestra:cicd` (the raw YAML value) and how to look each one up. */
export function planIds(cicd: unknown): IdPlan {
  if (!isObj(cicd) || !isObj(cicd.github))
    throw new IdConfigError(
      `This stack has no \`${AT}.github\` block, so it declares no GitHub ids.\n` +
        `Fix: add \`${AT}: {github: {owner: ORG, infraRepository: {name: REPO}}}\` (docs/cicd.md).`,
    );
  const github = cicd.github;
  const owner = name(github.owner, "github.owner");
  const path = (...rest: (string | number)[]) => [...ROOT, ...rest.map(String)];
  const targets: IdTarget[] = [];
  const unchecked: UncheckedId[] = [];
  const push = (t: Omit<IdTarget, "configured">, configured: unknown) =>
    targets.push({ ...t, ...(idOf(configured) !== undefined ? { configured: idOf(configured) } : {}) });

  // GET /users/NAME answers for organisations too, with the same id as GET /orgs/NAME.
  push(
    {
      kind: "owner",
      name: owner,
      request: `GET /users/${owner}`,
      path: path("github", "ownerId"),
      after: "owner",
    },
    github.ownerId,
  );
  const repository = (repo: unknown, key: string, ...at: string[]) => {
    if (!isObj(repo))
      throw new IdConfigError(`${AT}.${key} must be \`{name, id}\`; got ${JSON.stringify(repo)}.`);
    const repoName = name(repo.name, `${key}.name`);
    push(
      {
        kind: "repository",
        name: `${owner}/${repoName}`,
        request: `GET /repos/${owner}/${repoName}`,
        path: path(...at, "id"),
        after: "name",
      },
      repo.id,
    );
  };
  repository(github.infraRepository, "github.infraRepository", "github", "infraRepository");
  for (const [service, repo] of Object.entries(isObj(cicd.applications) ? cicd.applications : {}))
    repository(repo, `applications.${service}`, "applications", service);

  if (github.appSlug !== undefined) {
    const slug = name(github.appSlug, "github.appSlug");
    push(
      {
        kind: "App",
        name: slug,
        request: `GET /apps/${slug}`,
        path: path("github", "appId"),
        after: "appSlug",
      },
      github.appId,
    );
  }

  const reviewers = isObj(cicd.reviewers) ? cicd.reviewers : {};
  for (const [list, kind, key] of [
    ["teams", "team", "slug"],
    ["users", "user", "login"],
  ] as const) {
    const entries: unknown[] = Array.isArray(reviewers[list]) ? reviewers[list] : [];
    entries.forEach((entry, i) => {
      if (!isObj(entry)) {
        unchecked.push({ kind, configured: entry, path: path("reviewers", list, i) });
        return;
      }
      const n = name(entry[key], `reviewers.${list}.${i}.${key}`);
      push(
        {
          kind,
          name: kind === "team" ? `${owner}/${n}` : n,
          request: kind === "team" ? `GET /orgs/${owner}/teams/${n}` : `GET /users/${n}`,
          path: path("reviewers", list, i, "id"),
          after: key,
        },
        entry.id,
      );
    });
  }
  return { targets, unchecked };
}

/** What the API answered for one target. */
export type Answer =
  | { readonly ok: true; readonly id: number }
  | { readonly ok: false; readonly status: number; readonly message: string };

export type IdStatus = "ok" | "differs" | "missing" | "not found" | "error";

export interface IdResult extends IdTarget {
  readonly actual?: number;
  readonly status: IdStatus;
  readonly message?: string;
}

export function compareIds(targets: readonly IdTarget[], answers: readonly Answer[]): IdResult[] {
  return targets.map((t, i) => {
    const a = answers[i];
    if (!a.ok) return { ...t, status: a.status === 404 ? "not found" : "error", message: a.message };
    const status: IdStatus =
      t.configured === undefined ? "missing" : t.configured === a.id ? "ok" : "differs";
    return { ...t, actual: a.id, status };
  });
}

/** The edits that write every id the API answered and the file lacks or has wrong. */
export function idEdits(results: readonly IdResult[]): Edit[] {
  return results
    .filter((r) => (r.status === "differs" || r.status === "missing") && r.actual !== undefined)
    .map((r) => ({ op: "set", path: r.path, value: r.actual, ...(r.after ? { after: r.after } : {}) }));
}

/** `ai-orchestra:cicd.github.ownerId`: a target's key path as the config errors write it. */
export function keyPath(path: readonly string[]): string {
  return [path[1], ...path.slice(2)].join(".");
}

/** Why a lookup failed, and what to do about it. */
export function notFoundHint(r: IdResult): string {
  const what =
    r.kind === "team"
      ? "the team slug is wrong, or the token cannot read the organisation's teams (classic `read:org`, fine-grained Members: read)"
      : r.kind === "repository"
        ? "the name is wrong, or the token cannot see this private repository"
        : r.kind === "App"
          ? "the App's slug is wrong (it is the name in github.com/apps/SLUG)"
          : "the name is wrong";
  return `${r.name}: GitHub answered 404 (${r.request}): ${what}.`;
}
