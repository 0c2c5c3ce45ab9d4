import type { Octokit } from "@octokit/core";
import ms from "ms";
import { CliError } from "../output";

/** How long one GitHub request may take, headers and body: `ORCHESTRA_GITHUB_TIMEOUT` (e.g. `30s`), else 15 s. */
export function requestTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ORCHESTRA_GITHUB_TIMEOUT?.trim();
  if (!raw) return 15_000;
  const value = ms(raw as ms.StringValue);
  if (typeof value !== "number" || !(value > 0))
    throw new CliError(`ORCHESTRA_GITHUB_TIMEOUT=${raw} is not a duration.\nFix: e.g. \`30s\` or \`2m\`.`, 2);
  return value;
}

/**
 * GitHub's official REST client for the CLI: the given API root (GitHub Enterprise Server differs),
 * a timeout for each request, and Octokit's own logging off, since the CLI explains failures itself.
 * Loaded on use: only the commands that call GitHub pay for it.
 */
export async function githubClient(token: string, baseUrl: string): Promise<Octokit> {
  const timeout = requestTimeoutMs();
  const { Octokit } = await import("@octokit/core");
  return new Octokit({
    auth: token,
    baseUrl,
    userAgent: "orchestra-cli",
    // A signal of its own for each request: one given to the client would be shared by all of them.
    request: {
      fetch: (url: string, init: RequestInit) =>
        fetch(url, { ...init, signal: AbortSignal.timeout(timeout) }),
    },
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
}
