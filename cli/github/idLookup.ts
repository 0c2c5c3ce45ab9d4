import { githubClient } from "./client";
import { withProgress } from "../progress";
import type { Answer, IdTarget } from "./cicdIds";
import { ApiProblem, apiUrl, problemOf } from "./tokenCheck";

/**
 * Asks the GitHub API for the id of each target, one request each. A 404 or another refusal of one
 * request is that target's answer; a problem with the token or the API itself (401, rate limit,
 * network) stops the lookup, since no answer could be trusted.
 */
export async function lookUpIds(
  token: string,
  targets: readonly IdTarget[],
  base = apiUrl(),
): Promise<Answer[]> {
  const octokit = await githubClient(token, base);
  return withProgress(`Looking up ${targets.length} ids at ${base}`, () =>
    lookUpEach(octokit, token, targets, base),
  );
}

async function lookUpEach(
  octokit: Awaited<ReturnType<typeof githubClient>>,
  token: string,
  targets: readonly IdTarget[],
  base: string,
): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (const target of targets) {
    try {
      const r = await octokit.request(target.request);
      const id = (r.data as { id?: unknown }).id;
      answers.push(
        typeof id === "number"
          ? { ok: true, id }
          : { ok: false, status: r.status, message: `${target.request} answered without an id.` },
      );
    } catch (e) {
      const problem = problemOf(e, base, token);
      if (problem.kind !== "http") throw problem;
      const status = (e as { status?: number }).status ?? 0;
      answers.push({ ok: false, status, message: problem.message });
    }
  }
  return answers;
}

export { ApiProblem };
