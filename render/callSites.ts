import * as pulumi from "@pulumi/pulumi";
import { version as sdkVersion } from "@pulumi/pulumi/package.json";

/** The shape this relies on: the SDK's private `static callsites()` (resource.js), returning frames. */
interface WithCallSites {
  callsites: () => unknown[];
}

/** Thrown when the SDK no longer has what `skipCallSites` replaces. */
export class CallSitesShapeError extends Error {}

/**
 * Stops the Pulumi SDK from recording, for every resource, the call stack it was declared from. The
 * SDK captures a stack of unlimited depth per resource and parses it line by line, for the source
 * positions it sends the engine; with source maps on each frame is mapped too. An offline render never reads them, and it was the largest of the SDK's per-resource costs
 * (about 140 ms of a cold prod render's 960 ms of CPU). Returns the function that puts it back.
 *
 * `Resource.callsites` is private to the SDK, so this checks that it still exists and answers with
 * an array before replacing it, and throws otherwise: an upgrade that changed it must fail here, not
 * slow renders down or break them unnoticed. `target` is for tests.
 */
export function skipCallSites(target: unknown = pulumi.Resource): () => void {
  const resource = target as Partial<WithCallSites>;
  const original = resource.callsites;
  if (typeof original !== "function" || original.length !== 0 || !Array.isArray(original.call(target)))
    throw new CallSitesShapeError(
      `@pulumi/pulumi ${sdkVersion} has no Resource.callsites() returning an array, which ` +
        "render/callSites.ts replaces during a render (written for 3.248). Check the SDK's resource.js " +
        "and adapt or delete render/callSites.ts.",
    );
  resource.callsites = () => [];
  return () => {
    resource.callsites = original;
  };
}

/**
 * Runs `work` with the SDK's stack traces off, as every offline build of resources runs. Pulumi records
 * a stack trace with every promise it makes (several per resource), for leak reports nobody reads
 * offline, and a full one per resource for source positions (`skipCallSites`); with source maps on,
 * each frame is mapped too. Errors still carry their messages. ORCHESTRA_STACK_TRACES=1 runs the SDK as
 * it is, to debug.
 */
export async function withoutStackTraces<T>(work: () => Promise<T>): Promise<T> {
  if (process.env.ORCHESTRA_STACK_TRACES === "1") return work();
  // First: it throws if the SDK has changed, before anything else is switched.
  const restoreCallSites = skipCallSites();
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return await work();
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    restoreCallSites();
  }
}
