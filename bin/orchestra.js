#!/usr/bin/env node
"use strict";
// Node 22.1 and later keep V8's compiled code between runs (no-op on Node 20; the bench's floor does the same).
require("node:module").enableCompileCache?.();
// The CLI runs from the TypeScript sources, so it can never be older than the program it renders.
require("./register");

require("../cli/main")
  .main(process.argv.slice(2))
  // Exit once stdout is flushed: to a pipe, a large `plan --json` is still being written.
  .then((code) => process.stdout.write("", () => process.exit(code)))
  .catch((err) => {
    process.stderr.write(`orchestra: unexpected error: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
