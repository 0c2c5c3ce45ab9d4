import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { buildProgram, COMMAND_NAMES, commandsFor } from "../cli/main";
import { redactSecrets, REDACTED, renderStack } from "../render/renderStack";
import { readStackConfig } from "../render/stackFile";
import { skipRuntimeBookkeeping } from "../render/runtimeBookkeeping";
import { oneAtATime, renderRepoStack, ROOT, validate } from "./support/render";

/** The shortcuts that keep start-up and renders fast still give the same answers. */
describe("fast paths", () => {
  describe("the CLI defines only the command it runs", () => {
    const all = [
      "doctor",
      "auth",
      "plan",
      "diff",
      "preview",
      "up",
      "canary",
      "rollout",
      "cicd",
      "history",
      "completion",
    ];

    it("one named command alone; everything for help, a typo, an option first, or completion", () => {
      assert.deepEqual(commandsFor(["plan", "--stack", "prod"]), ["plan"]);
      assert.deepEqual(commandsFor(["canary", "set", "api", "10"]), ["canary"]);
      assert.deepEqual(commandsFor(["up", "--stack", "prod"]), ["up"]);
      for (const argv of [[], ["--help"], ["--version"], ["plna"], ["help", "plan"], ["completion", "bash"]])
        assert.deepEqual(commandsFor(argv), all, argv.join(" "));
      assert.deepEqual(commandsFor(undefined), all);
    });

    it("buildProgram defines exactly those commands", () => {
      assert.deepEqual(
        buildProgram(["plan", "--stack", "prod"]).commands.map((c) => c.name()),
        ["plan"],
      );
      // One module defines both: asking for either defines the pair.
      assert.deepEqual(
        buildProgram(["preview", "--stack", "dev"]).commands.map((c) => c.name()),
        ["preview", "up"],
      );
      assert.deepEqual(
        buildProgram().commands.map((c) => c.name()),
        all,
      );
      assert.deepEqual(COMMAND_NAMES, all);
    });
  });

  describe("secret redaction", () => {
    const secret = {
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: "s3cr3t",
    };

    it("returns a value without secrets as it is, not a copy", () => {
      const inputs = {
        name: "api",
        template: { containers: [{ image: "x", env: [{ name: "A", value: "1" }] }] },
      };
      assert.equal(redactSecrets(inputs), inputs);
    });

    it("replaces nested secrets and leaves the input untouched", () => {
      const inputs = {
        name: "api",
        env: [
          { name: "A", value: secret },
          { name: "B", value: "plain" },
        ],
      };
      const before = JSON.stringify(inputs);
      const out = redactSecrets(inputs) as typeof inputs;
      assert.deepEqual(out, {
        name: "api",
        env: [
          { name: "A", value: REDACTED },
          { name: "B", value: "plain" },
        ],
      });
      assert.equal(JSON.stringify(inputs), before);
      assert.equal(out.env[1], inputs.env[1], "the part without a secret is shared");
    });
  });

  it("the SDK's per-resource bookkeeping is switched off during a render and back on after", () => {
    const resource = pulumi.Resource as unknown as { callsites: () => unknown[] };
    const original = resource.callsites;
    const restore = skipRuntimeBookkeeping();
    try {
      assert.deepEqual(resource.callsites(), []);
    } finally {
      restore();
    }
    assert.equal(resource.callsites, original);
    assert.ok(resource.callsites().length > 0);
  });

  it("a render lists every resource after its parent, in the order the program declared them", async () => {
    const rendered = await renderRepoStack("prod");
    const seen = new Set<string>();
    for (const r of rendered.resources) {
      if (r.parent && rendered.resources.some((p) => p.name === r.parent))
        assert.ok(seen.has(r.parent), `${r.name} comes after its parent ${r.parent}`);
      seen.add(r.name);
    }
    assert.equal(rendered.resources[0].name, "registry", "index.ts declares the registry first");
  });

  it("a render keeps the project's modules loaded, so the plan's validation answers the program's", async () => {
    const file = readStackConfig(ROOT, "staging");
    const before = validate("staging", file.flat);
    const validateModule = require.cache[require.resolve("../config/validate")];
    await oneAtATime(() => renderStack({ dir: ROOT, stack: "staging", config: file }));
    // Had the render reloaded config/validate, the program would have validated again in a fresh copy.
    assert.equal(require.cache[require.resolve("../config/validate")], validateModule);
    assert.equal(validate("staging", file.flat), before);
  });
});
