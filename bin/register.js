"use strict";
// Lets Node run the TypeScript sources directly. Transpile-only: type errors are CI's job (`npm run
// typecheck`), not every invocation's. SWC transpiles several times faster than TypeScript; where its
// native binding is missing for a platform, TypeScript's own transpiler does the same job, slower.
const path = require("node:path");

let transpiler;
try {
  require("@swc/core");
  transpiler = "ts-node/transpilers/swc";
} catch {
  transpiler = undefined;
}
require("ts-node").register({
  transpileOnly: true,
  transpiler,
  project: path.join(__dirname, "..", "tsconfig.json"),
});
