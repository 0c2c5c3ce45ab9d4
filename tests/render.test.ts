import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { version } from "@pulumi/pulumi/package.json";
import { CallSitesShapeError, skipCallSites } from "../render/callSites";
import { redactSecrets, REDACTED } from "../render/renderStack";
import { renderRepoStack } from "./support/render";

/** What `orchestra plan` and `orchestra diff` print comes from the offline render. */
describe("the offline render", () => {
  it("lists every resource after its parent, in the order the program declared them", async () => {
    const rendered = await renderRepoStack("prod");
    const seen = new Set<string>();
    for (const r of rendered.resources) {
      if (r.parent && rendered.resources.some((p) => p.name === r.parent))
        assert.ok(seen.has(r.parent), `${r.name} comes after its parent ${r.parent}`);
      seen.add(r.name);
    }
    assert.equal(rendered.resources[0].name, "registry", "index.ts declares the registry first");
  });

  it("redacts nested secrets and leaves the inputs it was given untouched", () => {
    const secret = {
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: "s3cr3t",
    };
    const inputs = {
      name: "api",
      env: [
        { name: "A", value: secret },
        { name: "B", value: "plain" },
      ],
    };
    const before = JSON.stringify(inputs);
    assert.deepEqual(redactSecrets(inputs), {
      name: "api",
      env: [
        { name: "A", value: REDACTED },
        { name: "B", value: "plain" },
      ],
    });
    assert.equal(JSON.stringify(inputs), before);
  });

  describe("the one patch of the Pulumi SDK (render/callSites.ts)", () => {
    it("fails loudly, naming the SDK version, when Resource.callsites is not what it replaces", () => {
      const changed = [
        {},
        { callsites: "not a function" },
        { callsites: (skip: number) => [skip] },
        { callsites: () => "" },
      ];
      for (const target of changed)
        assert.throws(
          () => skipCallSites(target),
          (e: Error) =>
            e instanceof CallSitesShapeError &&
            e.message.includes(`@pulumi/pulumi ${version}`) &&
            e.message.includes("render/callSites.ts"),
        );
    });

    it("holds for the installed SDK, and puts the SDK's method back", () => {
      const resource = pulumi.Resource as unknown as { callsites: () => unknown[] };
      const original = resource.callsites;
      const restore = skipCallSites();
      try {
        assert.deepEqual(resource.callsites(), []);
      } finally {
        restore();
      }
      assert.equal(resource.callsites, original);
    });
  });
});
