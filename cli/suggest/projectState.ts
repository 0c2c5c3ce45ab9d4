import { spawnSync } from "node:child_process";
import { listStacks, readStackConfig } from "../../render/stackFile";
import { readTokenMemo, tokenFingerprint } from "../history/stateDir";
import type { ProjectState } from "./nextStep";

interface RawService {
  canary?: { percent?: unknown; phase?: unknown };
}

/** Canaries taking live traffic in one stack, read from the YAML alone (validation is doctor's job, and slow). */
export function liveCanaries(
  stack: string,
  servicesJson: string | undefined,
): { stack: string; service: string; percent: number }[] {
  if (!servicesJson) return [];
  let services: Record<string, RawService>;
  try {
    services = JSON.parse(servicesJson) as Record<string, RawService>;
  } catch {
    return [];
  }
  return Object.entries(services ?? {}).flatMap(([service, s]) => {
    const percent = s?.canary?.percent;
    // Only a serving canary takes traffic: a staged one is not in the list yet, a rolled-back one no more.
    return typeof percent === "number" && percent > 0 && s.canary?.phase === "serving"
      ? [{ stack, service, percent }]
      : [];
  });
}

/**
 * Reads the project's state for suggestions; anything it cannot read is simply left out. The last token
 * check's expiry counts only when it was about `currentToken` (its fingerprint), the token in use now.
 */
export function readProjectState(
  dir: string | undefined,
  now = new Date(),
  currentToken?: string,
): ProjectState {
  const memo = readTokenMemo();
  const sameToken = currentToken !== undefined && memo?.fingerprint === tokenFingerprint(currentToken);
  const expires = sameToken && memo?.expiresAt ? Date.parse(memo.expiresAt) : NaN;
  const tokenDaysLeft = Number.isFinite(expires) ? (expires - now.getTime()) / 86_400_000 : undefined;
  if (!dir) return { dirtyStacks: [], canaries: [], tokenDaysLeft };

  const stacks = listStacks(dir);
  const git = spawnSync("git", ["status", "--porcelain", "--", ...stacks.map((s) => `Pulumi.${s}.yaml`)], {
    cwd: dir,
    encoding: "utf8",
    timeout: 5000,
  });
  const dirtyStacks =
    git.status === 0
      ? git.stdout
          .split("\n")
          .map((l) => /Pulumi\.(.+)\.ya?ml$/.exec(l.slice(3))?.[1])
          .filter((s): s is string => s !== undefined && stacks.includes(s))
      : [];

  const canaries = stacks.flatMap((stack) => {
    try {
      return liveCanaries(stack, readStackConfig(dir, stack).flat["ai-orchestra:services"]);
    } catch {
      return [];
    }
  });
  return { dirtyStacks, canaries, tokenDaysLeft };
}
