import { strict as assert } from "node:assert";
import { ModelSpend } from "../components/monitoring/modelSpend";
import { dailySpendQuery } from "../components/monitoring/llmSpend";
import { checkAlertPolicy } from "../components/monitoring/limits";
import {
  dailySpendUsd,
  EXAMPLE_LOG_LINE,
  GEN_AI_FIELDS,
  llmLogMetrics,
  llmMetricNames,
  type ModelPrice,
} from "../model/llm";
import { buildComponent } from "./support/components";
import { docBlock } from "./support/docs";
import { checkMessage, monitoringType } from "./support/protoCheck";
import { baseConfig, validate } from "./support/render";

/** Model calls measured from the services' logs, and what they cost. */

const GPT4O: ModelPrice = {
  model: "gpt-4o",
  inputPerMillion: 2.5,
  outputPerMillion: 10,
  asOf: "2024-08-06",
  source: "https://openai.com/api/pricing/",
};
const MINI: ModelPrice = {
  model: "gpt-4o-mini",
  inputPerMillion: 0.15,
  outputPerMillion: 0.6,
  asOf: "2024-07-18",
  source: "https://openai.com/api/pricing/",
};

/** The value at a dotted `jsonPayload.` path of a log line. */
const at = (line: unknown, field: string) =>
  field
    .replace(/^jsonPayload\./, "")
    .split(".")
    .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], line);

describe("LLM telemetry: the metrics", () => {
  it("reads every field from the documented log line, named after OpenTelemetry's GenAI conventions", () => {
    assert.equal(at(EXAMPLE_LOG_LINE, GEN_AI_FIELDS.model), "gpt-4o");
    assert.equal(at(EXAMPLE_LOG_LINE, GEN_AI_FIELDS.system), "openai");
    assert.equal(at(EXAMPLE_LOG_LINE, GEN_AI_FIELDS.inputTokens), 812);
    assert.equal(at(EXAMPLE_LOG_LINE, GEN_AI_FIELDS.outputTokens), 164);
    assert.equal(at(EXAMPLE_LOG_LINE, GEN_AI_FIELDS.timeToFirstToken), 0.42);
    assert.equal(at(EXAMPLE_LOG_LINE, GEN_AI_FIELDS.providerStatus), 200);
  });

  it("counts calls by model, provider and status; tokens per call by model; time to first token only when streaming", () => {
    const plain = llmLogMetrics("api", { streams: false });
    assert.deepEqual(
      plain.map((m) => [m.name, m.valueExtractor ?? "count", Object.keys(m.labels).join(",")]),
      [
        ["api_llm_calls", "count", "model,system,status"],
        ["api_llm_input_tokens", "EXTRACT(jsonPayload.gen_ai.usage.input_tokens)", "model"],
        ["api_llm_output_tokens", "EXTRACT(jsonPayload.gen_ai.usage.output_tokens)", "model"],
      ],
    );
    for (const m of plain) {
      assert.match(m.filter, /resource\.labels\.service_name="api" AND jsonPayload\.event="gen_ai\.call"/);
      assert.equal(m.service, "api");
    }
    const streaming = llmLogMetrics("my-api", { streams: true });
    const ttft = streaming.find((m) => m.name === llmMetricNames("my-api").timeToFirstToken);
    assert.equal(ttft?.name, "my_api_llm_time_to_first_token");
    assert.equal(ttft?.unit, "s");
  });

  it("buckets tokens up to about a million and time to first token up to minutes", () => {
    const [, input] = llmLogMetrics("api", { streams: true });
    const b = input.buckets!;
    assert.ok(b.scale * b.growthFactor ** b.numFiniteBuckets >= 1e6);
    const ttft = llmLogMetrics("api", { streams: true })[3].buckets!;
    assert.ok(ttft.scale <= 0.01 && ttft.scale * ttft.growthFactor ** ttft.numFiniteBuckets >= 120);
  });
});

