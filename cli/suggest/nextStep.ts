import { timeLeftText } from "../github/token";

/** What the suggestion engine knows about the project and the user. */
export interface ProjectState {
  /** Stacks whose `Pulumi.<stack>.yaml` has uncommitted changes. */
  readonly dirtyStacks: readonly string[];
  /** Canaries taking live traffic (not dark, not rolled back). */
  readonly canaries: readonly {
    readonly stack: string;
    readonly service: string;
    readonly percent: number;
  }[];
  /** Days (with fractions) until the GitHub token in use expires, as its last `auth check` said; negative once expired. */
  readonly tokenDaysLeft?: number;
}

export interface Invocation {
  /** Command path, e.g. `canary set`, `preview`. */
  readonly command: string;
  readonly exitCode: number;
  /** The `--stack` the command was run with, if any. */
  readonly stack?: string;
}

/** Canary steps worth stopping at, as common release managers use (5, 20, 50, 80, then promote). */
export const CANARY_STEPS = [5, 20, 50, 80] as const;

export function nextCanaryPercent(percent: number): number | undefined {
  return CANARY_STEPS.find((s) => s > percent);
}

export const TOKEN_WARN_DAYS = 14;

/** The one next step worth suggesting after a command, most urgent first; undefined when none is. */
export function nextStep(inv: Invocation, state: ProjectState): string | undefined {
  if (state.tokenDaysLeft !== undefined && inv.command !== "auth login") {
    if (state.tokenDaysLeft < 0)
      return "your GitHub token has expired: create a new one, then `orchestra auth login` (or update GITHUB_TOKEN).";
    if (state.tokenDaysLeft < TOKEN_WARN_DAYS)
      return `your GitHub token expires ${timeLeftText(state.tokenDaysLeft)}: rotate it, then \`orchestra auth login\`.`;
  }

  // After a command on one stack failed, its error is the next thing to deal with: nothing about other
  // stacks, and not the command that just failed again.
  const failedOn = inv.exitCode !== 0 ? inv.stack : undefined;
  const relevant = (stack: string) => failedOn === undefined || stack === failedOn;
  const dirty = state.dirtyStacks
    .filter(relevant)
    .sort((a, b) => Number(b === inv.stack) - Number(a === inv.stack));
  if (dirty.length > 0 && !(failedOn && ["preview", "diff", "up"].includes(inv.command))) {
    const stack = dirty[0];
    if ((inv.command === "preview" || inv.command === "diff") && inv.stack === stack && inv.exitCode === 0)
      return `Pulumi.${stack}.yaml has uncommitted changes: commit them and open a pull request (\`orchestra diff --stack ${stack} --markdown\` writes its comment).`;
    return `Pulumi.${stack}.yaml has uncommitted changes: preview them with \`orchestra preview --stack ${stack}\` (or \`orchestra diff --stack ${stack}\` offline).`;
  }

  if (failedOn) return undefined;
  const canaries = [...state.canaries].sort(
    (a, b) => Number(b.stack === inv.stack) - Number(a.stack === inv.stack),
  );
  if (canaries.length > 0) {
    const c = canaries[0];
    const next = nextCanaryPercent(c.percent);
    const where = `${c.service} --stack ${c.stack}`;
    return next === undefined
      ? `the ${c.service} canary on ${c.stack} takes ${c.percent}%: promote it with \`orchestra canary promote ${where}\`.`
      : `the ${c.service} canary on ${c.stack} takes ${c.percent}%: bump it with \`orchestra canary set ${c.service} ${next} --stack ${c.stack}\`, or \`orchestra canary promote ${where}\`.`;
  }
  return undefined;
}
