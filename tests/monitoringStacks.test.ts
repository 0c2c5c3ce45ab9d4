import { strict as assert } from "node:assert";
import { PUBSUB_METRICS, RUN_METRICS, UPTIME_CHECK_PASSED } from "../components/monitoring/filters";
import { latencySource, llmMetricNames } from "../model/llm";
import type { ServiceMonitoring } from "../model/monitoring";
import { planQueues } from "../model/queue";
import { checkAlertPolicy, checkSlo, checkUptimeCheck } from "../components/monitoring/limits";
import type { RenderedStack } from "../render/renderStack";
import { listStacks, readStackConfig } from "../render/stackFile";
import { checkMessage, dashboardType, monitoringType } from "./support/protoCheck";
import { ofType, renderRepoStack, ROOT, validate } from "./support/render";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

const DASHBOARD = "gcp:monitoring/dashboard:Dashboard";
const POLICY = "gcp:monitoring/alertPolicy:AlertPolicy";
const UPTIME = "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig";
const SLO = "gcp:monitoring/slo:Slo";

/** Every string anywhere inside a value. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

/** Pulumi's SLO inputs in the API's ServiceLevelObjective shape (the SLI moves under serviceLevelIndicator). */
function sloAsApi(i: Json): Json {
  return {
    displayName: i.displayName,
    goal: i.goal,
    rollingPeriod: `${i.rollingPeriodDays * 86400}s`,
    serviceLevelIndicator: {
      requestBased: {
        ...(i.requestBasedSli.goodTotalRatio ? { goodTotalRatio: i.requestBasedSli.goodTotalRatio } : {}),
        ...(i.requestBasedSli.distributionCut
          ? {
              distributionCut: {
                distributionFilter: i.requestBasedSli.distributionCut.distributionFilter,
                range: i.requestBasedSli.distributionCut.range,
              },
            }
          : {}),
      },
    },
    userLabels: i.userLabels,
  };
}

const without = (i: Json, ...keys: string[]) =>
  Object.fromEntries(Object.entries(i).filter(([k]) => !keys.includes(k)));

