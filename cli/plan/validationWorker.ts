import { parentPort, workerData } from "node:worker_threads";
import { StackFileError } from "../../render/stackFile";
import { loadValidStack } from "../stackEditor";
import type { ValidationReply } from "./validateAhead";

// Reads and validates one stack file in a worker thread; see validateAhead.ts.
const { dir, stack } = workerData as { dir: string; stack: string };
let reply: ValidationReply;
try {
  reply = { kind: "valid", ...loadValidStack(dir, stack) };
} catch (e) {
  // Anything else (a bug, say) is left to the main thread, which validates again and reports it.
  if (!(e instanceof StackFileError)) throw e;
  reply = { kind: "invalid", message: e.message };
}
parentPort?.postMessage(reply);
