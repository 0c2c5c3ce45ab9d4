import * as pulumi from "@pulumi/pulumi";
import type { ServiceMonitoring } from "../../model/monitoring";
import type { ServiceConfig } from "../../model/types";
import { withoutStackTraces } from "../../render/callSites";
import { OfflineMocks } from "../../render/offlineMocks";
import { redactSecrets } from "../../render/renderStack";
import { digest, oneAtATime, REPO } from "./render";

/**
 * Builds components on their own under Pulumi's mocks, without the stack program, from hand-made
 * args. Every `newResource` call is recorded with its raw inputs.
 */

/** One resource as a component declared it. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  /** Name of its parent; absent for the component under test. */
  readonly parent?: string;
  /** Inputs as sent to the engine, secrets shown as `[secret]`. */
  readonly inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Names of the resources in its `dependsOn` option, when it has one. */
  readonly dependsOn?: readonly string[];
}

export interface Built<T> {
  /** What `declare` returned: the component, to read its outputs with `promiseOf`. */
  readonly value: T;
  /** Every resource, in the order it was declared. */
  readonly resources: readonly RecordedResource[];
  /** The resource called `name`; throws when there is none. */
  byName(name: string): RecordedResource;
  /** Every resource of a type token. */
  ofType(type: string): RecordedResource[];
}

/**
 * Runs `declare` under fresh mocks and waits until the engine has heard of every resource. One build
 * at a time, after any render this process started: the Pulumi runtime is global.
 */
export function buildComponent<T>(
  declare: () => T,
  options: { readonly stack?: string; readonly config?: Record<string, string> } = {},
): Promise<Built<T>> {
  return oneAtATime(async () => {
    const declared: { type: string; name: string; parent?: string; dependsOn?: string[] }[] = [];
    const inputs = new Map<string, Record<string, unknown>>();
    const mocks = new OfflineMocks();
    await pulumi.runtime.setMocks(
      {
        call: (args) => mocks.call(args),
        newResource: (args) => {
          inputs.set(`${args.type}::${args.name}`, redactSecrets(args.inputs) as Record<string, unknown>);
          return mocks.newResource(args);
        },
      },
      "ai-orchestra",
      options.stack ?? "prod",
      false,
    );
    pulumi.runtime.setAllConfig(options.config ?? {}, []);
    let value: T | undefined;
    // As the offline render builds them (render/callSites.ts).
    await withoutStackTraces(async () => {
      await pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation((t) => {
          const deps = t.opts.dependsOn;
          declared.push({
            type: t.type,
            name: t.name,
            ...(t.opts.parent && t.opts.parent !== pulumi.runtime.getStackResource()
              ? { parent: pulumi.resourceName(t.opts.parent) }
              : {}),
            ...(deps
              ? {
                  dependsOn: (Array.isArray(deps) ? deps : [deps]).map((d) =>
                    pulumi.resourceName(d as pulumi.Resource),
                  ),
                }
              : {}),
          });
          return undefined;
        });
        value = declare();
        return {};
      });
      await pulumi.runtime.disconnect();
    });
    const resources = declared.map((d) => ({
      ...d,
      inputs: inputs.get(`${d.type}::${d.name}`) ?? {},
    }));
    return {
      value: value as T,
      resources,
      byName(name) {
        const found = resources.find((r) => r.name === name);
        if (!found) throw new Error(`no resource ${name}; have ${resources.map((r) => r.name).join(", ")}`);
        return found;
      },
      ofType: (type) => resources.filter((r) => r.type === type),
    };
  });
}

/** The value of an Output, once known. */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

export const STABLE_IMAGE = `${REPO}@${digest("stable")}`;
export const CANARY_IMAGE = `${REPO}@${digest("canary")}`;

/** A validated service as config/ would hand it over: `api` in europe-west1, stable only, private. */
export function serviceConfig(overrides: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    name: "api",
    regions: ["europe-west1"],
    repository: REPO,
    stable: { image: STABLE_IMAGE },
    cpu: "1",
    cpuAllocation: "request",
    memory: "512Mi",
    scaling: { minInstances: 1, maxInstances: 10, concurrency: 80 },
    env: {},
    secretEnv: {},
    ingress: "all",
    allowUnauthenticated: false,
    invokers: [],
    port: 8080,
    timeoutSeconds: 300,
    deletionProtection: true,
    consumes: [],
    publishes: [],
    ...overrides,
  };
}

/**
 * A service's resolved monitoring settings, with thresholds chosen to be recognisable in what a
 * component declares (a 2% error ratio, 1500 ms at p95).
 */
export function serviceMonitoring(overrides: Partial<ServiceMonitoring> = {}): ServiceMonitoring {
  return {
    alerts: {
      errorRatio: { threshold: 0.02, durationSeconds: 120, notify: "page" },
      latency: { percentile: 95, thresholdMs: 1500, durationSeconds: 300, notify: "page" },
      canary: {
        margin: 0.01,
        minRequestsPerSecond: 0.1,
        durationSeconds: 300,
        evaluationSeconds: 60,
        notify: "page",
      },
      uptime: { periodSeconds: 300, timeoutSeconds: 10, notify: "page" },
      saturation: { ratio: 0.8, durationSeconds: 600, notify: "ticket" },
      fastBurn: { notify: "page" },
      slowBurn: { notify: "ticket" },
      queueAge: { thresholdSeconds: 600, durationSeconds: 120, notify: "page" },
      queueBacklog: { messages: 500, durationSeconds: 300, notify: "ticket" },
      deadLetters: { notify: "ticket" },
      pushErrors: { ratio: 0.2, durationSeconds: 300, notify: "page" },
    },
    slo: {
      availability: { goal: 0.999, rollingPeriodDays: 28 },
      latency: { goal: 0.99, thresholdMs: 1000, rollingPeriodDays: 28 },
      jobs: { goal: 0.97, rollingPeriodDays: 28 },
    },
    ...overrides,
  };
}
