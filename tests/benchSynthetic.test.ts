import { strict as assert } from "node:assert";
import { parse } from "yaml";
import { syntheticStackText, SYNTHETIC_STACK } from "../bench/synthetic";
import { ROOT, validate } from "./support/render";
import { formatIssues } from "../config/errors";

function flatten(text: string): Record<string, string> {
  const config = (parse(text) as { config: Record<string, unknown> }).config;
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

describe("bench: synthetic stacks", () => {
  for (const count of [1, 10, 100]) {
    it(`a stack of ${count} services is valid and declares exactly ${count} services`, () => {
      const result = validate(SYNTHETIC_STACK, flatten(syntheticStackText(ROOT, count)));
      assert.ok(result.ok, result.ok ? "" : formatIssues(SYNTHETIC_STACK, result.issues));
      assert.equal(result.config.services.length, count);
      assert.equal(new Set(result.config.services.map((s) => s.name)).size, count);
      assert.ok(result.config.services.every((s) => s.canary === undefined));
    });
  }

  it("refuses a count that is not a positive integer", () => {
    assert.throws(() => syntheticStackText(ROOT, 0), /positive integer/);
  });
});
