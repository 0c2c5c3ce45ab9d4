import type * as github from "@pulumi/github";
import type { CicdConfig } from "../../model/types";

/**
 * The decisions behind the GitHub objects: environment protection, rulesets and which checks they
 * require. Pure, so tests assert them directly; the Delivery component only declares them.
 */

/** GitHub Actions' own app id: required checks must come from Actions, not from any app posting a status. */
export const GITHUB_ACTIONS_APP_ID = 15368;

/** Checks the infrastructure repository requires: the `test` job and the aggregated `preview` job. */
export const INFRA_REQUIRED_CHECKS = ["test", "preview"] as const;
/** Checks an application repository requires: its CI jobs. */
export const APPLICATION_REQUIRED_CHECKS = ["lint", "test", "build"] as const;

/** A stack's GitHub environment on the infrastructure repository. */
export function environmentSettings(
  stack: string,
  cicd: CicdConfig,
  protectedDeploy: boolean,
): Omit<github.RepositoryEnvironmentArgs, "repository"> {
  const reviewers = cicd.reviewers.teams.length + cicd.reviewers.users.length > 0;
  return {
    environment: stack,
    ...(reviewers
      ? { reviewers: [{ teams: [...cicd.reviewers.teams], users: [...cicd.reviewers.users] }] }
      : {}),
    ...(protectedDeploy
      ? {
          // Only protected branches deploy, a reviewer other than the author approves, admins included.
          deploymentBranchPolicy: { protectedBranches: true, customBranchPolicies: false },
          preventSelfReview: true,
          canAdminsBypass: false,
        }
      : {}),
  };
}

/** A ruleset on the default branch: pull requests with one approval, the given checks, no force pushes or deletion. */
export function defaultBranchRuleset(
  checks: readonly string[],
  bypassAppId?: number,
): Omit<github.RepositoryRulesetArgs, "repository"> {
  return {
    name: "default-branch",
    target: "branch",
    enforcement: "active",
    conditions: { refName: { includes: ["~DEFAULT_BRANCH"], excludes: [] } },
    // The delivery App commits generated workflow files straight to application repositories.
    ...(bypassAppId !== undefined
      ? { bypassActors: [{ actorType: "Integration", actorId: bypassAppId, bypassMode: "always" }] }
      : {}),
    rules: {
      deletion: true,
      nonFastForward: true,
      pullRequest: {
        requiredApprovingReviewCount: 1,
        dismissStaleReviewsOnPush: true,
        requireLastPushApproval: true,
        requiredReviewThreadResolution: true,
      },
      requiredStatusChecks: {
        strictRequiredStatusChecksPolicy: true,
        requiredChecks: checks.map((context) => ({ context, integrationId: GITHUB_ACTIONS_APP_ID })),
      },
    },
  };
}

/** The host of an image repository, which `docker login` needs: `europe-west1-docker.pkg.dev`. */
export function registryHost(imageRepository: string): string {
  return imageRepository.split("/")[0];
}
