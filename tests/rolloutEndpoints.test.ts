import * as assert from "node:assert/strict";
import { endpointOf, smokeTargets, type ServiceEndpoint } from "../cli/rollout/endpoints";
import { renderRepoStack } from "./support/render";

const region = (canaryUrl?: string) => ({
  ...(canaryUrl ? { canaryUrl } : {}),
  latestReadyRevision: "api-new",
});

describe("rollout smoke targets from serviceEndpoints", () => {
  it("smoke-tests each region's tag URL, or the balancer with its canary header", () => {
    const ep: ServiceEndpoint = {
      revision: "api-new",
      regions: {
        "europe-west1": region("https://canary---api-a.run.app"),
        "us-central1": region("https://canary---api-b.run.app"),
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
      smokeTargets({ revision: "api-new", regions: { "europe-west1": region() } }, "/"),
      "Region europe-west1 names no canary tag URL (canaryUrl).",
    );
  });

  it("falls back to the top-level canary URL when the outputs list no regions", () => {
    assert.deepEqual(smokeTargets({ canaryUrl: "https://canary---api.run.app" }, "/healthz"), [
      { url: "https://canary---api.run.app/healthz", via: "(service)" },
    ]);
    assert.equal(smokeTargets({}, "/"), "The stack outputs name no canary tag URL (canaryUrl).");
    assert.equal(endpointOf({ serviceEndpoints: { api: { revision: "r" } } }, "api")?.revision, "r");
    assert.equal(endpointOf({}, "api"), undefined);
  });
});

describe("rollout smoke targets against the program's own outputs", () => {
  it("reads prod's rendered serviceEndpoints: smoke requests go through the balancer", async () => {
    const outputs = (await renderRepoStack("prod")).outputs;
    const ep = endpointOf(outputs, "api");
    assert.ok(ep, "prod outputs serviceEndpoints.api");
    assert.deepEqual(Object.keys(ep.regions ?? {}), ["europe-west1", "europe-west4"]);
    const targets = smokeTargets(ep, "/healthz");
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
