"use strict";
// Lets Node run the TypeScript sources directly. Transpile-only: type errors are CI's job (`npm run
// typecheck`), not every invocation's.
//
// With SWC's native binding this is a plain `require` hook: no ts-node, no TypeScript compiler and no
// stack-trace source mapping. Pulumi captures a full stack trace for every resource it registers, and
// mapping each frame through source maps cost several milliseconds per resource (see README,
// Performance). Set ORCHESTRA_SOURCE_MAPS=1 to get stack traces with TypeScript line numbers (Node's
// own source-map support, slower). Where SWC's binding is missing for a platform, ts-node with
// TypeScript's own transpiler does the same job, slower.
//
// Transpiled output is kept in node_modules/.cache/orchestra-ts, keyed by a hash of the source, the
// options and SWC's version: a cold start that finds every file there neither transpiles nor loads SWC.
// ORCHESTRA_TRANSPILE_CACHE=0 turns the cache off.
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const SWC_PACKAGE = path.join(ROOT, "node_modules", "@swc", "core", "package.json");

/** SWC's version, or undefined when it is not installed. */
function swcVersion() {
  try {
    return JSON.parse(fs.readFileSync(SWC_PACKAGE, "utf8")).version;
  } catch {
    return undefined;
  }
}

/** Loads SWC's native binding; undefined when this platform has none. */
function loadSwc() {
  try {
    return require("@swc/core");
  } catch {
    return undefined;
  }
}

const version = swcVersion();
const useCache = version !== undefined && process.env.ORCHESTRA_TRANSPILE_CACHE !== "0";
// Without the cache, SWC is needed for every file: check now that it loads.
let swc = version && !useCache ? loadSwc() : undefined;

if (useCache || swc) {
  const sourceMaps = process.env.ORCHESTRA_SOURCE_MAPS === "1";
  if (sourceMaps) process.setSourceMapsEnabled(true);
  const options = {
    swcrc: false,
    configFile: false,
    sourceMaps: sourceMaps ? "inline" : false,
    // Same output as tsconfig.json asks of TypeScript: ES2022, CommonJS, esModuleInterop, strict.
    jsc: {
      parser: { syntax: "typescript" },
      target: "es2022",
      keepClassNames: true,
      transform: { useDefineForClassFields: true },
    },
    module: { type: "commonjs", noInterop: false, strictMode: true },
  };
  const transpile = (source, filename) => {
    swc ??= loadSwc();
    if (!swc) return { code: typeScriptTranspile(source, filename), cacheable: false };
    return { code: swc.transformSync(source, { ...options, filename }).code, cacheable: true };
  };
  const cache = useCache ? transpileCache(version, options) : undefined;
  const nodeModules = `${path.sep}node_modules${path.sep}`;
  require.extensions[".ts"] = function compileTypeScript(module, filename) {
    if (filename.includes(nodeModules) || filename.endsWith(".d.ts")) {
      throw new Error(`orchestra: refusing to compile ${filename}`);
    }
    const source = fs.readFileSync(filename, "utf8");
    const code = cache ? cache.get(source, filename, transpile) : transpile(source, filename).code;
    module._compile(code, filename);
  };
} else {
  require("ts-node").register({ transpileOnly: true, project: path.join(ROOT, "tsconfig.json") });
}

/** TypeScript's own transpiler, for a platform without SWC's binding (as ts-node would run it). */
function typeScriptTranspile(source, filename) {
  const ts = require("typescript");
  const { options } = ts.convertCompilerOptionsFromJson(
    { module: "commonjs", target: "es2022", esModuleInterop: true, useDefineForClassFields: true },
    ROOT,
  );
  return ts.transpileModule(source, { compilerOptions: options, fileName: filename }).outputText;
}

/**
 * Transpiled files by content hash. Writes go through a temporary file and a rename, so a concurrent
 * process (mocha --parallel) never reads half a file; a cache that cannot be written is just skipped.
 */
function transpileCache(swcVer, options) {
  const dir = path.join(ROOT, "node_modules", ".cache", "orchestra-ts");
  const salt = JSON.stringify([swcVer, options]);
  let writable = true;
  return {
    get(source, filename, transpile) {
      // The output depends on the file's name only through an inline source map: without one, the same
      // source anywhere (a diff's worktree of another commit, say) is the same entry.
      const key = crypto.createHash("sha256").update(salt);
      if (options.sourceMaps) key.update(filename);
      key.update("\0").update(source);
      const file = path.join(dir, `${key.digest("hex").slice(0, 40)}.js`);
      try {
        return fs.readFileSync(file, "utf8");
      } catch {
        // Not cached yet.
      }
      const { code, cacheable } = transpile(source, filename);
      if (writable && cacheable) {
        try {
          fs.mkdirSync(dir, { recursive: true });
          // The thread too: the plan's validation worker shares the process id.
          const tmp = `${file}.${process.pid}-${require("node:worker_threads").threadId}.tmp`;
          fs.writeFileSync(tmp, code);
          fs.renameSync(tmp, file);
        } catch {
          writable = false;
        }
      }
      return code;
    },
  };
}
