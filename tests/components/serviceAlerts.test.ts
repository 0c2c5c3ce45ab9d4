import { strict as assert } from "node:assert";
import { ServiceAlerts, type ServiceAlertsArgs } from "../../components/monitoring";
import { checkAlertPolicy, checkSlo } from "../../components/monitoring/limits";
import { buildComponent, promiseOf, serviceMonitoring, type Built } from "../support/components";
import { checkMessage, monitoringType } from "../support/protoCheck";

const without = (i: Record<string, unknown>, ...keys: string[]) =>
  Object.fromEntries(Object.entries(i).filter(([k]) => !keys.includes(k)));

const PAGE = "projects/proj-test/notificationChannels/page";
const TICKET = "projects/proj-test/notificationChannels/ticket";
const SPLIT = [
  { tag: "stable", percent: 90, revision: "api-aaaaaaaaaa" },
  { tag: "canary", percent: 10, revision: "api-bbbbbbbbbb" },
] as const;

/** ServiceAlerts for a public prod `api` with a canary and a health path, unless `overrides` say otherwise. */
function build(overrides: Partial<ServiceAlertsArgs> = {}): Promise<Built<ServiceAlerts>> {
  return buildComponent(
    () =>
      new ServiceAlerts("api-alerts", {
        service: "api",
        project: "proj-test",
        region: "europe-west1",
        stack: "prod",
        monitoring: serviceMonitoring({ runbookUrl: "https://runbooks.example/api" }),
        maxInstances: 20,
        healthCheckPath: "/healthz",
        publiclyReachable: true,
        url: "https://api.example.com",
        split: SPLIT,
        hasCanary: true,
        channels: { page: [PAGE], ticket: [TICKET] },
        autoCloseSeconds: 1800,
        labels: { service: "api" },
        ...overrides,
      }),
  );
}

const condition = (b: Built<unknown>, name: string) => b.byName(name).inputs.conditions[0];

