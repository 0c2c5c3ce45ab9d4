import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { ServiceDashboard, type ServiceDashboardArgs } from "../../components/monitoring";
import type { LogMetricConfig } from "../../model/monitoring";
import { buildComponent, promiseOf, serviceMonitoring, type Built } from "../support/components";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

const URL = "https://api-123456789012.europe-west1.run.app";
const CANARY_URL = "https://canary---api-123456789012.europe-west1.run.app";
const TOKENS: LogMetricConfig = {
  name: "tokens_used",
  description: "Tokens per completion.",
  filter: 'jsonPayload.event="completion"',
  labels: {},
  valueExtractor: "EXTRACT(jsonPayload.tokens)",
  unit: "1",
  resourceType: "cloud_run_revision",
  service: "api",
};

/** A dashboard for `api` in prod, its inputs given as Outputs where the program passes Outputs. */
function build(overrides: Partial<ServiceDashboardArgs> = {}): Promise<Built<ServiceDashboard>> {
  return buildComponent(
    () =>
      new ServiceDashboard("api-dashboard", {
        service: "api",
        project: "proj-test",
        stack: "prod",
        monitoring: serviceMonitoring({ runbookUrl: "https://runbooks.example/api" }),
        maxInstances: 20,
        url: pulumi.output(URL),
        canaryUrl: pulumi.output(CANARY_URL),
        split: [
          { tag: "stable", percent: 90, revision: "api-aaaaaaaaaa" },
          { tag: "canary", percent: 10, revision: "api-bbbbbbbbbb" },
        ],
        slos: [
          {
            kind: "availability",
            goal: 0.999,
            name: pulumi.output(
              "projects/123456789012/services/api-run/serviceLevelObjectives/api-availability",
            ),
          },
        ],
        alertPolicies: [
          { title: "Incidents: 5xx ratio", name: pulumi.output("projects/proj-test/alertPolicies/7") },
        ],
        logMetrics: [TOKENS],
        ...overrides,
      }),
  );
}

const dashboardJson = (b: Built<unknown>): Json =>
  JSON.parse(b.byName("api-dashboard-dashboard").inputs.dashboardJson as string);
const tiles = (b: Built<unknown>): Json[] => dashboardJson(b).mosaicLayout.tiles;
const titles = (b: Built<unknown>) => tiles(b).map((t) => t.widget.title);

describe("ServiceDashboard (built alone)", () => {
  let b: Built<ServiceDashboard>;
  before(async () => {
    b = await build();
  });

  it("is one Dashboard under the component, whose id it exports", async () => {
    assert.deepEqual(
      b.resources.map((r) => [r.type, r.name, r.parent]),
      [
        ["ai-orchestra:monitoring:ServiceDashboard", "api-dashboard", undefined],
        ["gcp:monitoring/dashboard:Dashboard", "api-dashboard-dashboard", "api-dashboard"],
      ],
    );
    assert.equal(b.byName("api-dashboard-dashboard").inputs.project, "proj-test");
    assert.match(await promiseOf(b.value.dashboardId), /^projects\/123456789012\/dashboards\/\d+$/);
  });

  it("says in its text tile where the service and its canary are, the split and the runbook", () => {
    const text = tiles(b)[0].widget.text.content as string;
    assert.ok(text.includes(URL), text);
    assert.ok(text.includes(`**Canary tag URL:** [${CANARY_URL}]`), text);
    assert.match(text, /Runbook:\*\* \[https:\/\/runbooks\.example\/api\]/);
    assert.match(text, /api-bbbbbbbbbb/);
  });

  it("charts the SLO it is given, the alert policy as incidents, and the log metric", () => {
    const json = JSON.stringify(dashboardJson(b));
    assert.match(json, /select_slo_budget_fraction\(\\"projects\/123456789012\/services\/api-run/);
    const alertCharts = tiles(b).filter((t) => t.widget.alertChart);
    assert.deepEqual(
      alertCharts.map((t) => [t.widget.title, t.widget.alertChart.name]),
      [["Incidents: 5xx ratio", "projects/proj-test/alertPolicies/7"]],
    );
    assert.ok(titles(b).includes("tokens_used (p95)"), titles(b).join(", "));
  });

  it("without a canary, SLOs, policies or metrics: says none is running and charts none of them", async () => {
    const bare = await build({ canaryUrl: undefined, slos: [], alertPolicies: [], logMetrics: [] });
    assert.match(tiles(bare)[0].widget.text.content, /Canary:\*\* none running/);
    assert.equal(tiles(bare).filter((t) => t.widget.alertChart).length, 0);
    assert.doesNotMatch(JSON.stringify(dashboardJson(bare)), /select_slo_budget_fraction|tokens_used/);
  });
});
