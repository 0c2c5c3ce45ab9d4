import { spawnSync } from "node:child_process";
import { anyRequiredFailed, formatChecks } from "../checks";
import { assessToken } from "./assess";
import { findToken, keyringDisabled, storeKeyringToken, deleteKeyringToken } from "./keyring";
import { readSecret } from "./readSecret";
import { DEFAULT_WARN_DAYS, KIND_TEXT, PURPOSES, repoFromRemote, tokenKind, type Purpose } from "./token";
import { ApiProblem, apiUrl, fetchTokenFacts } from "./tokenCheck";
import { tokenFingerprint, writeTokenMemo } from "../history/stateDir";
import { withProgress } from "../progress";
import { CliError, color, errColor, findProjectDir, printJson } from "../output";

/** `owner/name` of the origin remote, when it looks like a GitHub repository. */
function originRepo(): string | undefined {
  const r = spawnSync("git", ["remote", "get-url", "origin"], {
    cwd: findProjectDir() ?? process.cwd(),
    encoding: "utf8",
    timeout: 5000,
  });
  return r.status === 0 ? repoFromRemote(r.stdout) : undefined;
}

const PULUMI_SECRET_HELP =
  "Keep it as a Pulumi secret instead, encrypted in the stack file by the stack's secrets provider:\n" +
  "  pulumi config set --secret github:token --stack STACK     (paste the token at the prompt)\n" +
  "and export it for orchestra in the shell that needs it:\n" +
  "  export GITHUB_TOKEN=$(pulumi config get github:token --stack STACK)\n" +
  "Never put a token in a plain file or in shell history.";

export interface AuthCheckOptions {
  readonly for: Purpose | "all";
  readonly repo?: string;
  readonly warnDays?: number;
  readonly json?: boolean;
}

export async function authCheck(opts: AuthCheckOptions): Promise<void> {
  const warnDays = opts.warnDays ?? DEFAULT_WARN_DAYS;
  const purposes = opts.for === "all" ? PURPOSES : [opts.for];
  const found = await findToken();
  if (!found) {
    const message =
      "No GitHub token: set GITHUB_TOKEN (or GH_TOKEN), or store one with `orchestra auth login`." +
      (keyringDisabled() ? "" : " The OS keyring has none.");
    if (opts.json) printJson({ ok: false, token: null, error: { kind: "no-token", message } });
    throw new CliError(message);
  }
  const kind = tokenKind(found.token);
  const repo = opts.repo ?? originRepo();
  let facts;
  try {
    facts = await withProgress(`Asking ${apiUrl()} about the token`, () =>
      fetchTokenFacts(found.token, kind, purposes, repo),
    );
  } catch (e) {
    if (!(e instanceof ApiProblem)) throw e;
    if (opts.json)
      printJson({
        ok: false,
        token: { kind, source: found.source },
        apiUrl: apiUrl(),
        error: { kind: e.kind, message: e.message, resetAt: e.resetAt?.toISOString() },
      });
    throw new CliError(`${KIND_TEXT[kind]} from ${found.source}: ${e.message}`);
  }
  const result = assessToken({
    kind,
    source: found.source,
    facts,
    purposes,
    repo,
    now: new Date(),
    warnDays,
    inActions: process.env.GITHUB_ACTIONS === "true",
  });
  writeTokenMemo({
    checkedAt: new Date().toISOString(),
    kind,
    source: found.source,
    expiresAt: facts.expiresAt?.toISOString(),
    fingerprint: tokenFingerprint(found.token),
  });
  const ok = !anyRequiredFailed(result.checks);
  if (opts.json) {
    printJson({
      ok,
      token: {
        kind,
        source: found.source,
        identity: facts.identity,
        scopes: facts.scopes ?? null,
        expiresAt: facts.expiresAt?.toISOString() ?? null,
      },
      apiUrl: facts.apiUrl,
      repo: repo ?? null,
      checks: result.checks,
      recommendations: result.recommendations,
    });
  } else {
    const lines = [`GitHub token check against ${facts.apiUrl}`, formatChecks(result.checks)];
    for (const r of result.recommendations) lines.push("", `${color.bold("tip:")} ${r}`);
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  if (!ok) process.exitCode = 1;
}

export async function authLogin(): Promise<void> {
  const token = (await readSecret("GitHub token:")).trim();
  if (!token) throw new CliError("No token given; nothing was stored.", 2);
  if (/\s/.test(token))
    throw new CliError("That does not look like a token (it contains spaces); nothing was stored.", 2);
  const kind = tokenKind(token);
  const stored = await storeKeyringToken(token);
  if (!stored.ok) {
    throw new CliError(
      `No OS keyring to keep the token in (${stored.reason}); nothing was stored.\n${PULUMI_SECRET_HELP}`,
    );
  }
  process.stdout.write(
    `${color.green("✓")} ${KIND_TEXT[kind]} stored in the OS keyring (service "orchestra"). Check it with \`orchestra auth check\`.\n`,
  );
  if (process.env.GITHUB_TOKEN || process.env.GH_TOKEN)
    process.stderr.write(
      `${errColor.yellow("note:")} GITHUB_TOKEN / GH_TOKEN is set and wins over the keyring.\n`,
    );
}

export async function authLogout(): Promise<void> {
  const r = await deleteKeyringToken();
  if (!r.ok) throw new CliError(`Could not remove the token from the OS keyring: ${r.reason}`);
  process.stdout.write("The GitHub token is no longer in the OS keyring.\n");
}
