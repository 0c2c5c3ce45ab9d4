import { z } from "zod";
import { fix, HiddenValue } from "./errors";
import { type Ctx, report, whenClean } from "./report";
import type { ParsedProject } from "./schema";
import { hiddenValue } from "../model/secrets";
import type { CicdConfig, Environment } from "../model/types";

/**
 * `ai-orchestra:cicd` (keyless CI/CD: Workload Identity, GitHub environments, workflows) and the
 * secret keys beside it: their shape, defaults and rules.
 */

/** The protected branch deploys come from, unless `github.defaultBranch` says otherwise. */
export const DEFAULT_BRANCH = "main";

const numericId = (what: string, howTo: string) =>
  z
    .number({ error: fix(`must be the numeric id of ${what}.`, howTo) })
    .int({ error: fix(`must be a whole number: the numeric id of ${what}.`, howTo) })
    .positive({ error: fix(`must be a positive number: the numeric id of ${what}.`, howTo) });

// GitHub repository and owner names: letters, digits, '.', '_' and '-'.
const GITHUB_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
/** GitHub secret and variable names: letters, digits and '_', not starting with a digit or `GITHUB_`. */
export const GITHUB_SECRET_NAME = /^(?!GITHUB_)[A-Z_][A-Z0-9_]*$/;

const repository = z.strictObject({
  name: z
    .string({ error: fix("must be the repository's name, without the owner.", "e.g. `infra`.") })
    .regex(GITHUB_NAME, {
      error: fix("must be a GitHub repository name: letters, digits, '.', '_' and '-'.", "e.g. `infra`."),
    }),
  id: numericId("the repository", "`gh api repos/OWNER/NAME --jq .id` prints it.").describe(
    "The repository's numeric id, which OIDC tokens carry.",
  ),
});

// Team slugs and user logins: letters, digits and '-' (teams also '_' and '.').
const TEAM_SLUG = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const USER_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

/**
 * A reviewer is a bare numeric id (as GitHub's API wants it) or `{slug|login, id}`: the name lets
 * `orchestra cicd ids` look the id up and check it; a bare id cannot be checked.
 */
const named = <K extends "slug" | "login">(key: K, pattern: RegExp, what: string, example: string) =>
  z.strictObject({
    [key]: z.string().regex(pattern, { error: fix(`must be a GitHub ${what}.`, `e.g. ${example}.`) }),
    id: numericId(what, `\`orchestra cicd ids --stack STACK --write\` fills it in from the ${key}.`),
  } as { [k in K]: z.ZodString } & { id: ReturnType<typeof numericId> });

const reviewer = (what: "team" | "user") => {
  const team = what === "team";
  const example = team ? "{slug: platform, id: 1234567}" : "{login: octocat, id: 583231}";
  const lookup = team ? "`gh api orgs/OWNER/teams/SLUG --jq .id`" : "`gh api users/LOGIN --jq .id`";
  return z.union(
    [
      numericId(what, `${lookup} prints it.`),
      team
        ? named("slug", TEAM_SLUG, "team slug", example)
        : named("login", USER_LOGIN, "user login", example),
    ],
    {
      error: fix(
        `must be the numeric id of a ${what}, or \`${example}\`.`,
        `write \`${team ? "{slug: platform}" : "{login: octocat}"}\` and run \`orchestra cicd ids --stack STACK --write\`: it fills in the id.`,
      ),
    },
  );
};

const reviewers = (what: "team" | "user") =>
  z
    .array(reviewer(what), {
      error: fix(
        `must be a list of ${what}s.`,
        `e.g. [${what === "team" ? "{slug: platform, id: 1234567}" : "{login: octocat, id: 583231}"}].`,
      ),
    })
    .max(6, { error: fix("must list at most 6: GitHub's limit per environment.", "use a team.") })
    .default([])
    .transform((list) => list.map(reviewerId));

/** The numeric id of a reviewer entry, whichever form it is written in. */
export function reviewerId(entry: number | { readonly id: number }): number {
  return typeof entry === "number" ? entry : entry.id;
}

const DURATION = /^\d+(?:s|m|h)$/;

