import { strict as assert } from "node:assert";
import { renderStack, type RenderedStack } from "../render/renderStack";
import { baseConfig, byName, digest, ofType, REPO, ROOT, withServingCanary } from "./support/render";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

const SLACK_TOKEN = "xoxb-offline-test-token";
const PD_KEY = "pd-offline-test-key";

const policy = (r: RenderedStack, name: string) => byName(r, name).inputs as Json;

describe("monitoring components in the stack program", () => {
  // ServiceAlerts and ServiceDashboard from hand-made args: tests/components/.
  describe("a prod service with a canary, Slack, PagerDuty and a business metric", () => {
    let r: RenderedStack;
    let canaryRevision: string;
    let stableRevision: string;
    before(async () => {
      const flat = withServingCanary(
        baseConfig(
          {
            healthCheckPath: "/healthz",
            allowUnauthenticated: true,
            scaling: { maxInstances: 20 },
          },
          {
            "ai-orchestra:monitoring": {
              runbookUrl: "https://runbooks.example/orchestra",
              channels: {
                oncall: { type: "pagerduty", receives: ["page"] },
                chat: { type: "slack", channel: "#orchestra-alerts" },
                tickets: { type: "email", address: "tickets@example.com", receives: ["ticket"] },
              },
              logMetrics: {
                tokens_used: {
                  filter: 'jsonPayload.event="completion"',
                  valueExtractor: "EXTRACT(jsonPayload.tokens)",
                  labels: { model: "EXTRACT(jsonPayload.model)" },
                  service: "api",
                  alert: { above: 5000, notify: "page" },
                },
              },
            },
            "ai-orchestra:slackToken": SLACK_TOKEN,
            "ai-orchestra:pagerdutyServiceKey": PD_KEY,
          },
        ),
        `${REPO}@${digest("canary")}`,
        10,
      );
      r = await renderStack({
        dir: ROOT,
        stack: "prod",
        config: { flat, secretKeys: ["ai-orchestra:slackToken", "ai-orchestra:pagerdutyServiceKey"] },
      });
      const split = (byName(r, "api-service").inputs.traffics as Json[]).map((t) => [t.tag, t.revision]);
      canaryRevision = split.find(([tag]) => tag === "canary")?.[1];
      stableRevision = split.find(([tag]) => tag === "stable")?.[1];
    });

    it("declares the components with three-part tokens and their children under them", () => {
      assert.equal(byName(r, "notifications").type, "ai-orchestra:monitoring:NotificationChannels");
      assert.equal(byName(r, "api-alerts").type, "ai-orchestra:monitoring:ServiceAlerts");
      assert.equal(byName(r, "api-dashboard").type, "ai-orchestra:monitoring:ServiceDashboard");
      assert.equal(byName(r, "overview").type, "ai-orchestra:monitoring:OverviewDashboard");
      assert.equal(byName(r, "log-metrics").type, "ai-orchestra:monitoring:LogMetrics");
      for (const child of ["api-alerts-error-ratio", "api-alerts-uptime-check", "api-alerts-slo-latency"])
        assert.equal(byName(r, child).parent, "api-alerts");
      assert.equal(byName(r, "api-dashboard-dashboard").parent, "api-dashboard");
      assert.equal(byName(r, "notifications-chat").parent, "notifications");
    });

    it("keeps channel secrets secret: sensitive labels are Pulumi secrets and never printed", () => {
      const chat = byName(r, "notifications-chat").inputs as Json;
      assert.equal(chat.type, "slack");
      assert.deepEqual(chat.labels, { channel_name: "#orchestra-alerts" });
      assert.equal(chat.sensitiveLabels, "[secret]");
      const pager = byName(r, "notifications-oncall").inputs as Json;
      assert.equal(pager.type, "pagerduty");
      assert.equal(pager.sensitiveLabels, "[secret]");
      assert.deepEqual((byName(r, "notifications-tickets").inputs as Json).labels, {
        email_address: "tickets@example.com",
      });
      const everything = JSON.stringify(r);
      assert.doesNotMatch(everything, new RegExp(SLACK_TOKEN));
      assert.doesNotMatch(everything, new RegExp(PD_KEY));
    });

    it("routes pages and tickets to the channels that receive them, with matching severities", () => {
      const page = policy(r, "api-alerts-error-ratio");
      const ticket = policy(r, "api-alerts-saturation");
      assert.equal(page.severity, "CRITICAL");
      assert.equal(ticket.severity, "WARNING");
      assert.equal(page.notificationChannels.length, 2, "pagerduty + slack");
      assert.equal(ticket.notificationChannels.length, 2, "slack + email");
      assert.ok(
        page.notificationChannels.every((n: string) =>
          n.startsWith("projects/proj-test/notificationChannels/"),
        ),
      );
      assert.notDeepEqual(page.notificationChannels, ticket.notificationChannels);
    });

    it("compares the revisions of the service's split in the canary policy", () => {
      const canary = policy(r, "api-alerts-canary");
      const q = canary.conditions[0].conditionPrometheusQueryLanguage;
      assert.match(q.query, new RegExp(`revision_name="${canaryRevision}"`));
      assert.match(q.query, new RegExp(`revision_name="${stableRevision}"`));
      assert.match(stableRevision, /^api-[0-9a-f]{10}$/);
      assert.match(canaryRevision, /^api-[0-9a-f]{10}-0zmkgc$/);
      assert.equal(canary.severity, "CRITICAL");
      assert.equal(canary.conditions[0].conditionMonitoringQueryLanguage, undefined);
    });

    it("checks the health path over HTTPS from the internet and alerts on its check id", () => {
      const check = byName(r, "api-alerts-uptime-check").inputs as Json;
      assert.equal(check.period, "60s");
      assert.equal(check.timeout, "10s");
      assert.deepEqual(check.httpCheck, {
        path: "/healthz",
        port: 443,
        useSsl: true,
        validateSsl: true,
        requestMethod: "GET",
      });
      assert.deepEqual(check.monitoredResource, {
        type: "uptime_url",
        labels: { project_id: "proj-test", host: "api-123456789012.europe-west1.run.app" },
      });
      const alert = policy(r, "api-alerts-uptime");
      assert.match(alert.conditions[0].conditionThreshold.filter, /check_id"="api-alerts-uptime-check-/);
    });

    it("documents every policy, sets a severity and auto-close, and links the runbook", () => {
      const policies = ofType(r, "gcp:monitoring/alertPolicy:AlertPolicy");
      assert.equal(policies.length, 5 + 6 + 1, policies.map((p) => p.name).join(", "));
      for (const p of policies) {
        const i = p.inputs as Json;
        assert.equal(i.documentation.mimeType, "text/markdown", p.name);
        assert.match(i.documentation.content, /## What it means[\s\S]*## First steps/, p.name);
        assert.ok(["CRITICAL", "WARNING"].includes(i.severity), p.name);
        assert.equal(i.alertStrategy.autoClose, "1800s", p.name);
      }
      assert.match(
        policy(r, "api-alerts-latency").documentation.content,
        /Runbook: https:\/\/runbooks\.example/,
      );
    });

    it("declares the business metric as a distribution with label extractors, and its alert after it", () => {
      const m = byName(r, "log-metrics-tokens_used").inputs as Json;
      assert.equal(m.name, "tokens_used");
      assert.equal(m.valueExtractor, "EXTRACT(jsonPayload.tokens)");
      assert.deepEqual(m.labelExtractors, { model: "EXTRACT(jsonPayload.model)" });
      assert.deepEqual(m.metricDescriptor.labels, [{ key: "model", valueType: "STRING" }]);
      assert.equal(m.metricDescriptor.valueType, "DISTRIBUTION");
      assert.ok(m.bucketOptions.exponentialBuckets);
      const alert = policy(r, "log-metrics-tokens_used-alert");
      assert.equal(alert.conditions[0].conditionThreshold.comparison, "COMPARISON_GT");
      assert.equal(alert.conditions[0].conditionThreshold.thresholdValue, 5000);
      assert.equal(alert.severity, "CRITICAL");
    });

    it("charts the canary tag URL, the runbook and the business metric on the service dashboard", () => {
      const json = JSON.parse(byName(r, "api-dashboard-dashboard").inputs.dashboardJson as string);
      const text = json.mosaicLayout.tiles[0].widget.text.content as string;
      assert.match(text, /https:\/\/canary---api-123456789012\.europe-west1\.run\.app/);
      assert.match(text, /Runbook:\*\* \[https:\/\/runbooks\.example\/orchestra\]/);
      const titles = json.mosaicLayout.tiles.map((t: Json) => t.widget.title);
      assert.ok(titles.includes("tokens_used (p95)"), titles.join(", "));
      const alertCharts = json.mosaicLayout.tiles.filter((t: Json) => t.widget.alertChart);
      assert.deepEqual(
        alertCharts.map((t: Json) => t.widget.title),
        ["Incidents: 5xx ratio", "Incidents: canary worse than stable"],
      );
      for (const t of alertCharts)
        assert.match(t.widget.alertChart.name, /^projects\/proj-test\/alertPolicies\/\d+$/);
      assert.match(
        JSON.stringify(json),
        /select_slo_budget_fraction\(\\"projects\/123456789012\/services\/api-run/,
      );
    });
  });

  describe("a private service without a canary", () => {
    let r: RenderedStack;
    before(async () => {
      r = await renderStack({
        dir: ROOT,
        stack: "dev",
        config: {
          flat: baseConfig(
            { healthCheckPath: "/healthz", ingress: "internal" },
            { "ai-orchestra:environment": "dev" },
          ),
        },
      });
    });

    it("has no canary policy and no uptime check (checkers cannot reach it), and only tickets in dev", () => {
      const names = r.resources.map((x) => x.name);
      assert.ok(!names.includes("api-alerts-canary"));
      assert.equal(ofType(r, "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig").length, 0);
      const policies = ofType(r, "gcp:monitoring/alertPolicy:AlertPolicy");
      assert.equal(policies.length, 3 + 6);
      for (const p of policies) assert.equal((p.inputs as Json).severity, "WARNING", p.name);
      assert.equal(ofType(r, "gcp:monitoring/notificationChannel:NotificationChannel").length, 0);
    });

    it("says on the dashboard that no canary is running", () => {
      const json = JSON.parse(byName(r, "api-dashboard-dashboard").inputs.dashboardJson as string);
      assert.match(json.mosaicLayout.tiles[0].widget.text.content, /Canary:\*\* none running/);
    });
  });
});
