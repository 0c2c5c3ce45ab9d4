import type { SecretsProviderProblem } from "../../model/secretsProvider";
import type { Check } from "../checks";
import type { TokenSourceName } from "../github/keyring";
import { KIND_TEXT, type TokenKind } from "../github/token";
import type { ExecResult } from "../exec";

/** Everything doctor looked at, gathered by `gather.ts`; the functions below only judge it. */
export interface DoctorFacts {
  readonly node: { readonly version: string; readonly required: string };
  readonly pulumiVersion: ExecResult;
  /** `pulumi whoami --json`; undefined when the CLI is missing. */
  readonly pulumiWhoami?: ExecResult;
  readonly adc: { readonly file: string; readonly exists: boolean; readonly fromEnv: boolean };
  readonly docker: ExecResult;
  readonly token?: { readonly source: TokenSourceName; readonly kind: TokenKind };
  readonly git: {
    readonly branch?: string;
    readonly defaultBranch?: string;
    readonly dirty?: readonly string[];
  };
  readonly stacks: readonly {
    readonly stack: string;
    readonly error?: string;
    readonly warnings: number;
    /** Why CI could not build the stack's secrets manager, with the fix. */
    readonly secretsProvider?: SecretsProviderProblem;
  }[];
}

/** `20.19.1` satisfies `>=20.19`. Only the `>=X.Y[.Z]` form package.json uses is understood. */
export function satisfiesMinimum(version: string, range: string): boolean {
  const want = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(range.trim());
  const have = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  if (!want || !have) return true;
  const w = [Number(want[1]), Number(want[2] ?? 0), Number(want[3] ?? 0)];
  const h = [Number(have[1]), Number(have[2]), Number(have[3])];
  for (let i = 0; i < 3; i++) if (h[i] !== w[i]) return h[i] > w[i];
  return true;
}

/**
 * The stack a branch deploys to: the default branch to prod, `staging` and `release/*` to staging,
 * anything else to dev; undefined when that stack has no file here.
 */
export function stackForBranch(
  branch: string,
  defaultBranch: string | undefined,
  stacks: readonly string[],
): string | undefined {
  const stack =
    branch === (defaultBranch ?? "main")
      ? "prod"
      : branch === "staging" || branch.startsWith("release/")
        ? "staging"
        : "dev";
  return stacks.includes(stack) ? stack : undefined;
}

const firstLine = (text: string) => text.trim().split("\n")[0] ?? "";

export function nodeCheck(f: DoctorFacts): Check {
  const ok = satisfiesMinimum(f.node.version, f.node.required);
  return {
    id: "node",
    status: ok ? "ok" : "fail",
    detail: `Node.js ${f.node.version}${ok ? "" : `, but the project needs ${f.node.required}`}`,
    fix: ok ? undefined : `install Node.js ${f.node.required.replace(">=", "")} or newer`,
    required: true,
  };
}

export function pulumiCliCheck(f: DoctorFacts, required: boolean): Check {
  if (f.pulumiVersion.missing || f.pulumiVersion.code !== 0) {
    return {
      id: "pulumi-cli",
      status: required ? "fail" : "warn",
      detail: f.pulumiVersion.missing
        ? "the Pulumi CLI is not on PATH (plan, diff and canary work without it)"
        : `\`pulumi version\` failed: ${firstLine(f.pulumiVersion.stderr) || `exit ${f.pulumiVersion.code}`}`,
      fix: "install it: https://www.pulumi.com/docs/install/ (needed for preview and up)",
      required,
    };
  }
  return {
    id: "pulumi-cli",
    status: "ok",
    detail: `Pulumi CLI ${firstLine(f.pulumiVersion.stdout)}`,
    required,
  };
}

export function pulumiLoginCheck(f: DoctorFacts, required: boolean): Check {
  const w = f.pulumiWhoami;
  if (!w) {
    return { id: "pulumi-login", status: "warn", detail: "not checked: no Pulumi CLI", required: false };
  }
  if (w.code !== 0) {
    return {
      id: "pulumi-login",
      status: required ? "fail" : "warn",
      detail: `not logged in to a Pulumi backend${firstLine(w.stderr) ? ` (${firstLine(w.stderr)})` : ""}`,
      fix: "`pulumi login gs://ai-orchestra-pulumi-state` (the team's state bucket) or `pulumi login` for Pulumi Cloud",
      required,
    };
  }
  let detail = firstLine(w.stdout);
  try {
    const who = JSON.parse(w.stdout) as { user?: string; url?: string };
    detail = `logged in as ${who.user ?? "?"} to ${who.url ?? "?"}`;
  } catch {
    // Older CLIs print text.
  }
  return { id: "pulumi-login", status: "ok", detail, required };
}