export const cicdSchema = (environment: Environment) =>
  z
    .strictObject({
      github: z.strictObject({
        owner: z
          .string({
            error: fix(
              "must be the GitHub organisation or user that owns the repositories.",
              "e.g. `ai-orchestra`.",
            ),
          })
          .regex(GITHUB_NAME, {
            error: fix("must be a GitHub organisation or user name.", "e.g. `ai-orchestra`."),
          })
          .describe("The organisation owning the repositories."),
        ownerId: numericId("the owner", "`gh api orgs/OWNER --jq .id` prints it.").describe(
          "The owner's numeric id.",
        ),
        infraRepository: repository.describe("`{name, id}` of this repository."),
        defaultBranch: z
          .string({ error: fix("must be a branch name.", "e.g. `main`.") })
          .regex(/^[A-Za-z0-9._/-]+$/, { error: fix("must be a branch name.", "e.g. `main`.") })
          .default(DEFAULT_BRANCH)
          .describe("The protected branch deploys come from."),
        appId: numericId(
          "the GitHub App that writes across repositories",
          "it is on the App's settings page.",
        ).describe("The delivery GitHub App."),
        appSlug: z
          .string({
            error: fix("must be the App's slug, the name in its URL.", "e.g. `orchestra-delivery`."),
          })
          .regex(/^[a-z0-9][a-z0-9-]{0,99}$/, {
            error: fix(
              "must be the App's slug: lowercase letters, digits and '-', as in github.com/apps/SLUG.",
              "e.g. `orchestra-delivery`.",
            ),
          })
          .optional()
          .describe("The App's slug, so `orchestra cicd ids` can check `appId`."),
      }),
      ownsRepositorySettings: z
        .boolean({
          error: fix(
            "must be true or false.",
            "leave it unset: only the prod stack owns repository-wide settings by default.",
          ),
        })
        .default(false)
        .describe("`true` in exactly one stack (prod): it declares the repository-wide objects."),
      reviewers: z
        .strictObject(
          { teams: reviewers("team"), users: reviewers("user") },
          {
            error: fix(
              "must be `{teams: [...], users: [...]}`.",
              "e.g. `reviewers: {teams: [{slug: platform, id: 1234567}]}`.",
            ),
          },
        )
        .prefault({})
        .describe(
          "Required reviewers of the stack's GitHub environment (6 at most each): `{slug, id}` / `{login, id}` or an id; prod requires one.",
        ),
      applications: z
        .record(z.string(), repository, {
          error: fix(
            "must map a service name to its application repository `{name, id}`.",
            "e.g. `api: {name: api, id: 123}`.",
          ),
        })
        .default({})
        .describe("Owning stack only: service name to its application repository `{name, id}`."),
      registry: z
        .strictObject({
          repository: z
            .string({ error: fix("must be an Artifact Registry repository id.", "e.g. `orchestra`.") })
            .regex(/^[a-z][a-z0-9-]{0,62}$/, {
              error: fix(
                "must be an Artifact Registry repository id: lowercase letters, digits and '-'.",
                "e.g. `orchestra`.",
              ),
            })
            .default("orchestra")
            .describe("Artifact Registry repository id."),
          keepVersions: z
            .number({ error: fix("must be a number of versions.", "e.g. 10.") })
            .int({ error: fix("must be a whole number.", "e.g. 10.") })
            .min(1, { error: fix("must be at least 1.", "keep at least the running release.") })
            .max(1000, {
              error: fix("must be at most 1000.", "tagged releases are kept anyway; 10 to 50 is plenty."),
            })
            .default(10)
            .describe("Newest versions always kept."),
          deleteUntaggedAfterDays: z
            .number({ error: fix("must be a number of days.", "e.g. 7.") })
            .int({ error: fix("must be a whole number of days.", "e.g. 7.") })
            .min(1, {
              error: fix("must be at least 1.", "untagged images are build leftovers; a week is plenty."),
            })
            .default(7)
            .describe("Untagged versions are deleted after this many days."),
        })
        .prefault({}),
      stateBucket: z
        .string({ error: fix("must be a GCS bucket name.", "e.g. `ai-orchestra-pulumi-state`.") })
        .regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, {
          error: fix("must be a GCS bucket name, without `gs://`.", "e.g. `ai-orchestra-pulumi-state`."),
        })
        .optional()
        .describe("GCS bucket of the Pulumi state; grants, and `PULUMI_BACKEND_URL`."),
      secretsKey: z
        .string({
          error: fix("must be a Cloud KMS key name.", "the key of the stack's `gcpkms://` secrets provider."),
        })
        .regex(/^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/, {
          error: fix(
            "must be a Cloud KMS key `projects/P/locations/L/keyRings/R/cryptoKeys/K`.",
            "use the key of the stack's `gcpkms://` secrets provider.",
          ),
        })
        .optional()
        .describe("KMS key of the stack's `gcpkms://` secrets provider; grants."),
      perf: z
        .strictObject({
          service: z
            .string({ error: fix("must be the name of a service of this stack.", "e.g. `api`.") })
            .optional()
            .meta({
              description: "The service the k6 test hits; none reachable: no test.",
              defaultText: "the first service with ingress `all`",
            }),
          path: z
            .string({ error: fix("must be an HTTP path.", "e.g. `/healthz`.") })
            .regex(/^\/\S*$/, { error: fix("must be an HTTP path starting with `/`.", "e.g. `/healthz`.") })
            .default("/")
            .describe("HTTP path requested."),
          p95Ms: z
            .number({ error: fix("must be a number of milliseconds.", "e.g. 500.") })
            .positive({ error: fix("must be more than 0.", "e.g. 500.") })
            .default(500)
            .describe("Threshold: p95 latency in ms."),
          errorRate: z
            .number({ error: fix("must be a rate between 0 and 1.", "write 1% as 0.01.") })
            .min(0, { error: fix("must be at least 0.", "e.g. 0.01 for 1%.") })
            .max(1, { error: fix("must be at most 1.", "write 1% as 0.01.") })
            .default(0.01)
            .describe("Threshold: failed-request rate."),
          vus: z
            .number({ error: fix("must be a number of virtual users.", "e.g. 5.") })
            .int({ error: fix("must be a whole number.", "e.g. 5.") })
            .min(1, { error: fix("must be at least 1.", "e.g. 5.") })
            .max(500, { error: fix("must be at most 500.", "this is a smoke test, not a stress test.") })
            .default(5)
            .describe("Load: virtual users."),
          duration: z
            .string({ error: fix("must be a duration such as `30s` or `2m`.", "quote it with its unit.") })
            .regex(DURATION, { error: fix("must be a duration such as `30s`, `2m` or `1h`.", "e.g. `30s`.") })
            .default("30s")
            .describe("Load: duration."),
        })
        .prefault({})
        .describe("The k6 smoke test after each deploy."),
    })
    .superRefine((cicd, ctx) => {
      if (environment === "prod" && cicd.reviewers.teams.length + cicd.reviewers.users.length === 0) {
        report(
          ctx,
          ["reviewers"],
          "must name at least one team or user in prod: every prod deploy waits for a reviewer's approval.\n" +
            "Fix: add `reviewers: {teams: [{slug: TEAM, id: TEAM_ID}]}`; `orchestra cicd ids --stack STACK --write` fills in the id.",
        );
      }
    }, whenClean)
    .describe(
      "Keyless CI/CD of this stack: GitHub owner and repositories by numeric id, the delivery GitHub App, environment reviewers, application repositories (owning stack only), registry cleanup, state bucket, KMS key and the k6 test. Unset: none is declared.",
    );