describe("ServiceAlerts (built alone)", () => {
  describe("a public service with a canary and a health path", () => {
    let b: Built<ServiceAlerts>;
    before(async () => {
      b = await build();
    });

    it("declares its policies, uptime check and SLOs under the component, in this order", () => {
      assert.deepEqual(
        b.resources.map((r) => [r.name, r.parent]),
        [
          ["api-alerts", undefined],
          ...[
            "error-ratio",
            "latency",
            "saturation",
            "canary",
            "uptime-check",
            "uptime",
            "service",
            "slo-availability",
            "availability-burn-fast",
            "availability-burn-medium",
            "availability-burn-slow",
            "slo-latency",
            "latency-burn-fast",
            "latency-burn-medium",
            "latency-burn-slow",
          ].map((role) => [`api-alerts-${role}`, "api-alerts"]),
        ],
      );
    });

    it("takes thresholds and durations from the monitoring settings", () => {
      const errors = condition(b, "api-alerts-error-ratio").conditionThreshold;
      assert.equal(errors.thresholdValue, 0.02);
      assert.equal(errors.duration, "120s");
      assert.match(condition(b, "api-alerts-latency").displayName, /p95.*1500 ?ms/);
      assert.equal(b.byName("api-alerts-uptime-check").inputs.period, "300s");
    });

    it("notifies the channels of each policy's route, with the route's severity", () => {
      const routes = b
        .ofType("gcp:monitoring/alertPolicy:AlertPolicy")
        .map((p) => [p.name, p.inputs.severity, p.inputs.notificationChannels]);
      for (const [name, severity, channels] of routes) {
        if (severity === "CRITICAL") assert.deepEqual(channels, [PAGE], name);
        else assert.deepEqual([severity, channels], ["WARNING", [TICKET]], name);
      }
      assert.deepEqual(
        routes.filter(([, severity]) => severity === "WARNING").map(([name]) => name),
        ["api-alerts-saturation", "api-alerts-availability-burn-slow", "api-alerts-latency-burn-slow"],
      );
    });

    it("compares the canary's revision with stable's, both from the split", () => {
      const query = condition(b, "api-alerts-canary").conditionPrometheusQueryLanguage.query as string;
      assert.match(query, /revision_name="api-bbbbbbbbbb"/);
      assert.match(query, /revision_name="api-aaaaaaaaaa"/);
    });

    it("checks the health path on the URL it is given, and alerts on the check's id", async () => {
      const check = b.byName("api-alerts-uptime-check").inputs;
      assert.equal(check.httpCheck.path, "/healthz");
      assert.deepEqual(check.monitoredResource, {
        type: "uptime_url",
        labels: { project_id: "proj-test", host: "api.example.com" },
      });
      const id = await promiseOf(b.value.uptimeCheckId);
      assert.ok(id);
      assert.match(condition(b, "api-alerts-uptime").conditionThreshold.filter, new RegExp(`"${id}"`));
    });

    it("SLOs on the Cloud Run service in its primary region, with their goals and burn-rate policies", async () => {
      assert.deepEqual(b.byName("api-alerts-service").inputs.basicService, {
        serviceType: "CLOUD_RUN",
        serviceLabels: { service_name: "api", location: "europe-west1" },
      });
      assert.equal(b.byName("api-alerts-slo-availability").inputs.goal, 0.999);
      assert.equal(b.byName("api-alerts-slo-latency").inputs.goal, 0.99);
      const slos = await Promise.all(
        b.value.slos.map(async (s) => [s.kind, s.goal, await promiseOf(s.name)]),
      );
      assert.deepEqual(slos, [
        [
          "availability",
          0.999,
          "projects/123456789012/services/api-run/serviceLevelObjectives/api-availability",
        ],
        ["latency", 0.99, "projects/123456789012/services/api-run/serviceLevelObjectives/api-latency"],
      ]);
      assert.match(
        condition(b, "api-alerts-availability-burn-fast").conditionThreshold.filter,
        /^select_slo_burn_rate\("projects\/123456789012\/services\/api-run\/serviceLevelObjectives\/api-availability"/,
      );
    });

    it("links the runbook and labels every policy, check and SLO", () => {
      assert.match(b.byName("api-alerts-latency").inputs.documentation.content, /runbooks\.example\/api/);
      for (const r of b.resources.slice(1)) {
        const labels = r.inputs.userLabels;
        assert.deepEqual(labels, { service: "api" }, r.name);
      }
    });
  });

  it("without a canary or public access: no canary policy and no uptime check", async () => {
    const b = await build({ hasCanary: false, publiclyReachable: false });
    const names = b.resources.map((r) => r.name);
    assert.ok(!names.includes("api-alerts-canary"));
    assert.ok(!names.includes("api-alerts-uptime-check"));
    assert.ok(!names.includes("api-alerts-uptime"));
    assert.equal(await promiseOf(b.value.uptimeCheckId), undefined);
    assert.deepEqual(Object.keys(b.value.policies).slice(0, 3), ["error-ratio", "latency", "saturation"]);
  });

  it("in several regions: conditions are evaluated per region", async () => {
    const one = await build();
    const two = await build({ regions: ["europe-west1", "us-central1"] });
    const groupBy = (x: Built<unknown>) =>
      condition(x, "api-alerts-error-ratio").conditionThreshold.aggregations[0].groupByFields as string[];
    assert.ok(!groupBy(one).includes('resource.label."location"'));
    assert.ok(groupBy(two).includes('resource.label."location"'));
    assert.match(
      two.byName("api-alerts-error-ratio").inputs.documentation.content,
      /evaluated per region \(europe-west1, us-central1\)/,
    );
  });

  it("a streaming service's latency alert and SLO read its time to first token, in seconds", async () => {
    const streaming = await build({ llm: { streams: true } });
    const ttft = 'metric.type="logging.googleapis.com/user/api_llm_time_to_first_token"';
    const alert = streaming.byName("api-alerts-latency").inputs;
    const c = alert.conditions[0];
    assert.equal(
      c.conditionThreshold.filter,
      `${ttft} AND resource.type="cloud_run_revision" AND resource.label."service_name"="api"`,
    );
    assert.equal(c.conditionThreshold.thresholdValue, 1.5, "1500 ms in the metric's seconds");
    assert.equal(c.displayName, "p95 time to first token above 1500 ms");
    assert.match(alert.documentation.content, /p95 time to first token \(from its model call logs\)/);
    const slo = streaming.byName("api-alerts-slo-latency").inputs;
    assert.deepEqual(slo.requestBasedSli.distributionCut, {
      distributionFilter: c.conditionThreshold.filter,
      range: { max: 1 },
    });
    assert.match(slo.displayName, /of model calls with a first token within 1000 ms/);
    for (const r of [
      alert,
      ...streaming.resources.filter((x) => x.name.includes("latency-burn")).map((x) => x.inputs),
    ]) {
      assert.deepEqual(checkAlertPolicy(r), []);
      assert.deepEqual(checkMessage(monitoringType("AlertPolicy"), without(r, "project")), []);
    }
    assert.deepEqual(checkSlo(slo), []);

    // Logging model calls without streaming changes nothing: request latency, in ms.
    const plain = await build({ llm: { streams: false } });
    const p = plain.byName("api-alerts-latency").inputs.conditions[0].conditionThreshold;
    assert.match(p.filter, /^metric\.type="run\.googleapis\.com\/request_latencies"/);
    assert.equal(p.thresholdValue, 1500);
    assert.equal(
      plain.byName("api-alerts-slo-latency").inputs.requestBasedSli.distributionCut.range.max,
      1000,
    );
  });
});
