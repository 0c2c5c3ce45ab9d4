import * as pulumi from "@pulumi/pulumi";
import { CanaryService } from "./components/cloudrun";
import { GithubDelivery } from "./components/github/delivery";
import { DeliveryIdentity } from "./components/identity/deliveryIdentity";
import { ImageRegistry } from "./components/registry/imageRegistry";
import { loadStackConfig } from "./config/load";

// Validate everything first: a bad config stops here, before any resource is declared.
const config = loadStackConfig();
const cicd = config.cicd;

// The registry images are pushed to, when this stack declares its CI/CD.
const registry = cicd
  ? new ImageRegistry("registry", {
      project: config.project,
      region: config.region,
      repository: cicd.registry.repository,
      cleanup: cicd.registry,
      // Dev's local builds re-push a moving tag; elsewhere a pushed tag never moves.
      immutableTags: config.environment !== "dev",
      labels: { ...config.labels, "managed-by": "pulumi", "pulumi-stack": config.stack },
    })
  : undefined;

const services = config.services.map(
  (service) =>
    new CanaryService(
      service.name,
      {
        service,
        project: config.project,
        region: config.region,
        stack: config.stack,
        environment: config.environment,
        labels: config.labels,
      },
      registry ? { dependsOn: [registry] } : undefined,
    ),
);

/** Per service: its URL, the URLs of the stable and canary tags, and the traffic split. */
export const serviceEndpoints = pulumi.output(
  Object.fromEntries(
    services.map((s, i) => [
      config.services[i].name,
      {
        url: s.url,
        stableUrl: s.stableUrl,
        canaryUrl: s.canaryUrl,
        split: s.split,
        revision: s.templateRevision,
      },
    ]),
  ),
);

/** Keyless CI/CD: what GitHub Actions authenticates with, and where images go. */
export const delivery = cicd && registry ? declareDelivery(cicd, registry) : undefined;

function declareDelivery(c: NonNullable<typeof cicd>, r: ImageRegistry) {
  const protectedDeploy = config.environment === "prod";
  const identity = new DeliveryIdentity("delivery", {
    project: config.project,
    stack: config.stack,
    cicd: c,
    protectedDeploy,
    imageRepositories: Object.fromEntries(config.services.map((s) => [s.name, s.repository])),
  });
  // Secret config stays secret: read as secret Outputs, never as plain values.
  const secretConfig = new pulumi.Config();
  new GithubDelivery("github", {
    stack: config.stack,
    project: config.project,
    region: config.region,
    cicd: c,
    protectedDeploy,
    services: config.services,
    deployProvider: identity.deployProvider,
    previewProvider: identity.previewProvider,
    deployerEmail: identity.deployerEmail,
    previewerEmail: identity.previewerEmail,
    ...(identity.pusherEmail ? { pusherEmail: identity.pusherEmail } : {}),
    registryUrl: r.url,
    serviceUrls: pulumi.output(Object.fromEntries(services.map((s, i) => [config.services[i].name, s.url]))),
    ...(c.secretNames.length > 0
      ? { secrets: secretConfig.requireSecretObject<Record<string, string>>("githubSecrets") }
      : {}),
    ...(c.manageDeliveryAppKey
      ? { deliveryAppPrivateKey: secretConfig.requireSecret("deliveryAppPrivateKey") }
      : {}),
  });
  return {
    workloadIdentityProvider: identity.deployProvider,
    previewIdentityProvider: identity.previewProvider,
    deployer: identity.deployerEmail,
    previewer: identity.previewerEmail,
    pusher: identity.pusherEmail,
    registry: r.url,
  };
}
