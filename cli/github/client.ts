import type { Octokit } from "@octokit/core";

/**
 * GitHub's official REST client for the CLI: the given API root (GitHub Enterprise Server differs),
 * a 15 s timeout per request, and Octokit's own logging off, since the CLI explains failures itself.
 * Loaded on use: only the commands that call GitHub pay for it.
 */
export async function githubClient(token: string, baseUrl: string): Promise<Octokit> {
  const { Octokit } = await import("@octokit/core");
  return new Octokit({
    auth: token,
    baseUrl,
    userAgent: "orchestra-cli",
    request: { signal: AbortSignal.timeout(15_000) },
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
}