/** `ai-orchestra:githubSecrets`: Actions secrets of this stack's environment, each a `secure:` value. */
export const githubSecretsSchema = z
  .record(
    z.string().regex(GITHUB_SECRET_NAME, {
      error: fix(
        "must be a GitHub secret name: upper-case letters, digits and '_', not starting with a digit or GITHUB_.",
        "rename the key, e.g. `SLACK_WEBHOOK_URL`.",
      ),
    }),
    z.string({
      error: (iss) =>
        fix(
          iss.input !== null && typeof iss.input === "object" && "secret" in iss.input
            ? "must be a secret value: `secret:` is not Pulumi's key, so this one is plain text in git (Pulumi writes `secure:`)."
            : "must be a secret value.",
          "`pulumi config set --secret --path 'ai-orchestra:githubSecrets.NAME' VALUE`, then rotate a value that was in git.",
        ),
    }),
    {
      error: fix(
        "must map secret names to `secure:` values.",
        "set each with `pulumi config set --secret --path`.",
      ),
    },
  )
  .describe(
    "Actions secrets of this stack's GitHub environment, NAME: secure value (`pulumi config set --secret --path 'ai-orchestra:githubSecrets.NAME'`).",
  );

const AT = ["ai-orchestra", "cicd"];
/** Shown instead of a secret key's value in errors. */
const SECRET = new HiddenValue(hiddenValue());

