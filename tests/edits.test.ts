import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { applyToObject, type Edit } from "../model/canary/edits";
import { applyToDocument, renderDocument } from "../cli/yamlEdits";

function edit(text: string, edits: Edit[]): string {
  const doc = parseDocument(text);
  applyToDocument(doc, edits);
  return renderDocument(doc, text);
}

describe("stack file edits", () => {
  it("changes a scalar in place, keeping its comment", () => {
    const text = "config:\n  svc:\n    percent: 10 # bump me\n";
    assert.equal(
      edit(text, [{ op: "set", path: ["config", "svc", "percent"], value: 30 }]),
      "config:\n  svc:\n    percent: 30 # bump me\n",
    );
  });

  it("places a new key after the named sibling", () => {
    const text = "config:\n  svc:\n    stable: {}\n    cpu: 1\n";
    const out = edit(text, [
      { op: "set", path: ["config", "svc", "canary"], value: { percent: 5 }, after: "stable" },
    ]);
    assert.equal(out, "config:\n  svc:\n    stable: {}\n    canary:\n      percent: 5\n    cpu: 1\n");
  });

  it("keeps a file-ending comment where it was", () => {
    const glued = "config:\n  a: 1\n# End.\n";
    assert.equal(edit(glued, [{ op: "set", path: ["config", "a"], value: 2 }]), "config:\n  a: 2\n# End.\n");
    const spaced = "config:\n  a: 1\n\n# End.\n";
    assert.equal(
      edit(spaced, [{ op: "set", path: ["config", "a"], value: 2 }]),
      "config:\n  a: 2\n\n# End.\n",
    );
  });

  it("keeps flow lists as the file spells them", () => {
    const tight = "config:\n  a: 1\n  receives: [page]\n  regions: [europe-west1, europe-west4]\n";
    assert.equal(
      edit(tight, [{ op: "set", path: ["config", "a"], value: 2 }]),
      tight.replace("a: 1", "a: 2"),
    );
    const padded = "config:\n  a: 1\n  receives: [ page ]\n";
    assert.equal(
      edit(padded, [{ op: "set", path: ["config", "a"], value: 2 }]),
      padded.replace("a: 1", "a: 2"),
    );
  });

  it("every stack file in the repository survives an edit unchanged but for the edited line", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const text = fs.readFileSync(path.join(__dirname, "..", `Pulumi.${stack}.yaml`), "utf8");
      const out = edit(text, [{ op: "set", path: ["config", "ai-orchestra:environment"], value: stack }]);
      assert.equal(out, text, `Pulumi.${stack}.yaml`);
    }
  });

  it("applies the same edits to plain data", () => {
    const edits: Edit[] = [
      { op: "set", path: ["config", "svc", "canary"], value: { percent: 5 } },
      { op: "delete", path: ["config", "svc", "old"] },
    ];
    const before = { config: { svc: { old: true } } };
    assert.deepEqual(applyToObject(before, edits), { config: { svc: { canary: { percent: 5 } } } });
    assert.deepEqual(before, { config: { svc: { old: true } } }, "the input is not mutated");
  });
});
