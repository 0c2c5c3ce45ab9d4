import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "./support/render";

/**
 * Every way the TypeScript runs (the CLI, the tests, `pulumi preview` and `pulumi up`) only transpiles
 * it (@swc-node/register); type errors are caught by `npm run typecheck` in CI. This keeps that
 * script checking.
 */
describe("type-checking", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8"));

  it("`npm run typecheck` reports a type error under the project's compiler options", function () {
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
      const checked = spawnSync(process.execPath, [tsc, "-p", dir, ...flags], { encoding: "utf8" });
      assert.notEqual(checked.status, 0, `typecheck passed a type error:\n${checked.stdout}`);
      assert.match(checked.stdout, /TS2322/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
