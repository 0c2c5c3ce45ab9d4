import type * as gcp from "@pulumi/gcp";
import { llmMetricNames, type LlmSpend, type ModelPrice } from "../../model/llm";
import type { AlertRoute } from "../../model/monitoring";
import { spec, type PolicySpec } from "./policies";

type Condition = gcp.types.input.monitoring.AlertPolicyCondition;

/** A log-based distribution metric's value sum in PromQL (`logging.googleapis.com/user/X` → `..._sum`). */
const tokenSum = (metric: string, model: string, window: string) =>
  `sum(rate(logging_googleapis_com:user_${metric}_sum{monitored_resource="cloud_run_revision",model=${JSON.stringify(model)}}[${window}]))`;

/**
 * US dollars per day at the rate of the last `windowSeconds`: each priced model's input and output
 * tokens per second across the services, times its price. A model without calls has no series and
 * counts as 0. Models missing from the price table are not counted (the docs say to add them).
 */
export function dailySpendQuery(
  services: readonly string[],
  prices: readonly ModelPrice[],
  windowSeconds = 3600,
): string {
  const w = `${windowSeconds}s`;
  const terms = services.flatMap((service) => {
    const names = llmMetricNames(service);
    return prices.flatMap((p) => [
      `(${tokenSum(names.inputTokens, p.model, w)} or vector(0)) * ${p.inputPerMillion / 1e6}`,
      `(${tokenSum(names.outputTokens, p.model, w)} or vector(0)) * ${p.outputPerMillion / 1e6}`,
    ]);
  });
  return `(\n  ${terms.join("\n  + ")}\n) * 86400`;
}

/** Alerts when the last hour's model spend, kept up for a day, would exceed the stack's daily budget. */
export function spendPolicy(
  stack: string,
  services: readonly string[],
  spend: LlmSpend & { readonly dailyBudgetUsd: number },
  route: AlertRoute,
  autoCloseSeconds: number,
): PolicySpec {
  const oldest = [...spend.prices].sort((a, b) => a.asOf.localeCompare(b.asOf))[0];
  const condition: Condition = {
    displayName: `model spend above $${spend.dailyBudgetUsd} a day at the last hour's rate`,
    conditionPrometheusQueryLanguage: {
      query: `${dailySpendQuery(services, spend.prices)} > ${spend.dailyBudgetUsd}`,
      duration: "900s",
      evaluationInterval: "60s",
    },
  };
  return spec(
    { service: "models", stack, autoCloseSeconds },
    "llm-spend",
    "model spend rate above the daily budget",
    route,
    [condition],
    {
      means:
        `At the last hour's token rate, ${services.map((s) => `\`${s}\``).join(", ")} would spend more than ` +
        `$${spend.dailyBudgetUsd} on model calls in a day (prices from \`ai-orchestra:llm.prices\`, the oldest dated ${oldest?.asOf ?? "-"}).`,
      steps: [
        "Open the overview dashboard: which model's calls or tokens per call went up, and from which service?",
        "A canary that sends longer prompts or retries shows on its service's dashboard, split by revision: roll it back.",
        "Abuse or a loop: rate-limit at the load balancer (Cloud Armor) or pause the worker's queue.",
      ],
    },
  );
}
