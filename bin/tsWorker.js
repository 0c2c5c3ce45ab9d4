"use strict";
// Entry point of a worker thread that runs a TypeScript module: a worker starts with a loader of its
// own, without the main thread's hook, so it installs the same one first.
require("./register");
require(require("node:worker_threads").workerData.module);
