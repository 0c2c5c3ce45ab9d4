import { strict as assert } from "node:assert";
import { BURN_RATE_TIERS, burnRateThreshold, burnRateFilter } from "../components/monitoring/burnRate";
import { channelType, routeChannels } from "../components/monitoring/channels";
import { serviceDashboard, overviewDashboard, COLUMNS } from "../components/monitoring/dashboard";
import { checkAlertPolicy, checkSlo, checkUptimeCheck } from "../components/monitoring/limits";
import {
  burnRatePolicies,
  canaryPolicy,
  errorRatioPolicy,
  saturationPolicy,
} from "../components/monitoring/policies";
import { canaryWorseThanStableQuery } from "../components/monitoring/promql";
import { serviceSlos } from "../components/monitoring/slos";
import { uptimeCheckTarget } from "../components/monitoring/uptime";
import { MONITORING_ENVIRONMENT_DEFAULTS } from "../config/monitoring";
import type { ConfigIssue } from "../config/errors";
import { checkMessage, dashboardType } from "./support/protoCheck";
import { baseConfig, validate } from "./support/render";

type Json = Record<string, unknown>;

const PROD = MONITORING_ENVIRONMENT_DEFAULTS.prod;
const ctx = { service: "api", stack: "prod", autoCloseSeconds: 1800 };

function monitoringIssues(monitoring: unknown, extra: Record<string, unknown> = {}): ConfigIssue[] {
  const result = validate("prod", baseConfig({}, { "ai-orchestra:monitoring": monitoring, ...extra }));
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : [...result.issues];
}

