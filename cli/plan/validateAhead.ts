import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { formatIssues } from "../../config/errors";
import { gcpConfigKeys } from "../../config/gcpKeys";
import type { StackConfig } from "../../config/types";
import { rememberValidation, type ValidationResult } from "../../config/validate";
import { existingStackFile, StackFileError, type StackConfigFile } from "../../render/stackFile";

/** What the worker sends back: the stack file and its validation, or why the file could not be read. */
export type ValidationReply =
  | { readonly kind: "validated"; readonly file: StackConfigFile; readonly result: ValidationResult }
  | { readonly kind: "unreadable"; readonly message: string };

export interface ValidStack {
  readonly config: StackConfig;
  readonly warnings: readonly string[];
  readonly file: StackConfigFile;
}

const WORKER = path.resolve(__dirname, "..", "..", "bin", "tsWorker.js");

/**
 * Reads and validates a stack file on another thread, so that it costs no time while this one loads
 * the Pulumi SDK (loading yaml, zod and the schemas, then validating, is about 130 ms; the SDK about
 * 450 ms). The answer is handed to `validateStackConfig`, so the program's own call in the render is
 * answered without loading zod here at all. Settles like `loadValidStack`: the valid stack, or a
 * StackFileError listing the config errors; throws at once when the stack file does not exist. If the worker fails for any other reason, the stack is
 * validated on this thread instead, which reports whatever went wrong. `workerScript` is for tests.
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
    if (reply.kind === "unreadable") throw new StackFileError(reply.message);
    const { file, result } = reply;
    rememberValidation(stack, file.flat, { gcpKeys: gcpConfigKeys }, result);
    if (!result.ok) throw new StackFileError(formatIssues(stack, result.issues));
    return { config: result.config, warnings: result.warnings, file };
  });
}
