import { strict as assert } from "node:assert";
import { ImageRegistry, type ImageRegistryArgs } from "../../components/registry/imageRegistry";
import { buildComponent, type Built } from "../support/components";

function build(overrides: Partial<ImageRegistryArgs> = {}): Promise<Built<ImageRegistry>> {
  return buildComponent(
    () =>
      new ImageRegistry("registry", {
        project: "proj-test",
        region: "europe-west1",
        repository: "orchestra",
        cleanup: { keepVersions: 10, deleteUntaggedAfterDays: 7 },
        labels: { team: "orchestra" },
        ...overrides,
      }),
  );
}

describe("ImageRegistry (built alone)", () => {
  it("one Docker repository under the component, with immutable tags by default, its cleanup policies and scanning", async () => {
    const b = await build();
    assert.deepEqual(
      b.resources.map((r) => [r.type, r.name, r.parent]),
      [
        ["ai-orchestra:registry:ImageRegistry", "registry", undefined],
        ["gcp:artifactregistry/repository:Repository", "registry-repository", "registry"],
      ],
    );
    assert.deepEqual(b.byName("registry-repository").inputs, {
      project: "proj-test",
      location: "europe-west1",
      repositoryId: "orchestra",
      format: "DOCKER",
      description: "Container images of AI Orchestra's services. Managed by Pulumi.",
      dockerConfig: { immutableTags: true },
      cleanupPolicies: [
        {
          id: "delete-untagged",
          action: "DELETE",
          condition: { tagState: "UNTAGGED", olderThan: "604800s" },
        },
        { id: "keep-recent", action: "KEEP", mostRecentVersions: { keepCount: 10 } },
      ],
      cleanupPolicyDryRun: false,
      vulnerabilityScanningConfig: { enablementConfig: "INHERITED" },
      labels: { team: "orchestra" },
    });
  });

  it("its URL is the prefix of every image in it, known before anything is created", async () => {
    const b = await build();
    assert.equal(b.value.url, "europe-west1-docker.pkg.dev/proj-test/orchestra");
  });

  it("mutable tags when asked (dev re-pushes a moving tag)", async () => {
    const b = await build({ immutableTags: false, labels: undefined });
    assert.deepEqual(b.byName("registry-repository").inputs.dockerConfig, { immutableTags: false });
    assert.deepEqual(b.byName("registry-repository").inputs.labels, {});
  });
});
