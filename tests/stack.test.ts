import { strict as assert } from "node:assert";
import type { StackConfig } from "../model/types";
import { declareBalancer, declareServices, publiclyReachable } from "../stack";
import { buildComponent, serviceConfig } from "./support/components";
import { baseConfig, REPO, digest, validate } from "./support/render";

/** A validated prod config: `api` (public, behind the balancer, in two regions) and a private `worker`. */
function stackConfig(): StackConfig {
  const flat = baseConfig(
    { allowUnauthenticated: true, regions: ["europe-west1", "europe-west4"] },
    { "ai-orchestra:loadBalancer": { services: { api: { domains: ["api.example.com"] } } } },
  );
  const services = JSON.parse(flat["ai-orchestra:services"]);
  services.worker = { repository: REPO, stable: { image: `${REPO}@${digest("worker")}` } };
  const result = validate("prod", { ...flat, "ai-orchestra:services": JSON.stringify(services) });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

describe("the stack's modules (stack/)", () => {
  it("services: one record per service, keyed by name in config order, with its URL through the balancer", async () => {
    const config = stackConfig();
    const { value: services } = await buildComponent(() => declareServices(config));
    assert.deepEqual([...services.keys()], ["api", "worker"]);
    const api = services.get("api");
    assert.equal(api?.config.name, "api");
    assert.equal(api?.run.primaryRegion, "europe-west1");
    assert.equal(api?.balancedUrl, "https://api.example.com");
    assert.equal(services.get("worker")?.balancedUrl, undefined);
  });

  it("balancer: its NEGs wait on the balanced services' Cloud Run services only, in every region", async () => {
    const config = stackConfig();
    const b = await buildComponent(() => declareBalancer(config, declareServices(config)));
    const negs = b.ofType("gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup");
    assert.ok(negs.length > 0);
    for (const n of negs) assert.deepEqual(n.dependsOn, ["api-service", "api-europe-west4-service"], n.name);
    assert.deepEqual(b.byName("api").dependsOn, undefined, "no registry without CI/CD");
  });

  it("no balancer without `ai-orchestra:loadBalancer`", async () => {
    const config = { ...stackConfig(), loadBalancer: undefined };
    const b = await buildComponent(() => declareBalancer(config, new Map()));
    assert.equal(b.value, undefined);
    assert.deepEqual(b.resources, []);
  });

  it("uptime checkers reach a service that lets anyone call it, directly or through the balancer", () => {
    const open = serviceConfig({ allowUnauthenticated: true, ingress: "all" });
    const lbOnly = serviceConfig({
      allowUnauthenticated: true,
      ingress: "internal-and-cloud-load-balancing",
    });
    assert.equal(publiclyReachable(open, false), true);
    assert.equal(publiclyReachable(lbOnly, false), false);
    assert.equal(publiclyReachable(lbOnly, true), true);
    assert.equal(publiclyReachable(serviceConfig({ allowUnauthenticated: false }), true), false);
  });
});
