import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { parseDocument } from "yaml";
import {
  PULUMI_YAML,
  REFERENCE,
  REGENERATE,
  renderPulumiYaml,
  renderReference,
} from "../scripts/configReference";
import { projectSchema } from "../config/schema";

describe("the configuration reference", () => {
  // The reference as the schema renders it (through prettier), once for the tests that read it.
  let reference: string;
  before(async () => {
    reference = await renderReference();
  });

  it("docs/configuration.md is what the schema describes", () => {
    const committed = fs.existsSync(REFERENCE) ? fs.readFileSync(REFERENCE, "utf8") : "";
    assert.ok(
      committed === reference,
      `docs/configuration.md is stale: run \`${REGENERATE}\` and commit the result.`,
    );
  });

  it("Pulumi.yaml's config descriptions are the schema's", () => {
    const committed = fs.readFileSync(PULUMI_YAML, "utf8");
    assert.ok(
      committed === renderPulumiYaml(committed),
      `Pulumi.yaml's config descriptions are stale: run \`${REGENERATE}\` and commit the result.`,
    );
  });

  it("Pulumi.yaml declares every key of the schema, each with a description", () => {
    const config = parseDocument(fs.readFileSync(PULUMI_YAML, "utf8")).toJS().config as Record<
      string,
      { description?: string }
    >;
    assert.deepEqual(Object.keys(config).sort(), Object.keys(projectSchema("dev").shape).sort());
    for (const [key, entry] of Object.entries(config)) assert.ok(entry.description, key);
  });

  it("lists environment-dependent defaults per environment", () => {
    assert.match(
      reference,
      /`scaling\.minInstances` +\| [^|]+\| `0` \/ `0` \/ `1` \(dev \/ staging \/ prod\)/,
    );
    assert.match(reference, /`enforcement` +\| [^|]+\| `advisory` \/ `mandatory` \/ `mandatory`/);
  });
});
