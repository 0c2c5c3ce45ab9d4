import { reviewerId } from "./cicd";
import { CICD_DEFAULTS } from "./defaults";
import type { ConfigIssue } from "./errors";
import type { RawProject } from "./schema";
import type { CicdConfig, Environment, ServiceConfig } from "../model/types";

const AT = "ai-orchestra:cicd";
/** Shown instead of a secret key's value in errors. */
const SECRET = "[secret]";

/**
 * Resolves `ai-orchestra:cicd` and the secret keys beside it, after the schema has passed: the rules
 * that span keys (prod needs reviewers; only the owning stack declares application repositories).
 */
export function resolveCicd(
  raw: RawProject,
  environment: Environment,
  services: readonly ServiceConfig[],
  issues: ConfigIssue[],
): CicdConfig | undefined {
  const cicd = raw.cicd;
  const secretNames = Object.keys(raw.githubSecrets ?? {}).sort();
  const hasKey = raw.deliveryAppPrivateKey !== undefined;
  if (!cicd) {
    for (const [key, present] of [
      ["githubSecrets", secretNames.length > 0],
      ["deliveryAppPrivateKey", hasKey],
    ] as const) {
      if (present)
        issues.push({
          path: `ai-orchestra:${key}`,
          value: SECRET,
          hasValue: true,
          message: `is set, but \`${AT}\` is not: there is no GitHub repository to write it to.\nFix: configure \`${AT}\` or remove the key.`,
        });
    }
    return undefined;
  }

  const before = issues.length;
  const push = (key: string, value: unknown, message: string) =>
    issues.push({ path: `${AT}.${key}`, value, hasValue: value !== undefined, message });
  const owns = cicd.ownsRepositorySettings ?? CICD_DEFAULTS.ownsRepositorySettings;
  const reviewers = {
    teams: (cicd.reviewers?.teams ?? []).map(reviewerId),
    users: (cicd.reviewers?.users ?? []).map(reviewerId),
  };

  if (environment === "prod" && reviewers.teams.length + reviewers.users.length === 0) {
    push(
      "reviewers",
      cicd.reviewers,
      "must name at least one team or user in prod: every prod deploy waits for a reviewer's approval.\n" +
        "Fix: add `reviewers: {teams: [{slug: TEAM, id: TEAM_ID}]}`; `orchestra cicd ids --stack STACK --write` fills in the id.",
    );
  }
  const applications = cicd.applications ?? {};
  const names = services.map((s) => s.name);
  for (const [service, repo] of Object.entries(applications)) {
    if (!owns) {
      push(
        `applications.${service}`,
        repo,
        "is only allowed in the stack that owns repository-wide settings: two stacks would write the same workflow files.\n" +
          "Fix: move `applications` to the stack with `ownsRepositorySettings: true` (prod).",
      );
    } else if (!names.includes(service)) {
      push(
        `applications.${service}`,
        repo,
        `is not a service of this stack; services are ${names.map((n) => `\`${n}\``).join(", ")}.\nFix: use the service's name as the key.`,
      );
    }
  }
  if (hasKey && !owns) {
    issues.push({
      path: "ai-orchestra:deliveryAppPrivateKey",
      value: SECRET,
      hasValue: true,
      message:
        "is only written by the stack that owns repository-wide settings (a repository secret).\nFix: set it in that stack only.",
    });
  }
  const perfService = cicd.perf?.service ?? services.find((s) => s.ingress === "all")?.name;
  const target = services.find((s) => s.name === perfService);
  if (cicd.perf?.service !== undefined && (!target || target.ingress !== "all")) {
    push(
      "perf.service",
      cicd.perf.service,
      `must be a service of this stack with ingress \`all\`, reachable by the load test from a GitHub runner; candidates: ${
        services
          .filter((s) => s.ingress === "all")
          .map((s) => `\`${s.name}\``)
          .join(", ") || "none"
      }.\nFix: name such a service, or remove \`perf\`.`,
    );
  }
  if (issues.length > before) return undefined;

  const d = CICD_DEFAULTS;
  return {
    owner: cicd.github.owner,
    ownerId: cicd.github.ownerId,
    infraRepository: cicd.github.infraRepository,
    defaultBranch: cicd.github.defaultBranch ?? d.defaultBranch,
    appId: cicd.github.appId,
    ownsRepositorySettings: owns,
    reviewers,
    applications,
    registry: {
      repository: cicd.registry?.repository ?? d.registry.repository,
      keepVersions: cicd.registry?.keepVersions ?? d.registry.keepVersions,
      deleteUntaggedAfterDays: cicd.registry?.deleteUntaggedAfterDays ?? d.registry.deleteUntaggedAfterDays,
    },
    ...(cicd.stateBucket ? { stateBucket: cicd.stateBucket } : {}),
    ...(cicd.secretsKey ? { secretsKey: cicd.secretsKey } : {}),
    ...(target
      ? {
          perf: {
            service: target.name,
            path: cicd.perf?.path ?? d.perf.path,
            p95Ms: cicd.perf?.p95Ms ?? d.perf.p95Ms,
            errorRate: cicd.perf?.errorRate ?? d.perf.errorRate,
            vus: cicd.perf?.vus ?? d.perf.vus,
            duration: cicd.perf?.duration ?? d.perf.duration,
          },
        }
      : {}),
    secretNames,
    manageDeliveryAppKey: hasKey,
  };
}
