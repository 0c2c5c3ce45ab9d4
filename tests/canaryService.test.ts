import { strict as assert } from "node:assert";
import { byName, baseConfig, digest, ofType, REPO, renderWithConfig } from "./support/render";
import type { RenderedStack } from "../render/renderStack";

const STABLE = `${REPO}@${digest("stable")}`;
const CANARY = `${REPO}@${digest("canary")}`;

interface Traffic {
  revision: string;
  percent: number;
  tag: string;
}

const service = (r: RenderedStack) => byName(r, "api-service").inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("CanaryService component", () => {
  describe("a stable-only prod service", () => {
    let r: RenderedStack;
    before(async () => {
      r = await renderWithConfig(
        "prod",
        baseConfig({
          healthCheckPath: "/healthz",
          secretEnv: { API_KEY: { secret: "api-key", version: 4 } },
        }),
      );
    });

    it("declares the component with its children parented under it", () => {
      assert.equal(byName(r, "api").type, "ai-orchestra:cloudrun:CanaryService");
      for (const child of ["api-service", "api-identity", "api-image-pull"])
        assert.equal(byName(r, child).parent, "api");
      assert.equal(byName(r, "api-identity-account").parent, "api-identity");
    });

    it("names the service explicitly and sends all traffic to one stable revision", () => {
      const s = service(r);
      assert.equal(s.name, "api");
      assert.equal(s.location, "europe-west1");
      assert.equal(s.project, "proj-test");
      const traffic = s.traffics as Traffic[];
      assert.deepEqual(
        traffic.map((t) => [t.tag, t.percent]),
        [["stable", 100]],
      );
      assert.equal(traffic[0].revision, s.template.revision);
      assert.match(s.template.revision, /^api-[0-9a-f]{10}$/);
      assert.equal(s.template.containers[0].image, STABLE);
    });

    it("applies prod defaults: deletion protection, a warm instance, public ingress but no public invoker", () => {
      const s = service(r);
      assert.equal(s.deletionProtection, true);
      assert.equal(s.template.scaling.minInstanceCount, 1);
      assert.equal(s.ingress, "INGRESS_TRAFFIC_ALL");
      assert.equal(ofType(r, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember").length, 0);
    });

    it("runs as its own service account with no project-wide roles", () => {
      const account = byName(r, "api-identity-account").inputs;
      assert.equal(account.accountId, "api-run");
      assert.equal(service(r).template.serviceAccount, "api-run@proj-test.iam.gserviceaccount.com");
      const projectBindings = r.resources.filter((x) => /^gcp:projects\//.test(x.type));
      assert.deepEqual(projectBindings, []);
    });

    it("grants secret access on each referenced secret only, and wires it as a secret env var", () => {
      const grants = ofType(r, "gcp:secretmanager/secretIamMember:SecretIamMember");
      assert.equal(grants.length, 1);
      assert.deepEqual(grants[0].inputs, {
        project: "proj-test",
        secretId: "api-key",
        role: "roles/secretmanager.secretAccessor",
        member: "serviceAccount:api-run@proj-test.iam.gserviceaccount.com",
      });
      const env = service(r).template.containers[0].envs as { name: string; valueSource?: unknown }[];
      assert.deepEqual(env, [
        { name: "API_KEY", valueSource: { secretKeyRef: { secret: "api-key", version: "4" } } },
      ]);
    });

    it("lets Cloud Run's service agent read the Artifact Registry repository", () => {
      assert.deepEqual(byName(r, "api-image-pull").inputs, {
        project: "proj-test",
        location: "europe-west1",
        repository: "orchestra",
        role: "roles/artifactregistry.reader",
        member: "serviceAccount:service-123456789012@serverless-robot-prod.iam.gserviceaccount.com",
      });
    });

    it("probes the health path at startup and for liveness", () => {
      const c = service(r).template.containers[0];
      assert.equal(c.startupProbe.httpGet.path, "/healthz");
      assert.equal(c.livenessProbe.httpGet.path, "/healthz");
      assert.equal(c.startupProbe.httpGet.port, 8080);
    });

    it("labels the service with the stack's labels and its origin", () => {
      assert.deepEqual(service(r).labels, {
        team: "orchestra",
        "managed-by": "pulumi",
        "pulumi-stack": "prod",
        environment: "prod",
        service: "api",
      });
    });

    it("exports the URL, the stable tag URL and the split", () => {
      const ep = (r.outputs.serviceEndpoints as Record<string, any>).api; // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.equal(ep.url, "https://api-123456789012.europe-west1.run.app");
      assert.equal(ep.stableUrl, "https://stable---api-123456789012.europe-west1.run.app");
      assert.equal(ep.canaryUrl, undefined);
      assert.deepEqual(
        ep.split.map((t: Traffic) => t.percent),
        [100],
      );
    });
  });

  describe("a canary", () => {
    let stableOnly: RenderedStack;
    let withCanary: RenderedStack;
    before(async () => {
      stableOnly = await renderWithConfig("prod", baseConfig());
      const stableRevision = service(stableOnly).template.revision;
      withCanary = await renderWithConfig(
        "prod",
        baseConfig({
          stable: { image: STABLE, revision: stableRevision },
          canary: { image: CANARY, percent: 25 },
        }),
      );
    });

    it("puts the canary release in the template and splits traffic by tag", () => {
      const s = service(withCanary);
      assert.equal(s.template.containers[0].image, CANARY);
      assert.deepEqual(
        (s.traffics as Traffic[]).map((t) => [t.tag, t.percent, t.revision]),
        [
          ["stable", 75, service(stableOnly).template.revision],
          ["canary", 25, s.template.revision],
        ],
      );
    });

    it("exports a canary tag URL", () => {
      const ep = (withCanary.outputs.serviceEndpoints as Record<string, any>).api; // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.equal(ep.canaryUrl, "https://canary---api-123456789012.europe-west1.run.app");
    });

    it("keeps the pinned stable revision when settings change mid-canary", async () => {
      const pinned = service(stableOnly).template.revision;
      const r = await renderWithConfig(
        "prod",
        baseConfig({
          memory: "1Gi",
          stable: { image: STABLE, revision: pinned },
          canary: { image: CANARY, percent: 25 },
        }),
      );
      const traffic = service(r).traffics as Traffic[];
      assert.equal(traffic[0].revision, pinned);
      assert.notEqual(
        traffic[1].revision,
        service(withCanary).template.revision,
        "the canary gets a new revision",
      );
      assert.equal(traffic[1].percent, 25);
    });
  });

  describe("access and environment options", () => {
    it("adds allUsers only for a public service, plus each listed invoker", async () => {
      const r = await renderWithConfig(
        "prod",
        baseConfig({
          allowUnauthenticated: true,
          invokers: ["group:ops@example.com"],
          ingress: "internal-and-cloud-load-balancing",
        }),
      );
      const members = ofType(r, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember").map((m) => [
        m.name,
        m.inputs.member,
        m.inputs.role,
      ]);
      assert.deepEqual(members, [
        ["api-invoker-public", "allUsers", "roles/run.invoker"],
        ["api-invoker-ops-example-com", "group:ops@example.com", "roles/run.invoker"],
      ]);
      assert.equal(service(r).ingress, "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER");
    });

    it("builds a dev image locally, pushes it with cache-from, and deploys it by digest", async () => {
      const r = await renderWithConfig(
        "dev",
        baseConfig(
          { stable: { build: { context: "../app", target: "runtime" } } },
          { "ai-orchestra:environment": "dev" },
        ),
      );
      const image = byName(r, "api-image");
      assert.equal(image.type, "docker:index/image:Image");
      assert.equal(image.parent, "api");
      assert.equal(image.inputs.imageName, `${REPO}:dev`);
      assert.deepEqual((image.inputs.build as Record<string, unknown>).cacheFrom, {
        images: [`${REPO}:dev`],
      });
      // The access token makes the whole registry block secret: it is never printed or stored in plain text.
      assert.equal(image.inputs.registry, "[secret]");
      assert.match(service(r).template.containers[0].image, new RegExp(`^${REPO}@sha256:[0-9a-f]{64}$`));
      assert.equal(service(r).deletionProtection, false);
      assert.equal(service(r).template.scaling.minInstanceCount, 0);
    });
  });
});
