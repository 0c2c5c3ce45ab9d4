import { z } from "zod";
import { LEVELS, RULE_IDS, type Level, type PolicyConfig, type RuleId } from "../model/policy";
import { POLICY_DEFAULTS } from "./defaults";
import type { Environment } from "../model/types";
import { fix } from "./errors";

const level = z.enum(LEVELS, {
  error: fix(`must be one of ${LEVELS.join(", ")}.`, "mandatory fails the preview; advisory only reports."),
});

/** `ai-orchestra:policy`: how strictly the guardrails apply to this stack (README, Guardrails). */
export const policySchema = z.strictObject(
  {
    enforcement: z
      .enum(["mandatory", "advisory"], {
        error: fix("must be mandatory or advisory.", "turn single rules off under `rules`."),
      })
      .optional(),
    maxCanaryPercent: z
      .number({ error: fix("must be a whole number from 1 to 100.", "e.g. 50.") })
      .int({ error: fix("must be a whole number.", "round it, e.g. 50.") })
      .min(1, { error: fix("must be at least 1.", "a canary at 0% is a dark launch and always allowed.") })
      .max(100, { error: fix("must be at most 100.", "use 100 to allow any canary percent.") })
      .optional(),
    rules: z
      .partialRecord(z.enum(RULE_IDS, { error: `must be a rule: ${RULE_IDS.join(", ")}.` }), level, {
        error: fix("must map rule ids to levels.", "e.g. `rules: {image-digest: advisory}`."),
      })
      .optional(),
  },
  { error: fix("must be an object.", "e.g. `{enforcement: mandatory, maxCanaryPercent: 50}`.") },
);

export type RawPolicy = z.infer<typeof policySchema>;

export function resolvePolicy(raw: RawPolicy | undefined, environment: Environment): PolicyConfig {
  const defaults = POLICY_DEFAULTS[environment];
  const base = raw?.enforcement ?? defaults.enforcement;
  return {
    enforcement: base,
    maxCanaryPercent: raw?.maxCanaryPercent ?? defaults.maxCanaryPercent,
    levels: Object.fromEntries(RULE_IDS.map((id) => [id, raw?.rules?.[id] ?? base])) as Record<RuleId, Level>,
  };
}