export function adcCheck(f: DoctorFacts): Check {
  if (f.adc.exists)
    return {
      id: "gcloud-adc",
      status: "ok",
      detail: `Google credentials at ${f.adc.file}${f.adc.fromEnv ? " (GOOGLE_APPLICATION_CREDENTIALS)" : ""}`,
    };
  return {
    id: "gcloud-adc",
    status: "warn",
    detail: f.adc.fromEnv
      ? `GOOGLE_APPLICATION_CREDENTIALS names ${f.adc.file}, which does not exist`
      : "no gcloud application-default credentials (preview and up need them; plan does not)",
    fix: "`gcloud auth application-default login` on a workstation; Workload Identity Federation in CI",
    required: false,
  };
}

export function dockerCheck(f: DoctorFacts): Check {
  if (f.docker.code === 0)
    return { id: "docker", status: "ok", detail: `Docker daemon ${firstLine(f.docker.stdout)}` };
  return {
    id: "docker",
    status: "warn",
    detail: f.docker.missing
      ? "no docker CLI (only dev stacks with stable.build need it)"
      : `the Docker daemon does not answer${firstLine(f.docker.stderr) ? ` (${firstLine(f.docker.stderr)})` : ""}`,
    fix: "start Docker, or leave it: only `stable.build` in dev builds images locally",
    required: false,
  };
}

export function tokenCheck(f: DoctorFacts): Check {
  if (!f.token)
    return {
      id: "github-token",
      status: "warn",
      detail: "no GitHub token in GITHUB_TOKEN, GH_TOKEN or the OS keyring",
      fix: "`orchestra auth login`, then `orchestra auth check`",
      required: false,
    };
  return {
    id: "github-token",
    status: "ok",
    detail: `${KIND_TEXT[f.token.kind]} from ${f.token.source} (\`orchestra auth check\` asks GitHub what it may do)`,
  };
}

export function gitCheck(f: DoctorFacts): Check {
  if (!f.git.branch)
    return {
      id: "git",
      status: "warn",
      detail: "not a git repository, or no branch checked out",
      required: false,
    };
  const stack = stackForBranch(
    f.git.branch,
    f.git.defaultBranch,
    f.stacks.map((s) => s.stack),
  );
  return {
    id: "git",
    status: "ok",
    detail: `branch ${f.git.branch}${stack ? ` (maps to stack ${stack})` : ""}${f.git.dirty?.length ? `, ${f.git.dirty.length} uncommitted change${f.git.dirty.length === 1 ? "" : "s"}` : ""}`,
  };
}

export function stackChecks(f: DoctorFacts, only?: string): Check[] {
  if (only !== undefined && !f.stacks.some((s) => s.stack === only)) {
    const known = f.stacks.map((s) => s.stack).join(", ");
    return [
      {
        id: `stack-${only}`,
        status: "fail",
        detail: `there is no Pulumi.${only}.yaml${known ? ` (stacks here: ${known})` : ""}`,
        fix: `check the stack name, or create the stack: \`pulumi stack init ${only}\``,
        required: true,
      },
    ];
  }
  return f.stacks
    .filter((s) => only === undefined || s.stack === only)
    .map((s) =>
      s.error
        ? {
            id: `stack-${s.stack}`,
            status: "fail",
            detail: `Pulumi.${s.stack}.yaml is invalid:\n${s.error.replace(/^/gm, "        ")}`,
            fix: `fix the file; \`orchestra plan --stack ${s.stack}\` shows the same errors`,
            required: true,
          }
        : s.secretsProvider
          ? {
              id: `stack-${s.stack}`,
              status: "warn",
              detail: s.secretsProvider.reason,
              fix: s.secretsProvider.fix,
              required: true,
            }
          : {
              id: `stack-${s.stack}`,
              status: s.warnings > 0 ? "warn" : "ok",
              detail: `Pulumi.${s.stack}.yaml is valid${s.warnings > 0 ? ` with ${s.warnings} warning${s.warnings === 1 ? "" : "s"} (see orchestra plan)` : ""}`,
              required: true,
            },
    );
}

/** Every check `orchestra doctor` shows. Only Node.js and valid stack files are required. */
export function doctorChecks(f: DoctorFacts): Check[] {
  return [
    nodeCheck(f),
    pulumiCliCheck(f, false),
    pulumiLoginCheck(f, false),
    adcCheck(f),
    dockerCheck(f),
    tokenCheck(f),
    gitCheck(f),
    ...stackChecks(f),
  ];
}

/** The checks before `pulumi preview|up`: the CLI, its login and the stack file are required. */
export function pulumiRunChecks(f: DoctorFacts, stack: string): Check[] {
  return [
    nodeCheck(f),
    pulumiCliCheck(f, true),
    pulumiLoginCheck(f, true),
    adcCheck(f),
    ...stackChecks(f, stack),
  ];
}
