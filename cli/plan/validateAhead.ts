import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { gcpConfigKeys } from "../../config/gcpKeys";
import type { StackConfig } from "../../model/types";
import { rememberValidation } from "../../config/validate";
import { existingStackFile, StackFileError, type StackConfigFile } from "../../render/stackFile";

export interface ValidStack {
  readonly config: StackConfig;
  readonly warnings: readonly string[];
  readonly file: StackConfigFile;
}

/** What the worker sends back: what `loadValidStack` returned, or the message of its StackFileError. */
export type ValidationReply =
  ({ readonly kind: "valid" } & ValidStack) | { readonly kind: "invalid"; readonly message: string };

const WORKER = path.resolve(__dirname, "..", "..", "bin", "tsWorker.js");

/**
 * Reads and validates a stack file on another thread, so that it costs no time while this one loads
 * the Pulumi SDK (loading yaml, zod and the schemas, then validating, is about 130 ms; the SDK about
 * 450 ms). A valid answer is handed to `validateStackConfig`, so the program's own call in the render
 * is answered without loading zod here at all. Settles like `loadValidStack`: the valid stack, or its
 * StackFileError listing the config errors; throws at once when the stack file does not exist. If the
 * worker fails for any other reason, the stack is validated on this thread instead, which reports
 * whatever went wrong. `workerScript` is for tests.
 */
export function validateAhead(dir: string, stack: string, workerScript = WORKER): Promise<ValidStack> {
  // Thrown here, before the caller loads the SDK: a stack that does not exist is reported at once.
  existingStackFile(dir, stack);
  return new Promise<ValidationReply | undefined>((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(workerScript, {
        workerData: { module: path.join(__dirname, "validationWorker.ts"), dir, stack },
      });
    } catch {
      resolve(undefined);
      return;
    }
    worker.unref();
    worker.once("message", (reply: ValidationReply) => resolve(reply));
    worker.once("error", () => resolve(undefined));
    worker.once("exit", () => resolve(undefined));
  }).then((reply) => {
    // Loaded only for this fallback.
    if (!reply) return import("../stackEditor").then((m) => m.loadValidStack(dir, stack));
    if (reply.kind === "invalid") throw new StackFileError(reply.message);
    const { config, warnings, file } = reply;
    rememberValidation(stack, file.flat, { gcpKeys: gcpConfigKeys }, { ok: true, config, warnings });
    return { config, warnings, file };
  });
}
