import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "./support/render";

/**
 * tsconfig.json sets `noCheck` so that `pulumi preview` (ts-node) only transpiles; type errors are
 * caught by `npm run typecheck` in CI instead. These tests keep that split honest.
 */
describe("type-checking", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8"));

  it("the program is only transpiled at `pulumi preview` time (noCheck)", () => {
    assert.equal(tsconfig.compilerOptions.noCheck, true);
  });

  it("`npm run typecheck` still reports a type error in a project that sets noCheck", function () {
    this.timeout(120_000);
    const script: string = pkg.scripts.typecheck;
    const [command, ...flags] = script.split(/\s+/);
    assert.equal(command, "tsc");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-typecheck-"));
    try {
      fs.writeFileSync(
        path.join(dir, "tsconfig.json"),
        JSON.stringify({ compilerOptions: { ...tsconfig.compilerOptions, types: [] }, files: ["bad.ts"] }),
      );
      fs.writeFileSync(path.join(dir, "bad.ts"), 'export const port: number = "8080";\n');
      const tsc = require.resolve("typescript/bin/tsc", { paths: [ROOT] });
      const run = (extra: string[]) =>
        spawnSync(process.execPath, [tsc, "-p", dir, ...extra], { encoding: "utf8" });
      const checked = run(flags);
      assert.notEqual(checked.status, 0, `typecheck passed a type error:\n${checked.stdout}`);
      assert.match(checked.stdout, /TS2322/);
      // Without the script's flags the same project passes: noCheck really is in effect.
      const unchecked = run(["--noEmit"]);
      assert.equal(unchecked.status, 0, unchecked.stdout);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
