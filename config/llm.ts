import { z } from "zod";
import type { LlmSpend } from "../model/llm";
import { fix } from "./errors";

/**
 * `ai-orchestra:llm`: what model calls cost (a dated price per model, with its source), the daily
 * spend that alerts, and the project's Cloud Billing budget.
 */

const usd = (what: string) =>
  z
    .number({ error: fix(`must be ${what} in US dollars.`, "write a number, e.g. 2.5.") })
    .positive({ error: fix("must be more than 0.", "write a number, e.g. 2.5.") });

const price = z.strictObject({
  input: usd("the price of a million input tokens").describe("US dollars per million input (prompt) tokens."),
  output: usd("the price of a million output tokens").describe("US dollars per million output tokens."),
  asOf: z
    .string({
      error: fix("must be the date the price was read, `YYYY-MM-DD`.", "quote it, e.g. '2026-11-01'."),
    })
    .regex(/^\d{4}-\d{2}-\d{2}$/, { error: fix("must be a date `YYYY-MM-DD`.", "e.g. '2026-11-01'.") })
    .describe("When the price was read (`YYYY-MM-DD`)."),
  source: z
    .string({ error: fix("must be the URL the price was read from.", "e.g. the provider's pricing page.") })
    .regex(/^https:\/\/\S+$/, { error: fix("must be an https:// URL.", "e.g. the provider's pricing page.") })
    .describe("Where the price was read."),
});

export const llmSchema = z
  .strictObject({
    prices: z
      .record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/, {
          error: fix("must be a model name as services log it in `gen_ai.request.model`.", "e.g. `gpt-4o`."),
        }),
        price,
      )
      .refine((p) => Object.keys(p).length > 0, {
        error: fix(
          "must price at least one model.",
          "e.g. `gpt-4o: {input: 2.5, output: 10, asOf: ..., source: ...}`.",
        ),
      })
      .describe(
        "Per model (as logged in `gen_ai.request.model`): `{input, output, asOf, source}`, USD per million tokens.",
      ),
    dailyBudgetUsd: usd("a daily budget")
      .optional()
      .describe("Alert when the last hour's model spend, kept up for a day, would exceed this."),
    notify: z
      .enum(["page", "ticket"], {
        error: fix(
          "must be `page` or `ticket`.",
          "`page` wakes someone up; `ticket` waits for working hours.",
        ),
      })
      .default("page")
      .describe("Who hears about the daily spend alert: a runaway loop spends real money by the hour."),
    billing: z
      .strictObject({
        account: z
          .string({ error: "must be a billing account id." })
          .regex(/^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$/, {
            error: fix(
              "must be a billing account id `XXXXXX-XXXXXX-XXXXXX`.",
              "see `gcloud billing accounts list`.",
            ),
          })
          .describe("The billing account the project is charged to."),
        monthlyBudgetUsd: usd("a monthly budget").describe("The project's monthly budget."),
        thresholds: z
          .array(
            z
              .number({ error: "must be a fraction of the budget." })
              .positive({ error: fix("must be more than 0.", "e.g. 0.5 for half the budget.") })
              .max(10, { error: fix("must be at most 10 (1000%).", "e.g. 1 for the whole budget.") }),
          )
          .min(1, { error: fix("must name at least one threshold.", "e.g. [0.5, 0.9, 1].") })
          .default([0.5, 0.9, 1])
          .describe("Fractions of the budget that notify the stack's channels."),
      })
      .optional()
      .describe("A Cloud Billing budget for the stack's project: `{account, monthlyBudgetUsd, thresholds}`."),
  })
  .describe(
    "Model spend: dated prices per model, a daily spend alert and a Cloud Billing budget (docs/llm.md).",
  );

export function toLlmSpend(l: z.output<typeof llmSchema>): LlmSpend {
  return {
    prices: Object.entries(l.prices).map(([model, p]) => ({
      model,
      inputPerMillion: p.input,
      outputPerMillion: p.output,
      asOf: p.asOf,
      source: p.source,
    })),
    ...(l.dailyBudgetUsd !== undefined ? { dailyBudgetUsd: l.dailyBudgetUsd } : {}),
    notify: l.notify,
    ...(l.billing ? { billing: { ...l.billing } } : {}),
  };
}
