import { action } from "./pins";
import type { Step } from "./types";

/** Checks out without leaving the token in `.git/config`, so later steps cannot reuse it. */
export function checkout(extra: Readonly<Record<string, string | number | boolean>> = {}): Step {
  return { name: "Check out", uses: action("checkout"), with: { "persist-credentials": false, ...extra } };
}

/** Node from `.nvmrc`-free config: the engines' major version, with npm's download cache. */
export function setupNode(cacheDependencyPath?: string): Step {
  return {
    name: "Set up Node.js",
    uses: action("setupNode"),
    with: {
      "node-version": 20,
      cache: "npm",
      ...(cacheDependencyPath ? { "cache-dependency-path": cacheDependencyPath } : {}),
    },
  };
}

export const npmCi: Step = { name: "Install dependencies", run: "npm ci --no-audit --no-fund" };

/** Exchanges the job's GitHub OIDC token for short-lived Google credentials: no keys. */
export function gcpAuth(provider: string, serviceAccount: string, accessToken = false): Step {
  return {
    name: "Authenticate to Google Cloud",
    id: "auth",
    uses: action("gcpAuth"),
    with: {
      workload_identity_provider: provider,
      service_account: serviceAccount,
      ...(accessToken ? { token_format: "access_token" } : {}),
    },
  };
}

/**
 * A GitHub App installation token, valid for an hour, instead of a personal token. The App's id is a
 * repository variable and its private key a repository secret, both written by the owning stack.
 */
export function appToken(
  repositories?: string,
  permissions: Readonly<Record<string, "read" | "write">> = {},
): Step {
  return {
    name: "Create a GitHub App token",
    id: "app-token",
    uses: action("appToken"),
    with: {
      "app-id": "${{ vars.DELIVERY_APP_ID }}",
      "private-key": "${{ secrets.DELIVERY_APP_PRIVATE_KEY }}",
      owner: "${{ github.repository_owner }}",
      ...(repositories ? { repositories } : {}),
      ...Object.fromEntries(Object.entries(permissions).map(([k, v]) => [`permission-${k}`, v])),
    },
  };
}
