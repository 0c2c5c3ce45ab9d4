import type {
  EnforcementLevel,
  Policies,
  ReportViolation,
  ResourceValidationArgs,
  StackValidationArgs,
} from "@pulumi/policy";
import type { Level, RuleId } from "../model/policy";
import { RULES } from "./rules";
import { appliesIn, runRule, type RuleOutcome } from "./rules/run";
import type { PolicyResource, Rule, RuleContext } from "./rules/types";
import { normalizeUnknowns } from "./rules/values";

/** What the pack knows about the stack under preview, or why it does not. */
export type PackContext =
  | { readonly ok: true; readonly ctx: RuleContext; readonly levels: Readonly<Record<RuleId, Level>> }
  | { readonly ok: false; readonly reason: string };

/** @pulumi/policy's key for the plain object behind its unknown-checking proxy (proxy.ts). */
const PROXY_TARGET = "__getSpecialProxyTarget";

/**
 * Props as plain data. The engine's props throw on any access to an unknown value; the rules would
 * rather see `UNKNOWN` and skip with a reason, so read the object behind the proxy.
 */
export function plainProps(props: Record<string, unknown>): Record<string, unknown> {
  const target = (props as Record<string, unknown>)[PROXY_TARGET];
  return normalizeUnknowns(target && typeof target === "object" ? target : props) as Record<string, unknown>;
}

function toResource(r: { type: string; name: string; urn: string; props: Record<string, unknown> }) {
  return { type: r.type, name: r.name, urn: r.urn, props: plainProps(r.props) } satisfies PolicyResource;
}

/** Reports an outcome the engine's way: each violation with its fix; skips as "not applicable". */
function report(
  outcome: RuleOutcome,
  reportViolation: ReportViolation,
  notApplicable: (reason?: string) => never,
): void {
  for (const v of outcome.violations) reportViolation(`${v.message}\nFix: ${v.fix}`, v.urn);
  if (outcome.skipped.length > 0) notApplicable(outcome.skipped.map((s) => s.reason).join("; "));
}

function enforcement(rule: Rule, pack: PackContext): EnforcementLevel {
  // Without the stack's config the level is unknown: report, never block.
  return pack.ok ? pack.levels[rule.id] : "advisory";
}

/**
 * One Pulumi policy per rule, calling the same rule functions `orchestra plan` runs. Levels come from the
 * stack's `ai-orchestra:policy` (mandatory in prod and staging, advisory in dev); the pack's own config
 * (`pulumi preview --policy-pack-config`) can still override any policy's level.
 */
export function buildPolicies(load: () => PackContext): Policies {
  const pack = load();
  const guard = (rule: Rule, notApplicable: (reason?: string) => never): RuleContext => {
    if (!pack.ok) notApplicable(pack.reason);
    if (!appliesIn(rule, pack.ctx))
      notApplicable(`applies in ${rule.environments?.join(", ")} stacks; this is ${pack.ctx.environment}`);
    return pack.ctx;
  };
  return RULES.map((rule) => {
    const base = { name: rule.id, description: rule.description, enforcementLevel: enforcement(rule, pack) };
    if (rule.kind === "resource") {
      return {
        ...base,
        validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
          if (!rule.types.includes(args.type)) return;
          const ctx = guard(rule, args.notApplicable);
          report(runRule(rule, [toResource(args)], ctx), reportViolation, args.notApplicable);
        },
      };
    }
    return {
      ...base,
      validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
        const ctx = guard(rule, args.notApplicable);
        report(runRule(rule, args.resources.map(toResource), ctx), reportViolation, args.notApplicable);
      },
    };
  });
}
