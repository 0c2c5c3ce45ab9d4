/**
 * Every action the generated workflows use, pinned to a full commit SHA; the version is written as a
 * comment next to each `uses:`. This table is the only place a pin lives: to upgrade an action, change
 * its line here and run `npm run workflows`.
 *
 * `verified: true` means the SHA was checked to be the release tag's commit in at least two
 * independent places (the comment says where). A new or changed pin starts as `verified: false`
 * until someone checks it, e.g. with
 *   git ls-remote https://github.com/OWNER/REPO refs/tags/VERSION   (the `^{}` line of an annotated tag)
 * or `gh api repos/OWNER/REPO/commits/VERSION --jq .sha`. `npm run workflows` and the workflow tests
 * print every pin still unverified; they do not fail on one.
 *
 * All pins are majors that run on Node 24: GitHub-hosted runners stopped running Node 20 actions
 * natively in 2026.
 */
export const ACTIONS = {
  // Pinned with `# v6.0.2` in many unrelated public workflows (e.g. SH11235/rshogi#679).
  checkout: {
    repo: "actions/checkout",
    version: "v6.0.2",
    sha: "de0fac2e4500dabe0009e67214ff5f5447ce83dd",
    verified: true,
  },
  // Pinned with `# v6.3.0` in seven unrelated public workflows and pin tables.
  setupNode: {
    repo: "actions/setup-node",
    version: "v6.3.0",
    sha: "53b83947a5a98c8d113130e565377fae1a50d02f",
    verified: true,
  },
  // Pinned with `# v3.0.0` in several public workflows; one notes `v3` and `v3.0.0` are the same tag.
  gcpAuth: {
    repo: "google-github-actions/auth",
    version: "v3.0.0",
    sha: "7c6bc770dae815cd3e89ee6cdf493a5fab2cc093",
    verified: true,
  },
  // metabase/metabase#74733 and several public workflows pinned with `# v4.2.0`.
  dockerLogin: {
    repo: "docker/login-action",
    version: "v4.2.0",
    sha: "650006c6eb7dba73a995cc03b0b2d7f5ca915bee",
    verified: true,
  },
  // metabase/metabase#74733 and public pin tables and workflows with `v4.1.0`.
  setupBuildx: {
    repo: "docker/setup-buildx-action",
    version: "v4.1.0",
    sha: "d7f5e7f509e45cec5c76c4d5afdd7de93d0b3df5",
    verified: true,
  },
  // metabase/metabase#74733 and public workflows and pin tables with `v7.2.0`.
  buildPush: {
    repo: "docker/build-push-action",
    version: "v7.2.0",
    sha: "f9f3042f7e2789586610d6e8b85c8f03e5195baf",
    verified: true,
  },
  // mondoohq/cnspec#2387, mondoohq/mql#7254 and public workflows pinned with `# v3.1.1`. v3.1 deprecates
  // the `app-id` input in favour of `client-id` with a warning; `app-id` still works.
  appToken: {
    repo: "actions/create-github-app-token",
    version: "v3.1.1",
    sha: "1b10c78c7865c340bc4f6099eb2f838309f1e8c3",
    verified: true,
  },
  // Pinned with `# v7.0.0` in four unrelated public workflows and workflow tests (v7: Node 24, same inputs).
  pulumi: {
    repo: "pulumi/actions",
    version: "v7.0.0",
    sha: "8e5e406f4007fca908480587cb9893c07090f58d",
    verified: true,
  },
  // A public workflow ADR (`reusable-k6.yml`, `(v1.2.1)`) and an action-lock upgrade report that
  // resolved tag v1.2.1 to this commit; two more public workflows pin the same SHA.
  setupK6: {
    repo: "grafana/setup-k6-action",
    version: "v1.2.1",
    sha: "db07bd9765aac508ef18982e52ab937fe633a065",
    verified: true,
  },
  // Pinned with `# v4.1.0` in several unrelated public workflows, pin tables and an action-lock report
  // (a lightweight tag); a Dependabot bump from v3.2.0 (96278af6) names the same commit.
  attestProvenance: {
    repo: "actions/attest-build-provenance",
    version: "v4.1.0",
    sha: "a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32",
    verified: true,
  },
} as const satisfies Record<string, { repo: string; version: string; sha: string; verified: boolean }>;

export type ActionKey = keyof typeof ACTIONS;

/**
 * The Pulumi CLI the workflows install (`pulumi-version` of pulumi/actions), the release matching the
 * SDK in package.json: unpinned, every job would take whatever CLI is newest that day.
 */
export const PULUMI_CLI_VERSION = "3.248.0";

/** `owner/repo@SHA`, as a step's `uses:`. */
export function action(key: ActionKey): string {
  const a = ACTIONS[key];
  return `${a.repo}@${a.sha}`;
}

/** The version a pinned `uses:` value stands for, for the comment beside it. */
export function versionOf(uses: string): string | undefined {
  return Object.values(ACTIONS).find((a) => uses === `${a.repo}@${a.sha}`)?.version;
}

/** Pins not yet checked against their release tag, as `owner/repo@VERSION (SHA)` lines to print. */
export function unverifiedPins(
  table: Readonly<
    Record<string, { repo: string; version: string; sha: string; verified: boolean }>
  > = ACTIONS,
): string[] {
  return Object.values(table)
    .filter((a) => !a.verified)
    .map((a) => `${a.repo}@${a.version} (${a.sha})`);
}
