import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { builtinModules } from "node:module";
import * as path from "node:path";
import { languageHostLaunch } from "./support/pulumiEngine";
import { ROOT } from "./support/render";

/**
 * `npm ci --omit=dev` must leave everything the Pulumi runtime needs to run the program: the packages
 * its files import, and the loader Pulumi.yaml's `nodeargs` has Node require to run TypeScript, with
 * its peers. Not `--omit=optional`: @swc/core ships its compiler as one optional package per platform.
 */

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The files `pulumi up` loads: index.ts and everything it imports, followed through relative imports. */
function programFiles(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = fs.readFileSync(file, "utf8");
    seen.set(file, text);
    for (const m of text.matchAll(/^(?:import|export)(?!\s+type\b)[^;]*?from\s+"([^"]+)"/gms)) {
      if (!m[1].startsWith(".")) continue;
      const base = path.resolve(path.dirname(file), m[1]);
      const next = [`${base}.ts`, path.join(base, "index.ts")].find((f) => fs.existsSync(f));
      assert.ok(next, `${path.relative(ROOT, file)} imports ${m[1]}, which is not a .ts file`);
      visit(next);
    }
  };
  visit(entry);
  return seen;
}

const packageOf = (specifier: string) =>
  specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0];

describe("packaging", () => {
  it("the loader Pulumi.yaml's nodeargs requires, and its peers, are runtime dependencies", () => {
    const launch = languageHostLaunch(ROOT);
    assert.equal(
      launch.typescript,
      false,
      "the runtime's own ts-node is off: the loader runs the TypeScript",
    );
    const required = launch.nodeArgs.flatMap((a, i) => (launch.nodeArgs[i - 1] === "--require" ? [a] : []));
    assert.deepEqual(required, ["@swc-node/register"]);
    const loader = JSON.parse(
      fs.readFileSync(path.join(ROOT, "node_modules/@swc-node/register/package.json"), "utf8"),
    ) as { peerDependencies: Record<string, string> };
    for (const name of [...required, ...Object.keys(loader.peerDependencies)]) {
      assert.ok(pkg.dependencies[name], `${name} is in dependencies`);
      assert.equal(pkg.devDependencies[name], undefined, `${name} is not a devDependency`);
    }
  });

  it("every package the program imports at run time is a runtime dependency", () => {
    const files = programFiles(path.join(ROOT, "index.ts"));
    assert.ok(files.size > 20, `${files.size} program files found`);
    const imported = new Set<string>();
    for (const text of files.values())
      for (const m of text.matchAll(/^(?:import|export)(?!\s+type\b)[^;]*?from\s+"([^"]+)"/gms))
        if (!m[1].startsWith(".") && !m[1].startsWith("node:") && !builtinModules.includes(m[1]))
          imported.add(packageOf(m[1]));
    assert.ok(imported.has("@pulumi/pulumi") && imported.has("zod"), [...imported].join(", "));
    for (const name of imported) assert.ok(pkg.dependencies[name], `${name} is imported by the program`);
  });
});