describe("monitoring of every stack file", () => {
  for (const stack of listStacks(ROOT)) {
    describe(`Pulumi.${stack}.yaml`, () => {
      let r: RenderedStack;
      let services: string[];
      let logMetrics: string[];
      /** Push subscriptions, each with a jobs SLO. */
      let queues: number;
      before(async () => {
        const result = validate(stack, readStackConfig(ROOT, stack).flat);
        assert.ok(result.ok);
        services = result.config.services.map((s) => s.name);
        logMetrics = result.config.monitoring.logMetrics.map((m) => m.name);
        queues = planQueues(result.config.services).subscriptions.length;
        r = await renderRepoStack(stack);
      });

      it("declares a dashboard and alerts per service, and one overview", () => {
        const names = ofType(r, DASHBOARD).map((d) => d.name);
        assert.deepEqual(
          names.sort(),
          [...services.map((s) => `${s}-dashboard-dashboard`), "overview-dashboard"].sort(),
        );
        for (const s of services) assert.ok(r.resources.some((x) => x.name === `${s}-alerts`));
      });

      it("has dashboards that are valid google.monitoring.dashboard.v1 (unknown fields and wrong types rejected)", () => {
        for (const d of ofType(r, DASHBOARD)) {
          const json = JSON.parse(String(d.inputs.dashboardJson));
          assert.deepEqual(checkMessage(dashboardType(), json), [], d.name);
          assert.ok(json.displayName, d.name);
          for (const t of json.mosaicLayout.tiles) assert.ok(t.xPos + t.width <= json.mosaicLayout.columns);
        }
      });

      it("has alert policies within the API's limits, and valid google.monitoring.v3.AlertPolicy", () => {
        const policies = ofType(r, POLICY);
        assert.ok(policies.length > 0);
        for (const p of policies) {
          assert.deepEqual(checkAlertPolicy(p.inputs), [], p.name);
          assert.deepEqual(
            checkMessage(monitoringType("AlertPolicy"), without(p.inputs, "project")),
            [],
            p.name,
          );
        }
      });

      it("has uptime checks and SLOs within the API's limits, matching the v3 protos", () => {
        for (const u of ofType(r, UPTIME)) {
          assert.deepEqual(checkUptimeCheck(u.inputs), [], u.name);
          assert.deepEqual(
            checkMessage(monitoringType("UptimeCheckConfig"), without(u.inputs, "project")),
            [],
            u.name,
          );
        }
        const slos = ofType(r, SLO);
        assert.equal(slos.length, 2 * services.length + queues);
        for (const s of slos) {
          assert.deepEqual(checkSlo(s.inputs), [], s.name);
          assert.deepEqual(
            checkMessage(monitoringType("ServiceLevelObjective"), sloAsApi(s.inputs)),
            [],
            s.name,
          );
        }
      });

      it("names only real metric and resource types in every filter, and never MQL", () => {
        const known = new Set<string>([
          ...Object.values(RUN_METRICS),
          ...Object.values(PUBSUB_METRICS),
          UPTIME_CHECK_PASSED,
          ...logMetrics.map((m) => `logging.googleapis.com/user/${m}`),
        ]);
        const resources = new Set([
          "cloud_run_revision",
          "cloud_run_job",
          "global",
          "uptime_url",
          "pubsub_subscription",
        ]);
        const texts = [
          ...ofType(r, POLICY).flatMap((p) => strings(p.inputs.conditions)),
          ...ofType(r, SLO).flatMap((s) => strings(s.inputs.requestBasedSli)),
          ...ofType(r, DASHBOARD).flatMap((d) => strings(JSON.parse(String(d.inputs.dashboardJson)))),
        ];
        let metrics = 0;
        for (const text of texts) {
          for (const m of text.matchAll(/metric\.type="([^"]+)"/g)) {
            metrics++;
            assert.ok(known.has(m[1]), `unknown metric type ${m[1]}`);
          }
          for (const m of text.matchAll(/resource\.type="([^"]+)"/g)) assert.ok(resources.has(m[1]), m[1]);
        }
        assert.ok(metrics > 20);
        for (const p of ofType(r, POLICY))
          for (const c of p.inputs.conditions as Json[])
            assert.equal(c.conditionMonitoringQueryLanguage, undefined);
        for (const d of ofType(r, DASHBOARD))
          assert.doesNotMatch(String(d.inputs.dashboardJson), /timeSeriesQueryLanguage/);
      });

      it("refers only to SLOs the stack declares, in SLO selectors", () => {
        const declared = new Set(
          ofType(r, SLO).map(
            (s) =>
              `projects/123456789012/services/${String(s.inputs.service)}/serviceLevelObjectives/${String(s.inputs.sloId)}`,
          ),
        );
        const texts = [
          ...ofType(r, POLICY).flatMap((p) => strings(p.inputs.conditions)),
          ...ofType(r, DASHBOARD).map((d) => String(d.inputs.dashboardJson)),
        ];
        for (const text of texts)
          for (const m of text.matchAll(/select_slo_\w+\(\\?"([^"\\]+)\\?"/g))
            assert.ok(declared.has(m[1]), m[1]);
      });

      it("a streaming service's latency alert and SLO read its time to first token (in seconds); others request latency", () => {
        const cfg = validate(stack, readStackConfig(ROOT, stack).flat);
        assert.ok(cfg.ok);
        for (const s of cfg.config.services) {
          const alert = r.resources.find((x) => x.name === `${s.name}-alerts-latency`)!;
          const slo = r.resources.find((x) => x.name === `${s.name}-alerts-slo-latency`)!;
          const threshold = (alert.inputs.conditions as Json[])[0].conditionThreshold;
          const cut = (slo.inputs.requestBasedSli as Json).distributionCut;
          const source = latencySource(s);
          const settings: ServiceMonitoring = cfg.config.monitoring.services[s.name];
          const metric =
            source.kind === "request"
              ? RUN_METRICS.requestLatencies
              : `logging.googleapis.com/user/${llmMetricNames(s.name).timeToFirstToken}`;
          const perMs = source.kind === "request" ? 1 : 0.001;
          assert.equal(source.kind === "timeToFirstToken", s.llm?.streams === true, s.name);
          for (const filter of [threshold.filter, cut.distributionFilter])
            assert.ok(String(filter).startsWith(`metric.type="${metric}" AND `), `${s.name}: ${filter}`);
          assert.equal(threshold.thresholdValue, settings.alerts.latency.thresholdMs * perMs, s.name);
          assert.equal(cut.range.max, settings.slo.latency.thresholdMs * perMs, s.name);
          assert.ok(
            !s.llm?.streams || logMetrics.includes(llmMetricNames(s.name).timeToFirstToken),
            `${s.name} declares the metric its latency reads`,
          );
        }
      });

      it("has a canary policy exactly for the services with a canary", () => {
        const cfg = validate(stack, readStackConfig(ROOT, stack).flat);
        assert.ok(cfg.ok);
        for (const s of cfg.config.services) {
          const has = r.resources.some((x) => x.name === `${s.name}-alerts-canary`);
          assert.equal(has, s.canary !== undefined, s.name);
        }
      });
    });
  }
});
