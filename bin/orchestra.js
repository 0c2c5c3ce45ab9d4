#!/usr/bin/env node
"use strict";
// The CLI runs from the TypeScript sources, so it can never be older than the program it renders.
// tsx only transpiles: type errors are CI's job (`npm run typecheck`). Its Node entry (what
// `node --import tsx` loads) hooks require() and also import(), which esbuild leaves native in
// CommonJS output, so the sources' lazy `await import("./x")` needs tsx's module hooks too.
import("tsx")
  .then(() => require("../cli/main").main(process.argv.slice(2)))
  // Exit once stdout is flushed: to a pipe, a large `plan --json` is still being written.
  .then((code) => process.stdout.write("", () => process.exit(code)))
  .catch((err) => {
    process.stderr.write(`orchestra: unexpected error: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
