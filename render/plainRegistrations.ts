import * as pulumi from "@pulumi/pulumi";
// Internal to the SDK, without types: the property (de)serialization its mock monitor uses.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc") as {
  deserializeProperties: (struct: unknown) => Record<string, unknown>;
  serializeProperties: (label: string, props: unknown) => Promise<Record<string, unknown>>;
};

/** The parts of the SDK's MockMonitor (runtime/mocks.js) this relies on. */
interface MockMonitor {
  readonly mocks: pulumi.runtime.Mocks;
  readonly resources: Map<string, { urn: string; id: string | null; state: unknown }>;
  newUrn(parent: string, type: string, name: string): string;
  registerResource(req: RegisterRequest, callback: (err: unknown, response?: unknown) => void): Promise<void>;
}

/** The getters of the SDK's RegisterResourceRequest that the mock monitor reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getObject(): unknown;
  getProvider(): string;
  getCustom(): boolean;
  getImportid(): string;
}

/**
 * Makes the mock monitor answer a resource registration with the resource's state as it is. The SDK's
 * own answer packs the state into a protobuf Struct, which the SDK unpacks at once
 * (`resp.getObject().toJavaScript()`): two deep conversions of every resource's inputs, a tenth of a
 * render. The URN, id and state are the same; the answer carries the getters the SDK reads, as the
 * SDK's own stand-in response does when no monitor is attached (runtime/resource.js). Call after
 * `setMocks`, which creates the monitor; returns the function that puts the SDK's answer back.
 */
export function answerRegistrationsPlainly(): () => void {
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
  monitor.registerResource = async (req, callback) => {
    try {
      const result = await monitor.mocks.newResource({
        type: req.getType(),
        name: req.getName(),
        inputs: rpc.deserializeProperties(req.getObject()),
        provider: req.getProvider(),
        custom: req.getCustom(),
        id: req.getImportid(),
      });
      const urn = monitor.newUrn(req.getParent(), req.getType(), req.getName());
      const state = await rpc.serializeProperties("", result.state);
      monitor.resources.set(urn, { urn, id: result.id ?? null, state });
      callback(null, {
        getUrn: () => urn,
        getId: () => result.id || "",
        getObject: () => ({ toJavaScript: () => state }),
        getPropertydependenciesMap: () => undefined,
        getResult: () => 0,
      });
    } catch (err) {
      callback(err);
    }
  };
  return () => {
    delete (monitor as Partial<MockMonitor>).registerResource;
  };
}
