import * as pulumi from "@pulumi/pulumi";
// Internal to the SDK, without types: the module every runtime file calls `debuggablePromise` through.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
  debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T>;
};

/**
 * Switches off two pieces of the Pulumi SDK's per-resource bookkeeping that an offline render never
 * reads, and returns the function that switches them back on:
 *
 * - every resource records the call stack it was declared from (`Resource.callsites`, a full
 *   `new Error().stack` parsed line by line) for the engine's source positions;
 * - every SDK promise (several per resource, one per input property) is wrapped for the leak report
 *   printed if the process exits with promises pending: two more promises each, and a context string
 *   kept alive until it settles. The render awaits `disconnect()`, which waits for every resource.
 *
 * Together they were about a third of a large render's time and most of its memory. The SDK calls
 * both through their module objects, so replacing the properties reaches every caller.
 */
export function skipRuntimeBookkeeping(): () => void {
  const resource = pulumi.Resource as unknown as { callsites: () => unknown[] };
  const callsites = resource.callsites;
  const debuggablePromise = debuggable.debuggablePromise;
  resource.callsites = () => [];
  debuggable.debuggablePromise = (p) => p;
  return () => {
    resource.callsites = callsites;
    debuggable.debuggablePromise = debuggablePromise;
  };
}
