/**
 * Every action the generated workflows use, pinned to a full commit SHA; the version is written as a
 * comment next to each `uses:`. This table is the only place a pin lives: to upgrade an action, change
 * its line here and run `npm run workflows`.
 *
 * `verified: false` marks pins not yet checked against the action's release tag: confirm each with
 * `git ls-remote https://github.com/OWNER/REPO refs/tags/VERSION` (the peeled `^{}` line for an
 * annotated tag) before the workflows run for real, then set `verified: true`.
 */
export const ACTIONS = {
  checkout: {
    repo: "actions/checkout",
    version: "v4.2.2",
    sha: "11bd71901bbe5b1630ceea73d27597364c9af683",
    verified: false,
  },
  setupNode: {
    repo: "actions/setup-node",
    version: "v4.1.0",
    sha: "39370e3970a6d050c480ffad4ff0ed4d3fdee5af",
    verified: false,
  },
  gcpAuth: {
    repo: "google-github-actions/auth",
    version: "v2.1.7",
    sha: "6fc4af4b145ae7821d527454aa9bd537d1f2dc5f",
    verified: false,
  },
  dockerLogin: {
    repo: "docker/login-action",
    version: "v3.3.0",
    sha: "9780b0c442fbb1117ed29e0efdff1e18412f7567",
    verified: false,
  },
  setupBuildx: {
    repo: "docker/setup-buildx-action",
    version: "v3.7.1",
    sha: "c47758b77c9736f4b2ef4073d4d51994fabfe349",
    verified: false,
  },
  buildPush: {
    repo: "docker/build-push-action",
    version: "v6.9.0",
    sha: "4f58ea79222b3b9dc2c8bbdd6debcef730109a75",
    verified: false,
  },
  appToken: {
    repo: "actions/create-github-app-token",
    version: "v1.11.0",
    sha: "5d869da34e18e7287c1daad50e0b8ea0f506ce69",
    verified: false,
  },
  pulumi: {
    repo: "pulumi/actions",
    version: "v6.0.0",
    // Placeholder: look up the tag's commit before the first run.
    sha: "0000000000000000000000000000000000000000",
    verified: false,
  },
  setupK6: {
    repo: "grafana/setup-k6-action",
    version: "v1.1.0",
    // Placeholder: look up the tag's commit before the first run.
    sha: "0000000000000000000000000000000000000000",
    verified: false,
  },
} as const satisfies Record<string, { repo: string; version: string; sha: string; verified: boolean }>;

export type ActionKey = keyof typeof ACTIONS;

/** `owner/repo@SHA`, as a step's `uses:`. */
export function action(key: ActionKey): string {
  const a = ACTIONS[key];
  return `${a.repo}@${a.sha}`;
}

/** The version a pinned `uses:` value stands for, for the comment beside it. */
export function versionOf(uses: string): string | undefined {
  return Object.values(ACTIONS).find((a) => uses === `${a.repo}@${a.sha}`)?.version;
}