describe("monitoring decisions (pure)", () => {
  describe("burn rates", () => {
    it("reproduces the SRE Workbook's 14.4x / 6x / 1x for a 30-day SLO, with its windows", () => {
      assert.deepEqual(
        BURN_RATE_TIERS.map((t) => [
          burnRateThreshold(t, 30),
          t.longWindowSeconds,
          t.shortWindowSeconds,
          t.routeKey,
        ]),
        [
          [14.4, 3600, 300, "fastBurn"],
          [6, 21600, 1800, "fastBurn"],
          [1, 259200, 21600, "slowBurn"],
        ],
      );
    });

    it("scales the thresholds with the SLO period, spending the same share of the budget", () => {
      assert.equal(burnRateThreshold(BURN_RATE_TIERS[0], 28), 13.44);
    });

    it("builds a two-window AND policy per tier over select_slo_burn_rate", () => {
      const sloName = "projects/1/services/api-run/serviceLevelObjectives/api-availability";
      const policies = burnRatePolicies(
        ctx,
        { kind: "availability", name: sloName, goal: 0.999, periodDays: 30 },
        PROD.alerts,
      );
      assert.deepEqual(
        policies.map((p) => [p.key, p.combiner, p.severity, p.conditions.length]),
        [
          ["availability-burn-fast", "AND", "CRITICAL", 2],
          ["availability-burn-medium", "AND", "CRITICAL", 2],
          ["availability-burn-slow", "AND", "WARNING", 2],
        ],
      );
      const fast = policies[0].conditions.map((c) => c.conditionThreshold as unknown as Json);
      assert.deepEqual(
        fast.map((c) => [c.filter, c.thresholdValue, c.comparison]),
        [
          [burnRateFilter(sloName, 3600), 14.4, "COMPARISON_GT"],
          [burnRateFilter(sloName, 300), 14.4, "COMPARISON_GT"],
        ],
      );
      assert.equal(burnRateFilter(sloName, 3600), `select_slo_burn_rate("${sloName}", "3600s")`);
      for (const p of policies) assert.deepEqual(checkAlertPolicy(p), []);
    });
  });

  describe("canary worse than stable", () => {
    const query = canaryWorseThanStableQuery({
      service: "api",
      canaryRevision: "api-cccccccccc",
      stableRevision: "api-ssssssssss",
      margin: 0.01,
      minRequestsPerSecond: 0.1,
      windowSeconds: 300,
    });

    it("compares the canary revision's 5xx ratio with stable's plus the margin, in PromQL", () => {
      const lines = query.split("\n");
      assert.equal(lines.length, 3);
      assert.match(lines[0], /revision_name="api-cccccccccc",response_code_class="5xx"/);
      assert.match(lines[1], /^> \(\(\(sum\(rate\(.*revision_name="api-ssssssssss".*\+ 0\.01\)$/);
      assert.match(lines[2], /^and sum\(rate\(.*revision_name="api-cccccccccc"\}\[300s\]\)\) > 0\.1$/);
      assert.match(query, /run_googleapis_com:request_count\{monitored_resource="cloud_run_revision"/);
      assert.doesNotMatch(query, /fetch |\| ratio|align /, "no MQL");
    });

    it("counts a side with no 5xx series as 0, so a clean stable still lets a bad canary alert", () => {
      assert.equal(query.match(/or vector\(0\)/g)?.length, 2);
    });

    it("is a PromQL condition evaluated in multiples of 30 s and routed per environment", () => {
      const p = canaryPolicy(ctx, { canary: "api-c", stable: "api-s" }, PROD.alerts.canary);
      const c = p.conditions[0].conditionPrometheusQueryLanguage as unknown as Json;
      assert.equal(c.evaluationInterval, "60s");
      assert.equal(c.duration, "300s");
      assert.equal(p.severity, "CRITICAL");
      assert.match(p.documentation.content, /orchestra canary rollback api --stack prod/);
      assert.deepEqual(checkAlertPolicy(p), []);
    });
  });

  describe("threshold policies", () => {
    it("5xx ratio divides 5xx by all requests of the service, with documentation and auto-close", () => {
      const p = errorRatioPolicy(
        { ...ctx, runbookUrl: "https://runbooks.example/api" },
        PROD.alerts.errorRatio,
      );
      const t = p.conditions[0].conditionThreshold as unknown as Json;
      assert.match(String(t.filter), /response_code_class"="5xx"/);
      assert.doesNotMatch(String(t.denominatorFilter), /5xx/);
      assert.equal(t.thresholdValue, 0.05);
      assert.deepEqual(p.alertStrategy, { autoClose: "1800s" });
      assert.match(p.documentation.content, /## What it means[\s\S]*## First steps/);
      assert.match(p.documentation.content, /Runbook: https:\/\/runbooks\.example\/api/);
      assert.deepEqual(checkAlertPolicy(p), []);
    });

    it("saturation alerts at the ratio of maxInstances, counting whole instances", () => {
      const p = saturationPolicy(ctx, 50, { ratio: 0.8, durationSeconds: 600, notify: "ticket" });
      const t = p.conditions[0].conditionThreshold as unknown as Json;
      assert.equal(t.thresholdValue, 39.5);
      assert.equal(p.severity, "WARNING");
    });
  });

  describe("API limit checks", () => {
    const good = errorRatioPolicy(ctx, PROD.alerts.errorRatio);

    it("reject what the API would", () => {
      const threshold = good.conditions[0].conditionThreshold as unknown as Json;
      const bad = {
        ...good,
        conditions: [
          {
            displayName: "x",
            conditionThreshold: { ...threshold, duration: "90s", comparison: "COMPARISON_GE" },
          },
          { displayName: "y", conditionPrometheusQueryLanguage: { query: "up", evaluationInterval: "45s" } },
        ],
      };
      const problems = checkAlertPolicy(bad);
      assert.equal(problems.length, 3, problems.join("\n"));
      assert.match(
        problems.join("\n"),
        /COMPARISON_GE[\s\S]*90s is not a multiple of 60s[\s\S]*45s is not a multiple of 30s/,
      );
      assert.match(checkAlertPolicy({ ...good, conditions: Array(7).fill(good.conditions[0]) })[0], /1 to 6/);
      assert.match(checkAlertPolicy({ ...good, conditions: [] })[0], /1 to 6/);
      assert.deepEqual(checkUptimeCheck({ period: "120s", timeout: "61s" }).length, 2);
      assert.deepEqual(checkSlo({ goal: 0.99999, rollingPeriodDays: 31 }).length, 2);
      assert.deepEqual(checkSlo({ goal: 0.9999, rollingPeriodDays: 30 }), []);
    });
  });

  describe("SLOs, uptime and channels", () => {
    it("declares a request-based availability SLO and a latency distribution cut per service", () => {
      const [availability, latency] = serviceSlos("api", PROD.slo);
      assert.equal(availability.sloId, "api-availability");
      assert.equal(availability.goal, 0.995);
      assert.equal(availability.rollingPeriodDays, 28);
      assert.ok("goodTotalRatio" in availability.requestBasedSli);
      assert.ok("distributionCut" in latency.requestBasedSli);
      assert.deepEqual(
        "distributionCut" in latency.requestBasedSli && latency.requestBasedSli.distributionCut.range,
        { max: 1000 },
      );
    });

    it("checks uptime only where an unauthenticated checker can reach a health path", () => {
      assert.deepEqual(uptimeCheckTarget("/healthz", true), { path: "/healthz" });
      assert.equal(uptimeCheckTarget("/healthz", false), undefined);
      assert.equal(uptimeCheckTarget(undefined, true), undefined);
    });

    it("maps channels to Cloud Monitoring types and routes", () => {
      assert.deepEqual(channelType({ name: "a", type: "email", address: "a@b.co", receives: ["page"] }), {
        type: "email",
        labels: { email_address: "a@b.co" },
      });
      assert.deepEqual(channelType({ name: "s", type: "slack", channel: "#x", receives: ["page"] }).labels, {
        channel_name: "#x",
      });
      assert.deepEqual(
        routeChannels([
          { name: "a", type: "email", address: "a@b.co", receives: ["page"] },
          { name: "b", type: "pagerduty", receives: ["page", "ticket"] },
        ]),
        { page: ["a", "b"], ticket: ["b"] },
      );
    });
  });

  describe("dashboards", () => {
    const spec = {
      service: "api",
      stack: "prod",
      url: "https://api.example.run.app",
      canaryUrl: "https://canary---api.example.run.app",
      split: [
        { revision: "api-s", percent: 90, tag: "stable" },
        { revision: "api-c", percent: 10, tag: "canary" },
      ],
      maxInstances: 10,
      errorRatioThreshold: 0.05,
      latency: { percentile: 99, thresholdMs: 2000 },
      slos: [{ kind: "availability", name: "projects/1/services/s/serviceLevelObjectives/o", goal: 0.995 }],
      logMetrics: [],
    };

    it("draws the latency alert's threshold where the alert reads: time to first token for a streaming service", () => {
      type Tile = { widget: { title: string; xyChart?: { thresholds?: { value: number }[] } } };
      const thresholds = (llm?: { streams: boolean }) => {
        const d = serviceDashboard({ ...spec, ...(llm ? { llm } : {}) }) as {
          mosaicLayout: { tiles: Tile[] };
        };
        const find = (title: RegExp) =>
          d.mosaicLayout.tiles
            .find((t) => title.test(t.widget.title))
            ?.widget.xyChart?.thresholds?.map((x) => x.value);
        return { latency: find(/^Latency p50/), ttft: find(/^Time to first token/) };
      };
      assert.deepEqual(thresholds(), { latency: [2000], ttft: undefined });
      assert.deepEqual(thresholds({ streams: false }), { latency: [2000], ttft: undefined });
      assert.deepEqual(thresholds({ streams: true }), { latency: undefined, ttft: [2] });
    });

    it("splits every service chart by revision and lays tiles within 48 columns", () => {
      const d = serviceDashboard(spec) as { mosaicLayout: { tiles: Record<string, any>[] } }; // eslint-disable-line @typescript-eslint/no-explicit-any
      const tiles = d.mosaicLayout.tiles;
      for (const t of tiles) assert.ok(t.xPos + t.width <= COLUMNS, JSON.stringify(t));
      const titles = tiles.map((t) => t.widget.title as string);
      for (const want of [
        "Requests per second by revision",
        "5xx ratio by revision",
        "Latency p50 / p95 / p99 by revision",
        "Instances (active / idle)",
        "CPU utilization p95 by revision",
        "Memory utilization p95 by revision",
        "Startup latency p95 by revision",
        "Billable instance time by revision",
        "SLO burn rate (1h)",
      ])
        assert.ok(titles.includes(want), `${want} in ${titles.join(", ")}`);
      const text = tiles[0].widget.text.content as string;
      assert.match(text, /canary---api\.example\.run\.app/);
      assert.match(text, /stable `api-s` 90%, canary `api-c` 10%/);
      assert.match(text, /Runbook:\*\* none configured/);
      assert.deepEqual(checkMessage(dashboardType(), d), []);
    });

    it("the overview puts every service side by side", () => {
      const d = overviewDashboard({
        stack: "prod",
        environment: "prod",
        services: [
          { name: "api", url: "https://a" },
          { name: "worker", url: "https://w" },
        ],
        logMetrics: [],
      });
      assert.match(JSON.stringify(d), /service_name\\"=one_of\(\\"api\\", \\"worker\\"\)/);
      assert.deepEqual(checkMessage(dashboardType(), d), []);
    });
  });

  describe("the strict proto check", () => {
    const base = { displayName: "x", mosaicLayout: { columns: 48, tiles: [] as unknown[] } };
    const tile = (widget: unknown) => ({ ...base, mosaicLayout: { columns: 48, tiles: [{ widget }] } });

    it("rejects unknown fields, even ones Google's newer samples use but the protos lack", () => {
      const chart = { dataSets: [], chartOptions: { mode: "COLOR", showLegend: true } };
      const problems = checkMessage(dashboardType(), tile({ xyChart: chart }));
      assert.deepEqual(problems, [
        "$.mosaicLayout.tiles[0].widget.xyChart.chartOptions.showLegend: unknown field of .google.monitoring.dashboard.v1.ChartOptions",
      ]);
      assert.match(checkMessage(dashboardType(), { ...base, bogus: 1 })[0], /bogus: unknown field/);
    });

    it("rejects wrong types, unknown enum values, bad durations and two members of a oneof", () => {
      const problems = checkMessage(dashboardType(), {
        displayName: 7,
        mosaicLayout: {
          columns: "48x",
          tiles: [
            {
              widget: {
                text: { content: "a", format: "HTML" },
                blank: {},
              },
            },
            {
              widget: {
                xyChart: {
                  dataSets: [
                    {
                      timeSeriesQuery: {
                        timeSeriesFilter: { filter: "f", aggregation: { alignmentPeriod: "1m" } },
                      },
                    },
                  ],
                },
              },
            },
          ],
        },
        gridLayout: { columns: 2 },
      });
      assert.equal(problems.length, 6, problems.join("\n"));
      assert.match(problems.join("\n"), /displayName: 7 is not a string/);
      assert.match(problems.join("\n"), /columns: "48x" is not a int32/);
      assert.match(problems.join("\n"), /"HTML" is not a value of enum/);
      assert.match(problems.join("\n"), /blank: oneof content already set by text/);
      assert.match(problems.join("\n"), /alignmentPeriod: "1m" is not a valid .google.protobuf.Duration/);
      assert.match(problems.join("\n"), /gridLayout: oneof layout already set by mosaicLayout/);
    });

    it("accepts a well-formed dashboard", () => {
      assert.deepEqual(
        checkMessage(dashboardType(), tile({ text: { content: "hi", format: "MARKDOWN" } })),
        [],
      );
    });
  });

  describe("config", () => {
    it("defaults: dev and staging open tickets, prod pages for what users feel now", () => {
      const routes = (stack: "dev" | "staging" | "prod") => {
        const flat = baseConfig({}, { "ai-orchestra:environment": stack });
        const r = validate(stack, flat);
        assert.ok(r.ok);
        const a = r.config.monitoring.services.api.alerts;
        return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.notify]));
      };
      for (const env of ["dev", "staging"] as const)
        assert.ok(
          Object.values(routes(env)).every((r) => r === "ticket"),
          env,
        );
      assert.deepEqual(routes("prod"), {
        errorRatio: "page",
        latency: "page",
        canary: "page",
        uptime: "page",
        saturation: "ticket",
        fastBurn: "page",
        slowBurn: "ticket",
        // A push-fed service: jobs waiting and failing pushes page; a backlog or dead letters open tickets.
        queueAge: "page",
        queueBacklog: "ticket",
        deadLetters: "ticket",
        pushErrors: "page",
      });
    });

    it("layers defaults, stack settings and a service's own overrides", () => {
      const r = validate(
        "prod",
        baseConfig(
          {},
          {
            "ai-orchestra:monitoring": {
              alerts: { latency: { thresholdMs: 1500 } },
              services: { api: { alerts: { latency: { percentile: 95 } }, slo: { latency: { goal: 0.9 } } } },
            },
          },
        ),
      );
      assert.ok(r.ok);
      const api = r.config.monitoring.services.api;
      assert.deepEqual(api.alerts.latency, {
        percentile: 95,
        thresholdMs: 1500,
        durationSeconds: 300,
        notify: "page",
      });
      assert.deepEqual(api.slo.latency, { goal: 0.9, thresholdMs: 1000, rollingPeriodDays: 28 });
    });

    it("enforces the API's limits at config time, each with the key path, value and a fix", () => {
      const issues = monitoringIssues({
        alerts: {
          errorRatio: { durationSeconds: 90, threshold: 5 },
          canary: { evaluationSeconds: 45 },
          uptime: { periodSeconds: 120, timeoutSeconds: 61 },
          latency: { percentile: 90 },
        },
        slo: { availability: { goal: 0.99999, rollingPeriodDays: 2.5 } },
        autoCloseSeconds: 60,
      });
      const byPath = Object.fromEntries(
        issues.map((i) => [i.path.replace("ai-orchestra:monitoring.", ""), i]),
      );
      assert.deepEqual(Object.keys(byPath).sort(), [
        "alerts.canary.evaluationSeconds",
        "alerts.errorRatio.durationSeconds",
        "alerts.errorRatio.threshold",
        "alerts.latency.percentile",
        "alerts.uptime.periodSeconds",
        "alerts.uptime.timeoutSeconds",
        "autoCloseSeconds",
        "slo.availability.goal",
        "slo.availability.rollingPeriodDays",
      ]);
      for (const i of issues) assert.match(i.message, /\nFix: /, i.path);
      assert.equal(byPath["alerts.errorRatio.durationSeconds"].value, 90);
      assert.match(byPath["alerts.errorRatio.durationSeconds"].message, /multiple of 60/);
      assert.match(byPath["alerts.canary.evaluationSeconds"].message, /multiple of 30/);
      assert.match(byPath["slo.availability.goal"].message, /at most 0\.9999/);
    });

    it("suggests the key a typo meant", () => {
      const [issue] = monitoringIssues({ alerts: { errorRatoi: { threshold: 0.1 } } });
      assert.equal(issue.path, "ai-orchestra:monitoring.alerts.errorRatoi");
      assert.match(issue.message, /did you mean `errorRatio`\?/);
    });

    it("requires the secret of a Slack or PagerDuty channel, without printing any secret", () => {
      const issues = monitoringIssues({
        channels: { chat: { type: "slack", channel: "#alerts" }, pager: { type: "pagerduty" } },
      });
      assert.deepEqual(
        issues.map((i) => i.path),
        ["ai-orchestra:monitoring.channels.chat", "ai-orchestra:monitoring.channels.pager"],
      );
      assert.match(issues[0].message, /pulumi config set --secret ai-orchestra:slackToken/);
      assert.match(issues[1].message, /pulumi config set --secret ai-orchestra:pagerdutyServiceKey/);
      const ok = validate(
        "prod",
        baseConfig(
          {},
          {
            "ai-orchestra:monitoring": { channels: { chat: { type: "slack", channel: "#alerts" } } },
            "ai-orchestra:slackToken": "xoxb-1",
          },
        ),
      );
      assert.ok(ok.ok);
      assert.doesNotMatch(JSON.stringify(ok.config), /xoxb-1/, "the validated config never holds a secret");
    });

    it("rejects overrides and log metrics naming an unknown service, and a log alert with both or neither bound", () => {
      const issues = monitoringIssues({
        services: { apx: {} },
        logMetrics: { jobs: { filter: "x", service: "wrker", alert: { above: 1, below: 0 } } },
      });
      assert.deepEqual(
        issues.map((i) => i.path.replace("ai-orchestra:monitoring.", "")),
        ["services.apx", "logMetrics.jobs.service", "logMetrics.jobs.alert"],
      );
      assert.match(issues[0].message, /services are `api`/);
      const [extractor] = monitoringIssues({
        logMetrics: { spend: { filter: "y", valueExtractor: "tokens" } },
      });
      assert.equal(extractor.path, "ai-orchestra:monitoring.logMetrics.spend.valueExtractor");
      assert.match(extractor.message, /EXTRACT\(field\)[\s\S]*Fix: /);
    });

    it("warns when prod has no channel that receives pages", () => {
      const r = validate("prod", baseConfig());
      assert.ok(r.ok);
      assert.ok(r.warnings.some((w) => /no channel receiving `page`/.test(w)));
    });
  });
});
