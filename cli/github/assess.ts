import type { Check } from "../checks";
import {
  expiryStatus,
  hasScopes,
  KIND_TEXT,
  missingScopes,
  PURPOSE_TEXT,
  REQUIRED_PERMISSIONS,
  REQUIRED_SCOPES,
  timeLeftText,
  type Purpose,
  type TokenKind,
} from "./token";
import type { ApiFacts } from "./tokenCheck";

export interface Assessment {
  readonly kind: TokenKind;
  readonly source: string;
  readonly checks: readonly Check[];
  readonly recommendations: readonly string[];
}

export interface AssessInput {
  readonly kind: TokenKind;
  readonly source: string;
  readonly facts: ApiFacts;
  readonly purposes: readonly Purpose[];
  /** `owner/name` probed for fine-grained and app tokens; none means their rights cannot be probed. */
  readonly repo?: string;
  readonly now: Date;
  readonly warnDays: number;
  /** Running inside GitHub Actions (GITHUB_ACTIONS=true). */
  readonly inActions?: boolean;
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** Turns what the API said into ok / warn / fail findings, each with its fix. */
export function assessToken(input: AssessInput): Assessment {
  const { kind, facts, purposes } = input;
  const checks: Check[] = [
    { id: "token", status: "ok", detail: `${KIND_TEXT[kind]} from ${input.source}, as ${facts.identity}` },
  ];

  if (kind === "refresh") {
    checks.push({
      id: "token-kind",
      status: "fail",
      detail: "a refresh token cannot call the API; it only buys new user tokens",
      fix: "use the user token it refreshes, or a GitHub App installation token",
    });
  }

  const expiry = expiryStatus(facts.expiresAt, input.now, input.warnDays);
  if (expiry.state === "never") {
    checks.push({
      id: "expiry",
      status: kind === "classic" ? "warn" : "ok",
      detail: "no expiry date",
      fix:
        kind === "classic"
          ? "give personal tokens an expiry; a leaked token without one works forever"
          : undefined,
    });
  } else if (expiry.state === "expired") {
    checks.push({
      id: "expiry",
      status: "fail",
      detail: `expired on ${day(expiry.expiresAt)}`,
      fix: "create a new token and store it with `orchestra auth login`",
    });
  } else {
    checks.push({
      id: "expiry",
      status: expiry.state === "expiring" ? "warn" : "ok",
      detail: `expires on ${day(expiry.expiresAt)}, ${timeLeftText((expiry.expiresAt.getTime() - input.now.getTime()) / 86_400_000)}`,
      fix:
        expiry.state === "expiring"
          ? "rotate it now: regenerate the token on GitHub, then `orchestra auth login`"
          : undefined,
    });
  }

  for (const purpose of purposes) checks.push(purposeCheck(input, purpose));

  const recommendations: string[] = [];
  if (kind === "classic" || kind === "fine-grained") {
    recommendations.push(
      "For CI, use a GitHub App installation token (actions/create-github-app-token) instead of a personal token: it is scoped to the repositories, expires within an hour and is not tied to a person.",
    );
  }
  return { kind, source: input.source, checks, recommendations };
}

function purposeCheck(input: AssessInput, purpose: Purpose): Check {
  const { kind, facts } = input;
  const id = `for-${purpose}`;
  const what = PURPOSE_TEXT[purpose];

  if (facts.scopes !== undefined || hasScopes(kind)) {
    const scopes = facts.scopes ?? [];
    const missing = missingScopes(scopes, REQUIRED_SCOPES[purpose]);
    const has = scopes.length ? scopes.join(", ") : "none";
    if (missing.length === 0) return { id, status: "ok", detail: `can ${what} (scopes: ${has})` };
    return {
      id,
      status: "fail",
      detail: `cannot ${what}: missing scope${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (scopes: ${has})`,
      fix:
        purpose === "workflows"
          ? "add the `workflow` scope to the token (without it GitHub refuses any push that touches .github/workflows)"
          : `add the ${missing.map((m) => `\`${m}\``).join(", ")} scope to the token`,
    };
  }

  const needs = REQUIRED_PERMISSIONS[purpose].join(", ");
  if (purpose === "workflows" && kind === "app-installation" && input.inActions) {
    return {
      id,
      status: "fail",
      detail: `cannot ${what}: Actions' GITHUB_TOKEN can never be given the workflows permission`,
      fix: "use a GitHub App installation token with Workflows: write (actions/create-github-app-token)",
    };
  }
  if (!input.repo) {
    return {
      id,
      status: "warn",
      detail: `cannot tell whether this ${kind} token may ${what}: no repository to probe`,
      fix: "pass --repo OWNER/NAME (or run inside a clone whose origin is on GitHub)",
    };
  }
  const probe = facts.probes.find((p) => p.purpose === purpose);
  if (!probe) {
    return { id, status: "warn", detail: `not probed; it needs ${needs}` };
  }
  if (probe.outcome === "missing-permission") {
    const lacking = probe.accepted.map((alt) => alt.join(" + ")).join(" or ");
    return {
      id,
      status: "fail",
      detail: `cannot ${what} on ${input.repo}: \`${probe.request}\` was refused (${probe.status}); it needs ${lacking}`,
      fix: `grant the token ${needs} on ${input.repo}`,
    };
  }
  if (probe.outcome === "error") {
    return {
      id,
      status: "warn",
      detail: `\`${probe.request}\` answered ${probe.status}; could not tell whether it may ${what}`,
    };
  }
  // A read was allowed; writes cannot be probed without writing.
  return {
    id,
    status: "ok",
    detail: `may read what it needs on ${input.repo}; to ${what} it also needs ${needs} (not probed: that would write)`,
  };
}
