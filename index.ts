import * as pulumi from "@pulumi/pulumi";
import { CanaryService } from "./components/cloudrun";
import { loadStackConfig } from "./config/load";

// Validate everything first: a bad config stops here, before any resource is declared.
const config = loadStackConfig();

const services = config.services.map(
  (service) =>
    new CanaryService(service.name, {
      service,
      project: config.project,
      region: config.region,
      stack: config.stack,
      environment: config.environment,
      labels: config.labels,
    }),
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
