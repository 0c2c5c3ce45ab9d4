import { strict as assert } from "node:assert";
import { byName, baseConfig, digest, ofType, REPO, renderWithConfig } from "./support/render";
import type { RenderedStack } from "../render/renderStack";

const STABLE = `${REPO}@${digest("stable")}`;

interface Traffic {
  revision: string;
  percent: number;
  tag: string;
}

const service = (r: RenderedStack) => byName(r, "api-service").inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("CanaryService in the stack program", () => {
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
      // On the service, shared by the revisions with traffic; never on the revision template.
      assert.equal(s.scaling.minInstanceCount, 1);
      assert.equal(s.template.scaling.minInstanceCount, undefined);
      // Request-based billing unless a service asks for always-on CPU.
      assert.equal(s.template.containers[0].resources.cpuIdle, true);
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

  // Traffic, regions and invokers: tests/components/canaryService.test.ts builds the component alone.
  describe("environment options", () => {
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
      assert.equal(service(r).scaling.minInstanceCount, 0);
    });
  });
});
