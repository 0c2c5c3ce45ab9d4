import { strict as assert } from "node:assert";
import { CanaryService } from "../../components/cloudrun";
import { invokerMembers, memberSlug } from "../../components/cloudrun/invokers";
import type { CanaryPhase, ServiceConfig } from "../../model/types";
import {
  buildComponent,
  CANARY_IMAGE,
  promiseOf,
  serviceConfig,
  STABLE_IMAGE,
  type Built,
} from "../support/components";

const SERVICE = "gcp:cloudrunv2/service:Service";
const INVOKER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember";

/** A CanaryService for `service`, home region europe-west1, in prod. */
function build(service: ServiceConfig): Promise<Built<CanaryService>> {
  return buildComponent(
    () =>
      new CanaryService(service.name, {
        service,
        project: "proj-test",
        region: "europe-west1",
        stack: "prod",
        environment: "prod",
        labels: { team: "orchestra" },
      }),
  );
}

const split = (b: Built<unknown>, name: string) =>
  (b.byName(name).inputs.traffics as { tag: string; percent: number; revision: string }[]).map((t) => [
    t.tag,
    t.percent,
    t.revision,
  ]);

describe("CanaryService (built alone)", () => {
  describe("stable only", () => {
    let b: Built<CanaryService>;
    before(async () => {
      b = await build(serviceConfig());
    });

    it("declares the component and its children, parented under it", () => {
      assert.deepEqual(
        b.resources.map((r) => [r.type, r.name, r.parent]),
        [
          ["ai-orchestra:cloudrun:CanaryService", "api", undefined],
          ["ai-orchestra:identity:RuntimeIdentity", "api-identity", "api"],
          ["gcp:serviceaccount/account:Account", "api-identity-account", "api-identity"],
          ["gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", "api-image-pull", "api"],
          [SERVICE, "api-service", "api"],
        ],
      );
    });

    it("sends all traffic to the template's revision, tagged stable", () => {
      const s = b.byName("api-service").inputs;
      assert.equal(s.name, "api");
      assert.equal(s.location, "europe-west1");
      assert.match(s.template.revision, /^api-[0-9a-f]{10}$/);
      assert.equal(s.template.containers[0].image, STABLE_IMAGE);
      assert.deepEqual(split(b, "api-service"), [["stable", 100, s.template.revision]]);
      assert.deepEqual(b.byName("api-service").dependsOn, ["api-identity", "api-image-pull"]);
    });

    it("exports the primary region's URLs, the split and the template revision", async () => {
      const run = b.value;
      assert.equal(run.primaryRegion, "europe-west1");
      assert.equal(await promiseOf(run.url), "https://api-123456789012.europe-west1.run.app");
      assert.equal(await promiseOf(run.stableUrl), "https://stable---api-123456789012.europe-west1.run.app");
      assert.equal(await promiseOf(run.canaryUrl), undefined);
      const revision = await promiseOf(run.templateRevision);
      assert.deepEqual(await promiseOf(run.split), [{ tag: "stable", percent: 100, revision }]);
    });
  });

  describe("with a canary", () => {
    const CANARY_REVISION = "api-0123456789-0zmkgc";
    const withCanary = (phase: CanaryPhase, stable: ServiceConfig["stable"] = { image: STABLE_IMAGE }) =>
      build(
        serviceConfig({
          stable,
          canary: { image: CANARY_IMAGE, revision: CANARY_REVISION, percent: 25, phase },
        }),
      );
    let b: Built<CanaryService>;
    let stableRevision: string;
    before(async () => {
      b = await withCanary("serving");
      stableRevision = split(b, "api-service")[0][2] as string;
    });

    it("serving: the canary's own revision in the template, traffic split between stable and it", async () => {
      const s = b.byName("api-service").inputs;
      assert.equal(s.template.containers[0].image, CANARY_IMAGE);
      assert.equal(s.template.revision, CANARY_REVISION);
      assert.match(stableRevision, /^api-[0-9a-f]{10}$/);
      assert.deepEqual(split(b, "api-service"), [
        ["stable", 75, stableRevision],
        ["canary", 25, CANARY_REVISION],
      ]);
      assert.equal(
        await promiseOf(b.value.canaryUrl),
        "https://canary---api-123456789012.europe-west1.run.app",
      );
    });

    it("staged: the template creates the canary revision, but the traffic list does not name it", async () => {
      const staged = await withCanary("staged");
      const s = staged.byName("api-service").inputs;
      assert.equal(s.template.revision, CANARY_REVISION);
      assert.deepEqual(split(staged, "api-service"), [["stable", 100, stableRevision]]);
    });

    it("rolled back: template and traffic are the exact stable revision; the canary is not named", async () => {
      const rolledBack = await withCanary("rolled-back");
      const s = rolledBack.byName("api-service").inputs;
      assert.equal(s.template.revision, stableRevision);
      assert.equal(s.template.containers[0].image, STABLE_IMAGE);
      assert.deepEqual(split(rolledBack, "api-service"), [["stable", 100, stableRevision]]);
    });

    it("keeps a pinned stable revision built from these settings; a pin from other settings is not used", async () => {
      const attempt = `${stableRevision}-0zet20`;
      const pinned = await withCanary("serving", { image: STABLE_IMAGE, revision: attempt });
      assert.deepEqual(split(pinned, "api-service")[0], ["stable", 75, attempt]);
      const stale = await withCanary("serving", { image: STABLE_IMAGE, revision: "api-aaaaaaaaaa" });
      assert.deepEqual(split(stale, "api-service")[0], ["stable", 75, stableRevision]);
    });
  });

  describe("in several regions, public, with invokers", () => {
    let b: Built<CanaryService>;
    before(async () => {
      b = await build(
        serviceConfig({
          regions: ["us-central1", "europe-west1"],
          allowUnauthenticated: true,
          invokers: ["group:ops@example.com", "allUsers"],
          canary: { image: CANARY_IMAGE, revision: "api-0123456789-0zmkgc", percent: 10, phase: "serving" },
          stable: { image: STABLE_IMAGE },
        }),
      );
    });

    it("one Cloud Run service per region; only the other regions carry the region in their names", () => {
      assert.deepEqual(
        b.ofType(SERVICE).map((r) => [r.name, r.inputs.location]),
        [
          ["api-us-central1-service", "us-central1"],
          ["api-service", "europe-west1"],
        ],
      );
    });

    it("every region gets the same template and traffic list, so the canary moves everywhere at once", () => {
      const [a, c] = b.ofType(SERVICE).map((r) => r.inputs);
      assert.deepEqual(a.template, c.template);
      assert.deepEqual(a.traffics, c.traffics);
    });

    it("the home region is primary even when listed second", async () => {
      assert.equal(b.value.primaryRegion, "europe-west1");
      assert.deepEqual(Object.keys(b.value.regions), ["us-central1", "europe-west1"]);
      assert.equal(await promiseOf(b.value.url), "https://api-123456789012.europe-west1.run.app");
    });

    it("grants run.invoker per region to allUsers (once) and to each listed member", () => {
      assert.deepEqual(
        b.ofType(INVOKER).map((r) => [r.name, r.inputs.location, r.inputs.member, r.inputs.role]),
        [
          ["api-us-central1-invoker-public", "us-central1", "allUsers", "roles/run.invoker"],
          [
            "api-us-central1-invoker-ops-example-com",
            "us-central1",
            "group:ops@example.com",
            "roles/run.invoker",
          ],
          ["api-invoker-public", "europe-west1", "allUsers", "roles/run.invoker"],
          ["api-invoker-ops-example-com", "europe-west1", "group:ops@example.com", "roles/run.invoker"],
        ],
      );
    });
  });

  it("a private service behind a load balancer: no invoker binding, ingress for load balancers only", async () => {
    const b = await build(serviceConfig({ ingress: "internal-and-cloud-load-balancing" }));
    assert.deepEqual(b.ofType(INVOKER), []);
    assert.equal(b.byName("api-service").inputs.ingress, "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER");
  });

  it("invokers: everyone first when public, each member once, in a stable order with name-safe slugs", () => {
    assert.deepEqual(
      invokerMembers({
        allowUnauthenticated: true,
        invokers: ["user:b@example.com", "allUsers", "group:a@example.com"],
      }),
      ["allUsers", "group:a@example.com", "user:b@example.com"],
    );
    assert.deepEqual(invokerMembers({ allowUnauthenticated: false, invokers: [] }), []);
    assert.equal(memberSlug("allUsers"), "public");
    assert.equal(
      memberSlug("serviceAccount:Push@Proj.iam.gserviceaccount.com"),
      "push-proj-iam-gserviceaccount-com",
    );
  });
});
