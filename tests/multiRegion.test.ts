import { strict as assert } from "node:assert";
import fc from "fast-check";
import { regionAgreement, splitKey, type LiveTarget } from "../model/canary/regions";
import { canaryWorseThanStableQuery } from "../components/monitoring/promql";
import type { RenderedResource, RenderedStack } from "../render/renderStack";
import { readStackConfig } from "../render/stackFile";
import { baseConfig, byName, ofType, renderWithConfig, ROOT, validate } from "./support/render";

const SERVICE = "gcp:cloudrunv2/service:Service";
const INVOKER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember";
const POLICY = "gcp:monitoring/alertPolicy:AlertPolicy";
const DASHBOARD = "gcp:monitoring/dashboard:Dashboard";
const BY_LOCATION = 'resource.label."location"';

const issuesOf = (flat: Record<string, string>) => {
  const r = validate("prod", flat);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message.split("\n")[0]}`);
};

describe("multi-region: config", () => {
  it("services run in gcp:region unless the stack or the service names regions", () => {
    const none = validate("prod", baseConfig());
    assert.ok(none.ok);
    assert.deepEqual(none.config.regions, ["europe-west1"]);
    assert.deepEqual(none.config.services[0].regions, ["europe-west1"]);

    const stack = validate(
      "prod",
      baseConfig({}, { "ai-orchestra:regions": ["europe-west4", "us-central1"] }),
    );
    assert.ok(stack.ok);
    assert.deepEqual(stack.config.services[0].regions, ["europe-west4", "us-central1"]);

    const own = validate(
      "prod",
      baseConfig({ regions: ["asia-east1"] }, { "ai-orchestra:regions": ["europe-west4", "us-central1"] }),
    );
    assert.ok(own.ok);
    assert.deepEqual(own.config.services[0].regions, ["asia-east1"]);
  });

  it("Pulumi.yaml's default (an empty list) means unset", () => {
    const r = validate("prod", { ...baseConfig(), "ai-orchestra:regions": "[]" });
    assert.ok(r.ok);
    assert.deepEqual(r.config.services[0].regions, ["europe-west1"]);
  });

  it("refuses a malformed region, a region named twice and an empty per-service list, naming the key", () => {
    assert.deepEqual(issuesOf(baseConfig({}, { "ai-orchestra:regions": ["europe-west1", "Europe West"] })), [
      "ai-orchestra:regions.1: must be a GCP region such as `europe-west1`.",
    ]);
    assert.deepEqual(issuesOf(baseConfig({ regions: ["europe-west1", "europe-west1"] })), [
      "ai-orchestra:services.api.regions: names a region twice.",
    ]);
    assert.deepEqual(issuesOf(baseConfig({ regions: [] })), [
      "ai-orchestra:services.api.regions: must name at least one region.",
    ]);
    assert.deepEqual(issuesOf(baseConfig({}, { "ai-orchestra:regions": "europe-west4" })), [
      "ai-orchestra:regions: must be a list of regions.",
    ]);
  });
});

/** Resource identity as Pulumi sees it: a different identity is a delete and a create. */
const urn = (r: RenderedResource) => `${r.type}::${r.parent ?? ""}::${r.name}`;

describe("multi-region: the program", () => {
  const prod = readStackConfig(ROOT, "prod");
  const singleFlat = Object.fromEntries(
    Object.entries(prod.flat).filter(([key]) => key !== "ai-orchestra:regions"),
  );
  let two: RenderedStack;
  let single: RenderedStack;
  let explicitSingle: RenderedStack;

  before(async () => {
    two = await renderWithConfig("prod", prod.flat, prod.secretKeys);
    single = await renderWithConfig("prod", singleFlat, prod.secretKeys);
    explicitSingle = await renderWithConfig(
      "prod",
      { ...singleFlat, "ai-orchestra:regions": JSON.stringify(["europe-west1"]) },
      prod.secretKeys,
    );
  });

  it("prod demonstrates two regions: api in europe-west1 and europe-west4, worker in europe-west1", () => {
    assert.deepEqual(
      ofType(two, SERVICE)
        .map((r) => `${r.inputs.name}@${r.inputs.location}`)
        .sort(),
      ["api@europe-west1", "api@europe-west4", "worker@europe-west1"],
    );
  });

  it("every region gets the same template and traffic list, and its own invokers", () => {
    const home = byName(two, "api-service");
    const other = byName(two, "api-europe-west4-service");
    assert.deepEqual(other.inputs.template, home.inputs.template);
    assert.deepEqual(other.inputs.traffics, home.inputs.traffics);
    assert.equal(other.parent, "api");
    const invokers = ofType(two, INVOKER).filter((r) => r.inputs.name === "api");
    assert.deepEqual(
      invokers.map((r) => `${r.name} ${r.inputs.location} ${r.inputs.member}`),
      ["api-invoker-public europe-west1 allUsers", "api-europe-west4-invoker-public europe-west4 allUsers"],
    );
  });

  it("naming the home region explicitly renders exactly what the single-region stack renders", () => {
    assert.deepEqual(explicitSingle.resources, single.resources);
  });

  it("adding a region replaces nothing: every single-region resource keeps its identity, Cloud Run and IAM keep their inputs", () => {
    const after = new Map(two.resources.map((r) => [urn(r), r]));
    for (const r of single.resources) {
      const same = after.get(urn(r));
      assert.ok(same, `${urn(r)} would be replaced`);
      if (r.type === SERVICE || r.type === INVOKER) assert.deepEqual(same.inputs, r.inputs, r.name);
    }
    const before = new Set(single.resources.map(urn));
    assert.deepEqual(
      two.resources.filter((r) => !before.has(urn(r))).map((r) => r.name),
      // The balancer reaches the new region through its own NEGs.
      [
        "api-europe-west4-service",
        "api-europe-west4-invoker-public",
        "lb-api-neg-europe-west4",
        "lb-api-canary-neg-europe-west4",
      ],
    );
  });

  it("alerts of a multi-region service are evaluated per region; a single-region service's are not", () => {
    const groupBys = (stack: RenderedStack, prefix: string) =>
      ofType(stack, POLICY)
        .filter((p) => p.name.startsWith(prefix))
        .flatMap((p) =>
          (
            p.inputs.conditions as {
              conditionThreshold?: { aggregations?: { groupByFields?: string[] }[] };
            }[]
          )
            .flatMap((c) => c.conditionThreshold?.aggregations ?? [])
            .filter((a) => a.groupByFields?.includes('resource.label."service_name"'))
            .map((a) => ({ name: p.name, perRegion: a.groupByFields?.includes(BY_LOCATION) })),
        );
    const api = groupBys(two, "api-alerts-");
    assert.deepEqual([...new Set(api.map((a) => a.name))].sort(), [
      "api-alerts-error-ratio",
      "api-alerts-latency",
      "api-alerts-saturation",
    ]);
    assert.ok(
      api.every((a) => a.perRegion),
      JSON.stringify(api),
    );
    const worker = groupBys(two, "worker-alerts-");
    assert.ok(worker.length > 0 && worker.every((a) => !a.perRegion), JSON.stringify(worker));
    assert.ok(groupBys(single, "api-alerts-").every((a) => !a.perRegion));

    const canary = byName(two, "api-alerts-canary").inputs.conditions as {
      conditionPrometheusQueryLanguage: { query: string };
    }[];
    assert.match(canary[0].conditionPrometheusQueryLanguage.query, /sum by \(location\)/);
    const doc = (byName(two, "api-alerts-error-ratio").inputs.documentation as { content: string }).content;
    assert.match(doc, /evaluated per region \(europe-west1, europe-west4\)/);
  });

  it("dashboards split a multi-region service's charts by region", () => {
    const charts = (name: string, stack: RenderedStack) => {
      const json = JSON.parse(String(byName(stack, name).inputs.dashboardJson)) as {
        mosaicLayout: { tiles: { widget: { title: string; xyChart?: { dataSets: unknown[] } } }[] };
      };
      return json.mosaicLayout.tiles.map((t) => t.widget).filter((w) => w.xyChart);
    };
    const apiCharts = charts("api-dashboard-dashboard", two);
    const revisionCharts = apiCharts.filter((w) => /by revision/.test(w.title));
    assert.ok(revisionCharts.length >= 5);
    for (const w of revisionCharts) {
      assert.match(w.title, /by revision and region$/);
      assert.ok(JSON.stringify(w.xyChart).includes(JSON.stringify(BY_LOCATION).slice(1, -1)), w.title);
    }
    for (const w of charts("worker-dashboard-dashboard", two)) assert.doesNotMatch(w.title, /region/);
    assert.ok(JSON.stringify(charts("overview-dashboard", two)).includes("resource.labels.location"));
    assert.ok(!JSON.stringify(charts("overview-dashboard", single)).includes("resource.labels.location"));
    const dashboards = (s: RenderedStack) => ofType(s, DASHBOARD).map((d) => d.name);
    assert.deepEqual(dashboards(two), dashboards(single));
  });

  it("exports what each region serves, for rollouts", () => {
    const endpoints = two.outputs.serviceEndpoints as Record<
      string,
      { regions: Record<string, { traffic: { tag?: string; percent: number }[] }> }
    >;
    const api = endpoints.api.regions;
    assert.deepEqual(Object.keys(api), ["europe-west1", "europe-west4"]);
    assert.deepEqual(api["europe-west1"].traffic, api["europe-west4"].traffic);
    assert.deepEqual(
      api["europe-west4"].traffic.map((t) => `${t.tag} ${t.percent}`),
      ["stable 90", "canary 10"],
    );
    assert.deepEqual(Object.keys(endpoints.worker.regions), ["europe-west1"]);
  });
});

describe("multi-region: the canary alert's PromQL per region", () => {
  const args = {
    service: "api",
    canaryRevision: "api-bbbb",
    stableRevision: "api-aaaa",
    margin: 0.01,
    minRequestsPerSecond: 0.1,
    windowSeconds: 300,
  };
  it("is unchanged for one region, and compares region with region for several", () => {
    const one = canaryWorseThanStableQuery(args);
    assert.doesNotMatch(one, /location/);
    assert.match(one, /or vector\(0\)/);
    const many = canaryWorseThanStableQuery({ ...args, byLocation: true });
    // vector(0) has no labels and would match no region: a region without 5xx must still count as 0.
    assert.doesNotMatch(many, /vector\(0\)/);
    assert.equal(many.match(/sum by \(location\)/g)?.length, 7);
    assert.match(many, /\* 0\)/);
  });
});

describe("multi-region: region agreement", () => {
  const split = (canary: number): LiveTarget[] => [
    { revision: "api-aaaa", percent: 100 - canary, tag: "stable" },
    { revision: "api-bbbb", percent: canary, tag: "canary" },
  ];
  const expected = split(10) as { revision: string; percent: number; tag: "stable" | "canary" }[];

  it("regions serving the file's split agree; a change not yet applied anywhere is pending, not an error", () => {
    const same = regionAgreement(expected, {
      "europe-west1": split(10),
      "europe-west4": [...split(10)].reverse(),
    });
    assert.deepEqual(same.problems, []);
    assert.equal(same.pending, false);
    const old = regionAgreement(expected, { "europe-west1": split(5), "europe-west4": split(5) });
    assert.deepEqual(old.problems, []);
    assert.equal(old.pending, true);
  });

  it("names the region left behind, on a tie siding with the stack file", () => {
    const tie = regionAgreement(expected, { "europe-west1": split(10), "europe-west4": split(5) });
    assert.deepEqual(tie.problems, [
      "europe-west4 serves stable api-aaaa 95%, canary api-bbbb 5%, but europe-west1 serves stable api-aaaa 90%, canary api-bbbb 10%.",
    ]);
  });

  it("property: exactly the regions that differ from a majority are reported", () => {
    const regions = ["europe-west1", "europe-west4", "us-central1", "asia-east1", "us-east4"];
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 0, max: 100 }),
        fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 2 }),
        (n, majority, others) => {
          const names = regions.slice(0, n);
          const odd = others.filter((p) => p !== majority).slice(0, Math.floor((n - 1) / 2));
          const live = Object.fromEntries(
            names.map((r, i) => [r, split(i < odd.length ? odd[i] : majority)]),
          );
          const result = regionAgreement(split(majority) as typeof expected, live);
          assert.deepEqual(
            result.regions
              .filter((r) => r.disagrees)
              .map((r) => r.region)
              .sort(),
            names.slice(0, odd.length).sort(),
          );
          assert.equal(result.problems.length, odd.length);
          assert.equal(splitKey(split(majority)), splitKey([...split(majority)].reverse()));
        },
      ),
    );
  });
});
