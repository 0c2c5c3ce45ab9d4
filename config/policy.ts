import { z } from "zod";
import { LEVELS, RULE_IDS, type Level, type PolicyConfig, type RuleId } from "../model/policy";
import type { Environment } from "../model/types";
import { fix } from "./errors";

const level = z.enum(LEVELS, {
  error: fix(`must be one of ${LEVELS.join(", ")}.`, "mandatory fails the preview; advisory only reports."),
});

/**
 * `ai-orchestra:policy`: how strictly the guardrails apply to this stack (docs/guardrails.md). Prod and
 * staging fail on a violation, dev reports only; in prod a canary above 80% should be promoted instead
 * (the steps are 5, 20, 50, 80).
 */
export const policySchema = (environment: Environment) =>
  z
    .strictObject(
      {
        enforcement: z
          .enum(["mandatory", "advisory"], {
            error: fix("must be mandatory or advisory.", "turn single rules off under `rules`."),
          })
          .default(environment === "dev" ? "advisory" : "mandatory")
          .describe("The level of every rule the stack does not override."),
        maxCanaryPercent: z
          .number({ error: fix("must be a whole number from 1 to 100.", "e.g. 50.") })
          .int({ error: fix("must be a whole number.", "round it, e.g. 50.") })
          .min(1, {
            error: fix("must be at least 1.", "a canary at 0% is a dark launch and always allowed."),
          })
          .max(100, { error: fix("must be at most 100.", "use 100 to allow any canary percent.") })
          .default(environment === "prod" ? 80 : 100)
          .describe("The highest percent a canary may take; above it, promote."),
        rules: z
          .partialRecord(z.enum(RULE_IDS, { error: `must be a rule: ${RULE_IDS.join(", ")}.` }), level, {
            error: fix("must map rule ids to levels.", "e.g. `rules: {image-digest: advisory}`."),
          })
          .default({})
          .describe(`A level per rule (${LEVELS.join(", ")}), e.g. \`{image-digest: advisory}\`.`),
      },
      { error: fix("must be an object.", "e.g. `{enforcement: mandatory, maxCanaryPercent: 50}`.") },
    )
    .transform(({ enforcement, maxCanaryPercent, rules }): PolicyConfig => ({
      enforcement,
      maxCanaryPercent,
      levels: Object.fromEntries(RULE_IDS.map((id) => [id, rules[id] ?? enforcement])) as Record<
        RuleId,
        Level
      >,
    }))
    .describe(
      "Guardrails: {enforcement: mandatory|advisory, maxCanaryPercent, rules: {RULE: mandatory|advisory|disabled}}. Defaults: mandatory in prod and staging, advisory in dev; a canary may take at most 80% in prod.",
    );

/** A stack's guardrail settings from its `ai-orchestra:policy` (unset: `{}`). */
export function resolvePolicy(raw: unknown, environment: Environment): PolicyConfig {
  return policySchema(environment).parse(raw ?? {});
}