describe("LLM telemetry: spend", () => {
  it("a day at a steady token rate costs tokens x price", () => {
    // 100 input and 20 output tokens a second for a day: 8.64M and 1.728M tokens.
    assert.equal(
      Math.round(dailySpendUsd(GPT4O, 100, 20) * 100) / 100,
      Math.round((8.64 * 2.5 + 1.728 * 10) * 100) / 100,
    );
  });

  it("the alert's query prices each model's input and output token rates, per service, per day", () => {
    const q = dailySpendQuery(["api", "worker"], [GPT4O, MINI]);
    for (const service of ["api", "worker"])
      for (const [price, model] of [
        [2.5e-6, "gpt-4o"],
        [1e-5, "gpt-4o"],
        [1.5e-7, "gpt-4o-mini"],
        [6e-7, "gpt-4o-mini"],
      ] as const)
        assert.ok(
          q.includes(
            `{monitored_resource="cloud_run_revision",model="${model}"}[3600s])) or vector(0)) * ${price}`,
          ),
          `${service} ${model} ${price}`,
        );
    assert.match(q, /logging_googleapis_com:user_worker_llm_output_tokens_sum/);
    assert.match(q, /\) \* 86400$/);
    assert.equal((q.match(/ \+ /g) ?? []).length, 7, "2 services x 2 models x input and output, summed");
  });

  it("declares the spend alert and a billing budget that notifies the stack's channels", async () => {
    const b = await buildComponent(
      () =>
        new ModelSpend("model-spend", {
          project: "proj-test",
          stack: "prod",
          services: ["api"],
          spend: {
            prices: [GPT4O],
            dailyBudgetUsd: 300,
            notify: "page",
            billing: { account: "0A1B2C-3D4E5F-607182", monthlyBudgetUsd: 9000, thresholds: [0.5, 1] },
          },
          route: "page",
          channels: {
            page: ["projects/p/notificationChannels/1"],
            ticket: ["projects/p/notificationChannels/2", "projects/p/notificationChannels/1"],
          },
          autoCloseSeconds: 1800,
        }),
    );
    const policy = b.byName("model-spend-daily").inputs;
    assert.deepEqual(checkAlertPolicy(policy), []);
    const asApi = Object.fromEntries(Object.entries(policy).filter(([k]) => k !== "project"));
    assert.deepEqual(checkMessage(monitoringType("AlertPolicy"), asApi), []);
    assert.match(JSON.stringify(policy.conditions), /> 300/);
    assert.deepEqual(policy.notificationChannels, ["projects/p/notificationChannels/1"]);
    const budget = b.byName("model-spend-budget").inputs as Record<string, unknown>;
    assert.equal(budget.billingAccount, "0A1B2C-3D4E5F-607182");
    assert.deepEqual(budget.budgetFilter, { projects: ["projects/123456789012"], calendarPeriod: "MONTH" });
    assert.deepEqual(budget.amount, { specifiedAmount: { currencyCode: "USD", units: "9000" } });
    assert.deepEqual(budget.thresholdRules, [
      { thresholdPercent: 0.5, spendBasis: "CURRENT_SPEND" },
      { thresholdPercent: 1, spendBasis: "CURRENT_SPEND" },
    ]);
    assert.deepEqual(budget.allUpdatesRule, {
      monitoringNotificationChannels: [
        "projects/p/notificationChannels/1",
        "projects/p/notificationChannels/2",
      ],
    });
  });
});

describe("LLM telemetry: config", () => {
  const withLlm = (llm: unknown, service: Record<string, unknown> = { llm: {} }) =>
    baseConfig(service, { "ai-orchestra:llm": JSON.stringify(llm) });
  const price = { input: 2.5, output: 10, asOf: "2024-08-06", source: "https://openai.com/api/pricing/" };

  it("adds a logging service's metrics to the stack's, and reads dated prices", () => {
    const r = validate("prod", withLlm({ prices: { "gpt-4o": price }, dailyBudgetUsd: 100 }));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
    assert.deepEqual(
      r.config.monitoring.logMetrics.map((m) => m.name),
      ["api_llm_calls", "api_llm_input_tokens", "api_llm_output_tokens"],
    );
    assert.deepEqual(r.config.llm, {
      prices: [
        {
          model: "gpt-4o",
          inputPerMillion: 2.5,
          outputPerMillion: 10,
          asOf: "2024-08-06",
          source: "https://openai.com/api/pricing/",
        },
      ],
      dailyBudgetUsd: 100,
      notify: "page",
    });
  });

  it("refuses an undated or unsourced price, an empty table and a malformed billing account", () => {
    const paths = (llm: unknown) => {
      const r = validate("prod", withLlm(llm));
      return r.ok ? [] : r.issues.map((i) => i.path);
    };
    assert.deepEqual(paths({ prices: { "gpt-4o": { ...price, asOf: "Aug 2024" } } }), [
      "ai-orchestra:llm.prices.gpt-4o.asOf",
    ]);
    assert.deepEqual(paths({ prices: { "gpt-4o": { ...price, source: "openai" } } }), [
      "ai-orchestra:llm.prices.gpt-4o.source",
    ]);
    assert.deepEqual(paths({ prices: {} }), ["ai-orchestra:llm.prices"]);
    assert.deepEqual(
      paths({ prices: { "gpt-4o": price }, billing: { account: "123", monthlyBudgetUsd: 10 } }),
      ["ai-orchestra:llm.billing.account"],
    );
  });

  it("a hand-written log metric may not take a service's LLM metric name", () => {
    const flat = baseConfig(
      { llm: {} },
      {
        "ai-orchestra:monitoring": JSON.stringify({
          logMetrics: { api_llm_calls: { filter: 'jsonPayload.x="y"' } },
        }),
      },
    );
    const r = validate("prod", flat);
    assert.ok(!r.ok);
    assert.deepEqual(
      r.issues.map((i) => i.path),
      ["ai-orchestra:monitoring.logMetrics.api_llm_calls"],
    );
    assert.match(r.issues[0].message, /`api`'s own LLM metric/);
  });
});

describe("LLM telemetry: the docs", () => {
  it("show exactly the log line the metrics read", () => {
    const shown = docBlock('"event": "gen_ai.call"', "json");
    assert.deepEqual(JSON.parse(String(shown)), EXAMPLE_LOG_LINE);
  });
});
