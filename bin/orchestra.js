#!/usr/bin/env node
"use strict";
// The CLI runs from the TypeScript sources, so it can never be older than the program it renders.
// tsx only transpiles: type errors are CI's job (`npm run typecheck`).
require("tsx/cjs/api").register();
// tsx turns on Node's source maps, which then parses the map of every module the Pulumi SDK loads
// (about half a second per plan). Stack traces name TypeScript lines with `--enable-source-maps`.
if (
  !process.execArgv.includes("--enable-source-maps") &&
  !/--enable-source-maps/.test(process.env.NODE_OPTIONS ?? "")
) {
  process.setSourceMapsEnabled(false);
}

require("../cli/main")
  .main(process.argv.slice(2))
  // Exit once stdout is flushed: to a pipe, a large `plan --json` is still being written.
  .then((code) => process.stdout.write("", () => process.exit(code)))
  .catch((err) => {
    process.stderr.write(`orchestra: unexpected error: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
