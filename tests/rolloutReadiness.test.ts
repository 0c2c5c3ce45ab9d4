import * as assert from "node:assert/strict";
import { checkReadiness, endpointOf, smokeTargets, type ServiceEndpoint } from "../cli/rollout/readiness";
import { renderRepoStack } from "./support/render";

const region = (ready: string, canaryPercent: number, canaryUrl = "https://canary---api-a.run.app") => ({
  canaryUrl,
  latestReadyRevision: ready,
  latestCreatedRevision: "api-new",
  traffic: [
    { revision: "api-old", percent: 100 - canaryPercent, tag: "stable" },
    { revision: "api-new", percent: canaryPercent, tag: "canary" },
  ],
});

describe("rollout readiness from serviceEndpoints", () => {
  it("is ready when every region made the canary revision ready at the step's percent", () => {
    const ep: ServiceEndpoint = {
      revision: "api-new",
      regions: { "europe-west1": region("api-new", 25), "us-central1": region("api-new", 25) },
    };
    const r = checkReadiness(ep, 25);
    assert.equal(r.failure, undefined);
    assert.deepEqual(
      r.regions.map((x) => [x.region, x.canaryPercent, x.ok]),
      [
        ["europe-west1", 25, true],
        ["us-central1", 25, true],
      ],
    );
  });

  it("names each failing region with both values", () => {
    const ep: ServiceEndpoint = {
      revision: "api-new",
      regions: { "europe-west1": region("api-old", 25), "us-central1": region("api-new", 5) },
    };
    assert.equal(
      checkReadiness(ep, 25).failure,
      "Region europe-west1: latestReadyRevision is api-old, expected the canary revision api-new. " +
        "Region us-central1: the canary revision api-new takes 5% of live traffic, expected 25%.",
    );
  });

  it("falls back to the top-level fields when the outputs list no regions, and never passes on missing data", () => {
    const split = region("api-new", 5).traffic;
    assert.equal(
      checkReadiness({ revision: "api-new", latestReadyRevision: "api-new", split }, 5).failure,
      undefined,
    );
    assert.match(
      checkReadiness({ revision: "api-new", split }, 5).failure ?? "",
      /^The service: latestReadyRevision is not reported, expected the canary revision api-new\.$/,
    );
    assert.match(checkReadiness({ latestReadyRevision: "x" }, 5).failure ?? "", /no canary revision/);
    assert.match(checkReadiness(undefined, 5).failure ?? "", /no serviceEndpoints entry/);
    assert.equal(endpointOf({ serviceEndpoints: { api: { revision: "r" } } }, "api")?.revision, "r");
    assert.equal(endpointOf({}, "api"), undefined);
  });

  it("smoke-tests each region's tag URL, or the balancer with its canary header", () => {
    const ep: ServiceEndpoint = {
      revision: "api-new",
      regions: {
        "europe-west1": region("api-new", 5, "https://canary---api-a.run.app"),
        "us-central1": region("api-new", 5, "https://canary---api-b.run.app"),
      },
    };
    assert.deepEqual(smokeTargets(ep, "/healthz"), [
      { url: "https://canary---api-a.run.app/healthz", via: "europe-west1" },
      { url: "https://canary---api-b.run.app/healthz", via: "us-central1" },
    ]);
    const lb = { url: "https://api.example.com", canaryHeader: { name: "x-canary", value: "api" } };
    assert.deepEqual(smokeTargets({ ...ep, loadBalancer: lb }, "/healthz"), [
      { url: "https://api.example.com/healthz", headers: { "x-canary": "api" }, via: "load balancer" },
    ]);
    assert.equal(
      smokeTargets(
        { revision: "api-new", regions: { "europe-west1": { latestReadyRevision: "api-new" } } },
        "/",
      ),
      "Region europe-west1 names no canary tag URL (canaryUrl).",
    );
  });
});

describe("rollout readiness against the program's own outputs", () => {
  it("reads prod's rendered serviceEndpoints: both regions checked, smoke requests through the balancer", async () => {
    const outputs = (await renderRepoStack("prod")).outputs;
    const ep = endpointOf(outputs, "api");
    const ready = checkReadiness(ep, 10);
    assert.equal(ready.failure, undefined);
    assert.deepEqual(
      ready.regions.map((r) => `${r.region} ${r.canaryPercent}`),
      ["europe-west1 10", "europe-west4 10"],
    );
    assert.match(checkReadiness(ep, 25).failure ?? "", /europe-west1/);
    const targets = smokeTargets(ep as ServiceEndpoint, "/healthz");
    assert.ok(Array.isArray(targets));
    assert.deepEqual(JSON.parse(JSON.stringify(targets)), [
      {
        via: "load balancer",
        url: "https://api.ai-orchestra.example/healthz",
        headers: { "X-Orchestra-Release": "canary" },
      },
    ]);
  });
});
