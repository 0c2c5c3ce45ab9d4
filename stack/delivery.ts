import * as pulumi from "@pulumi/pulumi";
import { GithubDelivery } from "../components/github/delivery";
import type { BinaryAuthorization } from "../components/supplychain/binaryAuthorization";
import { DeliveryIdentity } from "../components/identity/deliveryIdentity";
import { ImageRegistry } from "../components/registry/imageRegistry";
import { planQueues } from "../model/queue";
import type { StackConfig } from "../model/types";
import type { StackServices } from "./services";

/** The registry images are pushed to, when the stack declares its CI/CD; undefined otherwise. */
export function declareRegistry(config: StackConfig): ImageRegistry | undefined {
  if (!config.cicd) return undefined;
  return new ImageRegistry("registry", {
    project: config.project,
    region: config.region,
    repository: config.cicd.registry.repository,
    cleanup: config.cicd.registry,
    // Dev's local builds re-push a moving tag; elsewhere a pushed tag never moves.
    immutableTags: config.environment !== "dev",
    labels: { ...config.labels, "managed-by": "pulumi", "pulumi-stack": config.stack },
  });
}

/** What keyless CI/CD declared: the identities GitHub Actions authenticate as, and the registry. */
export interface StackDelivery {
  readonly identity: DeliveryIdentity;
  readonly github: GithubDelivery;
  readonly registry: ImageRegistry;
}

/**
 * Keyless CI/CD from GitHub Actions: the Workload Identity pool and accounts, then everything declared
 * on GitHub. Undefined without `ai-orchestra:cicd` (and so without a registry).
 */
export function declareDelivery(
  config: StackConfig,
  services: StackServices,
  registry: ImageRegistry | undefined,
  admission?: BinaryAuthorization,
): StackDelivery | undefined {
  const cicd = config.cicd;
  if (!cicd || !registry) return undefined;
  const protectedDeploy = config.environment === "prod";
  const identity = new DeliveryIdentity("delivery", {
    project: config.project,
    stack: config.stack,
    cicd,
    protectedDeploy,
    balancer: config.loadBalancer !== undefined,
    queues: planQueues(config.services).topics.length > 0,
    imageRepositories: Object.fromEntries([...services].map(([name, s]) => [name, s.config.repository])),
    // The prod deploy job attests images for Binary Authorization before `pulumi up`.
    ...(admission ? { attestation: { note: admission.note, cryptoKey: admission.cryptoKey } } : {}),
  });
  // Secret config stays secret: read as secret Outputs, never as plain values.
  const secretConfig = new pulumi.Config();
  const github = new GithubDelivery("github", {
    stack: config.stack,
    project: config.project,
    region: config.region,
    cicd,
    protectedDeploy,
    services: config.services,
    deployProvider: identity.deployProvider,
    previewProvider: identity.previewProvider,
    deployerEmail: identity.deployerEmail,
    previewerEmail: identity.previewerEmail,
    ...(identity.pusherEmail ? { pusherEmail: identity.pusherEmail } : {}),
    registryUrl: registry.url,
    serviceUrls: pulumi.output(Object.fromEntries([...services].map(([name, s]) => [name, s.run.url]))),
    ...(cicd.secretNames.length > 0
      ? { secrets: secretConfig.requireSecretObject<Record<string, string>>("githubSecrets") }
      : {}),
    ...(cicd.manageDeliveryAppKey
      ? { deliveryAppPrivateKey: secretConfig.requireSecret("deliveryAppPrivateKey") }
      : {}),
  });
  return { identity, github, registry };
}
