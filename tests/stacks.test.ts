import { strict as assert } from "node:assert";
import { REVISION_NAME } from "../model/release/revisionName";
import { listStacks } from "../render/stackFile";
import { ofType, renderRepoStack, ROOT, validate } from "./support/render";
import { readStackConfig } from "../render/stackFile";

interface Traffic {
  revision: string;
  percent: number;
  tag: string;
  type: string;
}

describe("every stack file in the repository", () => {
  const stacks = listStacks(ROOT);

  it("includes dev, staging and prod", () => {
    assert.deepEqual(stacks, ["dev", "prod", "staging"]);
  });

  for (const stack of stacks) {
    describe(`Pulumi.${stack}.yaml`, () => {
      it("validates without errors", () => {
        const result = validate(stack, readStackConfig(ROOT, stack).flat);
        assert.ok(result.ok, result.ok ? "" : JSON.stringify(result.issues, null, 2));
      });

      it("renders Cloud Run services whose traffic Cloud Run accepts", async () => {
        const rendered = await renderRepoStack(stack);
        const services = ofType(rendered, "gcp:cloudrunv2/service:Service");
        assert.ok(services.length > 0);
        for (const svc of services) {
          const name = String(svc.inputs.name);
          const template = svc.inputs.template as { revision: string };
          const traffic = svc.inputs.traffics as Traffic[];
          assert.match(template.revision, REVISION_NAME);
          assert.ok(template.revision.startsWith(`${name}-`), `${template.revision} starts with ${name}-`);
          assert.equal(
            traffic.reduce((sum, t) => sum + t.percent, 0),
            100,
          );
          for (const t of traffic) {
            assert.ok(Number.isInteger(t.percent) && t.percent >= 0);
            assert.equal(t.type, "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION");
            assert.ok(t.revision.startsWith(`${name}-`));
            assert.ok(name.length + t.tag.length <= 46);
          }
          assert.equal(new Set(traffic.map((t) => t.tag)).size, traffic.length, "tags are unique");
          // The template's revision is always in the traffic list: never stranded at an implicit 0%.
          assert.ok(traffic.some((t) => t.revision === template.revision));
        }
      });
    });
  }
});
