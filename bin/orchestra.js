#!/usr/bin/env node
"use strict";
// The CLI runs from the TypeScript sources, so it can never be older than the program it renders.
// @swc-node/register only transpiles (type errors are CI's job, `npm run typecheck`), and only files
// with TypeScript extensions: the SDK's thousand JavaScript modules load as Node loads them.
// The hook takes its compiler options from tsconfig.json in the working folder (or from
// TS_NODE_PROJECT): the CLI's own are the ones beside it, from whichever folder it is started.
process.env.SWC_NODE_PROJECT = require("node:path").join(__dirname, "..", "tsconfig.json");
require("@swc-node/register");

// google-auth-library probes for Google's metadata server when no credentials are set, and off Google
// Cloud its probe (gcp-metadata) reads fetch's failure as unexpected and prints a MetadataLookupWarning;
// the command then says itself that credentials are missing and how to fix it. Every other warning
// prints as Node prints it.
const [printWarning] = process.listeners("warning");
if (printWarning) {
  process.removeListener("warning", printWarning);
  process.on("warning", (w) => w.name === "MetadataLookupWarning" || printWarning(w));
}

// Leave as Node leaves when its work is done, so that file writes still pending finish: the loader
// stores its transpiled output asynchronously, and a process.exit() at once cut those writes off every
// run (a fresh transpile each time, and an empty file left behind per module). Once stdout is flushed,
// a connection a client keeps open may hold the process a moment at most.
const end = (code) => {
  process.exitCode = code;
  process.stdout.write("", () => setTimeout(() => process.exit(code), 250).unref());
};

require("../cli/main")
  .main(process.argv.slice(2))
  .then(end)
  .catch((err) => {
    process.stderr.write(`orchestra: unexpected error: ${err && err.stack ? err.stack : err}\n`);
    end(1);
  });
