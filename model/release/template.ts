import type { ServiceConfig } from "../types";

/** A Cloud Run v2 revision template as plain data: exactly what the revision name is derived from. */
export interface RevisionTemplate {
  readonly serviceAccount: string;
  readonly maxInstanceRequestConcurrency: number;
  readonly timeout: string;
  /** Min instances are the service's, not the revision's: see `serviceScaling`. */
  readonly scaling: { readonly maxInstanceCount: number };
  readonly containers: [
    {
      readonly image: string;
      readonly ports: { readonly containerPort: number };
      readonly resources: {
        readonly limits: { readonly cpu: string; readonly memory: string };
        /** Set explicitly: unset with limits set, Cloud Run allocates CPU for the whole instance life. */
        readonly cpuIdle: boolean;
      };
      readonly envs: RevisionEnv[];
      readonly startupProbe?: Probe;
      readonly livenessProbe?: Probe;
    },
  ];
}

export interface RevisionEnv {
  readonly name: string;
  readonly value?: string;
  readonly valueSource?: { readonly secretKeyRef: { readonly secret: string; readonly version: string } };
}

interface Probe {
  readonly httpGet: { readonly path: string; readonly port: number };
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
}

/**
 * The revision template for one release of a service. Everything a revision is made of goes in here,
 * and nothing else, so that equal templates mean equal revisions.
 */
export function revisionTemplate(
  service: ServiceConfig,
  image: string,
  serviceAccountEmail: string,
): RevisionTemplate {
  // Sorted so that reordering keys in the stack file is not a change.
  const envs: RevisionEnv[] = [
    ...Object.entries(service.env).map(([name, value]) => ({ name, value })),
    ...Object.entries(service.secretEnv).map(([name, ref]) => ({
      name,
      valueSource: { secretKeyRef: { secret: ref.secret, version: ref.version } },
    })),
  ].sort((a, b) => a.name.localeCompare(b.name));

  const probes = service.healthCheckPath
    ? {
        // Startup tolerates a slow boot (up to 4 minutes); liveness restarts an instance that stops answering.
        startupProbe: {
          httpGet: { path: service.healthCheckPath, port: service.port },
          periodSeconds: 10,
          timeoutSeconds: 5,
          failureThreshold: 24,
        },
        livenessProbe: {
          httpGet: { path: service.healthCheckPath, port: service.port },
          periodSeconds: 30,
          timeoutSeconds: 5,
          failureThreshold: 3,
        },
      }
    : {};

  return {
    serviceAccount: serviceAccountEmail,
    maxInstanceRequestConcurrency: service.scaling.concurrency,
    timeout: `${service.timeoutSeconds}s`,
    scaling: { maxInstanceCount: service.scaling.maxInstances },
    containers: [
      {
        image,
        ports: { containerPort: service.port },
        resources: {
          limits: { cpu: service.cpu, memory: service.memory },
          cpuIdle: service.cpuAllocation === "request",
        },
        envs,
        ...probes,
      },
    ],
  };
}

/**
 * The service-level scaling. Min instances set on a revision start for every addressable revision
 * (a tagged one at 0% too), so each canary would double them; set on the service, they are divided
 * among the revisions that get traffic.
 */
export function serviceScaling(service: ServiceConfig): { readonly minInstanceCount: number } {
  return { minInstanceCount: service.scaling.minInstances };
}
