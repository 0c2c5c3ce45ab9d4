import type * as pulumi from "@pulumi/pulumi";
import { CanaryService } from "../components/cloudrun";
import { balancedUrl } from "../model/loadBalancer";
import type { ServiceConfig, StackConfig } from "../model/types";

/** One service of the stack: what it was declared from, what runs it, and how users reach it. */
export interface StackService {
  /** The service's validated settings. */
  readonly config: ServiceConfig;
  /** Its Cloud Run service in each region, its runtime identity and its traffic split. */
  readonly run: CanaryService;
  /**
   * `https://<first domain>` when the service sits behind the global load balancer, absent otherwise.
   * Users, uptime checks and rollouts go through it.
   */
  readonly balancedUrl?: string;
}

/** The stack's services by name, in config order (the order they are declared in). */
export type StackServices = ReadonlyMap<string, StackService>;

/**
 * Declares each service's Cloud Run services, after the registry its images come from and the Binary
 * Authorization policy they require.
 */
export function declareServices(
  config: StackConfig,
  registry?: pulumi.Resource,
  admission?: pulumi.Resource,
): StackServices {
  const dependsOn = [registry, admission].filter((r): r is pulumi.Resource => r !== undefined);
  return new Map(
    config.services.map((service): [string, StackService] => {
      const balanced = config.loadBalancer?.services.find((b) => b.name === service.name);
      // Pub/Sub pushing through the balancer signs its token for the balanced URL.
      const pushedViaBalancer = balanced && service.consumes.some((c) => c.via === "balancer");
      const run = new CanaryService(
        service.name,
        {
          service,
          project: config.project,
          region: config.region,
          stack: config.stack,
          environment: config.environment,
          labels: config.labels,
          binaryAuthorization: config.binaryAuthorization?.enabled ?? false,
          ...(pushedViaBalancer ? { customAudiences: [balancedUrl(balanced)] } : {}),
        },
        dependsOn.length > 0 ? { dependsOn } : undefined,
      );
      return [
        service.name,
        { config: service, run, ...(balanced ? { balancedUrl: balancedUrl(balanced) } : {}) },
      ];
    }),
  );
}
