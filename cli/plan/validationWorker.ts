import { parentPort, workerData } from "node:worker_threads";
import { gcpConfigKeys } from "../../config/gcpKeys";
import { validateStackConfig } from "../../config/validate";
import { readStackConfig, StackFileError } from "../../render/stackFile";
import type { ValidationReply } from "./validateAhead";

// Reads and validates one stack file in a worker thread; see validateAhead.ts.
const { dir, stack } = workerData as { dir: string; stack: string };
let reply: ValidationReply;
try {
  const file = readStackConfig(dir, stack);
  reply = {
    kind: "validated",
    file,
    result: validateStackConfig(stack, file.flat, { gcpKeys: gcpConfigKeys }),
  };
} catch (e) {
  // Anything else (a bug, say) is left to the main thread, which validates again and reports it.
  if (!(e instanceof StackFileError)) throw e;
  reply = { kind: "unreadable", message: e.message };
}
parentPort?.postMessage(reply);
