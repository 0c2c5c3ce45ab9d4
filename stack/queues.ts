import { Queues } from "../components/queue/queues";
import { planQueues } from "../model/queue";
import type { StackConfig } from "../model/types";
import type { StackServices } from "./services";

/**
 * The stack's Pub/Sub topics and push subscriptions, after the services they push to; undefined when
 * no service consumes or publishes a topic.
 */
export function declareQueues(config: StackConfig, services: StackServices): Queues | undefined {
  const plan = planQueues(config.services);
  if (plan.topics.length === 0) return undefined;
  const consumers = Object.fromEntries(
    [...services]
      .filter(([, s]) => s.config.consumes.length > 0)
      .map(([name, s]) => [
        name,
        { url: s.run.url, regions: s.run.regions, ...(s.balancedUrl ? { balancedUrl: s.balancedUrl } : {}) },
      ]),
  );
  const publishers = Object.fromEntries(
    [...services]
      .filter(([, s]) => s.config.publishes.length > 0)
      .map(([name, s]) => [name, s.run.identity.email]),
  );
  return new Queues("queues", {
    project: config.project,
    stack: config.stack,
    plan,
    consumers,
    publishers,
    labels: config.labels,
  });
}
