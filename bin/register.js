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
const fs = require("node:fs");
const path = require("node:path");

let swc;
try {
  swc = require("@swc/core");
} catch {
  swc = undefined;
}

if (swc) {
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
  const nodeModules = `${path.sep}node_modules${path.sep}`;
  require.extensions[".ts"] = function compileTypeScript(module, filename) {
    if (filename.includes(nodeModules) || filename.endsWith(".d.ts")) {
      throw new Error(`orchestra: refusing to compile ${filename}`);
    }
    const source = fs.readFileSync(filename, "utf8");
    const { code } = swc.transformSync(source, { ...options, filename });
    module._compile(code, filename);
  };
} else {
  require("ts-node").register({
    transpileOnly: true,
    project: path.join(__dirname, "..", "tsconfig.json"),
  });
}
