import type { Level, RuleId } from "../../model/policy";
import type { Finding, LeveledViolation, PolicyResource, Rule, RuleContext, Skip, Violation } from "./types";
import { StackFileUnread } from "./security";
import { UnknownValue } from "./values";

export interface RuleOutcome {
  readonly violations: Violation[];
  readonly skipped: Skip[];
}

/** Whether a rule applies in the context's environment at all. */
export function appliesIn(rule: Rule, ctx: RuleContext): boolean {
  return !rule.environments || rule.environments.includes(ctx.environment);
}

/**
 * Runs one rule over one resource (resource rules) or the whole stack (stack rules). A value unknown
 * during a preview never fails a rule: the rule is skipped for that resource, with the reason.
 */
export function runRule(
  rule: Rule,
  resources: readonly PolicyResource[],
  ctx: RuleContext,
  stackResource?: PolicyResource,
): RuleOutcome {
  const violations: Violation[] = [];
  const skipped: Skip[] = [];
  const attempt = (subject: PolicyResource | undefined, run: () => Finding[]) => {
    const at = subject ?? stackResource;
    try {
      for (const f of run()) {
        const r = f.resource ?? at;
        violations.push({
          rule: rule.id,
          resource: r?.name ?? ctx.stack,
          ...(r?.urn ? { urn: r.urn } : {}),
          message: f.message,
          fix: f.fix,
        });
      }
    } catch (e) {
      if (!(e instanceof UnknownValue || e instanceof StackFileUnread)) throw e;
      skipped.push({
        rule: rule.id,
        resource: at?.name ?? ctx.stack,
        ...(at?.urn ? { urn: at.urn } : {}),
        reason: `skipped: ${e.message}`,
      });
    }
  };
  if (rule.kind === "resource") {
    for (const r of resources) if (rule.types.includes(r.type)) attempt(r, () => rule.check(r, ctx));
  } else {
    attempt(undefined, () => rule.check(resources, ctx));
  }
  return { violations, skipped };
}

export interface PolicyReport {
  readonly violations: LeveledViolation[];
  readonly skipped: Skip[];
  /** Whether any violation is mandatory: `orchestra plan --policy` exits 1. */
  readonly failed: boolean;
}

/** Runs every rule that applies, at the levels the stack's config gives them. */
export function evaluate(
  rules: readonly Rule[],
  resources: readonly PolicyResource[],
  ctx: RuleContext,
  levels: Readonly<Record<RuleId, Level>>,
): PolicyReport {
  const violations: LeveledViolation[] = [];
  const skipped: Skip[] = [];
  for (const rule of rules) {
    const level = levels[rule.id];
    if (level === "disabled" || !appliesIn(rule, ctx)) continue;
    const out = runRule(rule, resources, ctx);
    violations.push(...out.violations.map((v) => ({ ...v, level })));
    skipped.push(...out.skipped);
  }
  return { violations, skipped, failed: violations.some((v) => v.level === "mandatory") };
}