/** The service the k6 test hits: the one named, or the first reachable from the internet. */
function perfTarget(own: ParsedProject): string | undefined {
  const reachable = Object.keys(own.services).filter(
    (name) => (own.services[name].ingress ?? "all") === "all",
  );
  const named = own.cicd?.perf.service;
  return named === undefined ? reachable[0] : reachable.includes(named) ? named : undefined;
}

/**
 * The rules between `ai-orchestra:cicd`, the secret keys beside it and the services: only the owning
 * stack declares application repositories, and the k6 test needs a service it can reach. `broken`
 * names services with errors of their own, whose ingress cannot be trusted.
 */
export function cicdRules(own: ParsedProject, broken: ReadonlySet<string>, ctx: Ctx): void {
  const cicd = own.cicd;
  const hasKey = own.deliveryAppPrivateKey !== undefined;
  if (!cicd) {
    for (const [key, present] of [
      ["githubSecrets", Object.keys(own.githubSecrets ?? {}).length > 0],
      ["deliveryAppPrivateKey", hasKey],
    ] as const) {
      if (present)
        report(
          ctx,
          ["ai-orchestra", key],
          "is set, but `ai-orchestra:cicd` is not: there is no GitHub repository to write it to.\nFix: configure `ai-orchestra:cicd` or remove the key.",
          SECRET,
        );
    }
    return;
  }
  const names = Object.keys(own.services);
  for (const service of Object.keys(cicd.applications)) {
    if (!cicd.ownsRepositorySettings) {
      report(
        ctx,
        [...AT, "applications", service],
        "is only allowed in the stack that owns repository-wide settings: two stacks would write the same workflow files.\n" +
          "Fix: move `applications` to the stack with `ownsRepositorySettings: true` (prod).",
      );
    } else if (!names.includes(service)) {
      report(
        ctx,
        [...AT, "applications", service],
        `is not a service of this stack; services are ${names.map((n) => `\`${n}\``).join(", ")}.\nFix: use the service's name as the key.`,
      );
    }
  }
  if (hasKey && !cicd.ownsRepositorySettings) {
    report(
      ctx,
      ["ai-orchestra", "deliveryAppPrivateKey"],
      "is only written by the stack that owns repository-wide settings (a repository secret).\nFix: set it in that stack only.",
      SECRET,
    );
  }
  const named = cicd.perf.service;
  if (named !== undefined && !broken.has(named) && perfTarget(own) === undefined) {
    const candidates = names.filter((n) => (own.services[n].ingress ?? "all") === "all");
    report(
      ctx,
      [...AT, "perf", "service"],
      `must be a service of this stack with ingress \`all\`, reachable by the load test from a GitHub runner; candidates: ${
        candidates.map((n) => `\`${n}\``).join(", ") || "none"
      }.\nFix: name such a service, or remove \`perf\`.`,
    );
  }
}

/** `ai-orchestra:cicd` as validated, with the names of the secret keys beside it. */
export function toCicdConfig(own: ParsedProject): CicdConfig | undefined {
  const cicd = own.cicd;
  if (!cicd) return undefined;
  const service = perfTarget(own);
  return {
    owner: cicd.github.owner,
    ownerId: cicd.github.ownerId,
    infraRepository: cicd.github.infraRepository,
    defaultBranch: cicd.github.defaultBranch,
    appId: cicd.github.appId,
    ownsRepositorySettings: cicd.ownsRepositorySettings,
    reviewers: cicd.reviewers,
    applications: cicd.applications,
    registry: cicd.registry,
    ...(cicd.stateBucket ? { stateBucket: cicd.stateBucket } : {}),
    ...(cicd.secretsKey ? { secretsKey: cicd.secretsKey } : {}),
    ...(service ? { perf: { service, ...cicd.perf } } : {}),
    secretNames: Object.keys(own.githubSecrets ?? {}).sort(),
    manageDeliveryAppKey: own.deliveryAppPrivateKey !== undefined,
  };
}
