import * as cloudrunv2 from "@pulumi/gcp/cloudrunv2";
import * as organizations from "@pulumi/gcp/organizations";
import * as pubsub from "@pulumi/gcp/pubsub";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as pulumi from "@pulumi/pulumi";
import { pushAccountId } from "../../model/identity";
import { pubsubServiceAgent, seconds, type QueuePlan, type SubscriptionPlan } from "../../model/queue";

/** A consuming service as the queues see it: where Pub/Sub posts, and its Cloud Run service per region. */
export interface QueueConsumer {
  /** The service's own URL (its primary region's). */
  readonly url: pulumi.Input<string>;
  /** Its URL through the global load balancer, for subscriptions with `via: balancer`. */
  readonly balancedUrl?: string;
  /** Its Cloud Run service in each region, which the push identity may invoke. */
  readonly regions: Readonly<Record<string, { readonly service: cloudrunv2.Service }>>;
}

export interface QueuesArgs {
  readonly project: string;
  /** Stack name, for descriptions. */
  readonly stack: string;
  /** What to declare: topics, push subscriptions, publishers (model/queue.ts planQueues). */
  readonly plan: QueuePlan;
  /** Each consuming service, by name. */
  readonly consumers: Readonly<Record<string, QueueConsumer>>;
  /** Each publishing service's runtime account email, by name. */
  readonly publishers: Readonly<Record<string, pulumi.Input<string>>>;
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * The stack's Pub/Sub topics and the push subscriptions that feed its services. Each consuming service
 * gets a push identity (`<service>-push`) that Pub/Sub signs its requests as and that alone may invoke
 * it for Pub/Sub; each subscription retries with backoff and dead-letters what keeps failing. Only the
 * services that publish to a topic may publish to it.
 */
export class Queues extends pulumi.ComponentResource {
  public readonly topics: Readonly<Record<string, pubsub.Topic>>;
  public readonly subscriptions: Readonly<Record<string, pubsub.Subscription>>;
  /** Push identity email by consuming service. */
  public readonly pushIdentities: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: QueuesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:queue:Queues", name, {}, opts);
    const parent = { parent: this };
    const { project, plan } = args;
    const labels = { ...args.labels };

    const topics: Record<string, pubsub.Topic> = {};
    for (const t of plan.topics)
      topics[t] = new pubsub.Topic(`${name}-${t}`, { project, name: t, labels }, parent);

    for (const [topic, services] of Object.entries(plan.publishers))
      for (const service of services)
        new pubsub.TopicIAMMember(
          `${name}-${topic}-publisher-${service}`,
          {
            project,
            topic: topics[topic].name,
            role: "roles/pubsub.publisher",
            member: pulumi.interpolate`serviceAccount:${args.publishers[service]}`,
          },
          parent,
        );

    // Pub/Sub's own account signs push tokens and moves messages to dead letters.
    const agent = organizations
      .getProjectOutput({ projectId: project }, parent)
      .number.apply((n) => `serviceAccount:${pubsubServiceAgent(n)}`);

    const identities: Record<string, serviceaccount.Account> = {};
    const identity = (service: string) => {
      if (identities[service]) return identities[service];
      const account = new serviceaccount.Account(
        `${name}-${service}-push`,
        {
          project,
          accountId: pushAccountId(service),
          displayName: `Pub/Sub push to ${service}`,
          description: `Pub/Sub signs its pushes to ${service} as this account (stack ${args.stack}). Managed by Pulumi.`,
        },
        parent,
      );
      // Projects made before April 2021 need the agent to be a token creator on the push account.
      new serviceaccount.IAMMember(
        `${name}-${service}-push-token-creator`,
        { serviceAccountId: account.name, role: "roles/iam.serviceAccountTokenCreator", member: agent },
        parent,
      );
      for (const [region, r] of Object.entries(args.consumers[service].regions))
        new cloudrunv2.ServiceIamMember(
          `${name}-${service}-push-invoker-${region}`,
          {
            project,
            location: region,
            name: r.service.name,
            role: "roles/run.invoker",
            member: pulumi.interpolate`serviceAccount:${account.email}`,
          },
          parent,
        );
      return (identities[service] = account);
    };

    const subscriptions: Record<string, pubsub.Subscription> = {};
    for (const s of plan.subscriptions) {
      const push = identity(s.service);
      const deadLetter = s.deadLetter && this.deadLetter(name, project, s, agent, labels);
      const c = s.config;
      const consumer = args.consumers[s.service];
      // The token's audience is the URL posted to: Cloud Run accepts its own URL, and the balanced URL
      // where it is one of the service's custom audiences.
      const audience = c.via === "balancer" && consumer.balancedUrl ? consumer.balancedUrl : consumer.url;
      const endpoint = pulumi.output(audience).apply((u) => new URL(c.path, u).toString());
      const subscription = new pubsub.Subscription(
        `${name}-${s.name}`,
        {
          project,
          name: s.name,
          topic: topics[s.topic].id,
          ackDeadlineSeconds: c.ackDeadlineSeconds,
          pushConfig: {
            pushEndpoint: endpoint,
            oidcToken: {
              serviceAccountEmail: push.email,
              audience,
            },
          },
          retryPolicy: {
            minimumBackoff: seconds(c.retry.minimumBackoffSeconds),
            maximumBackoff: seconds(c.retry.maximumBackoffSeconds),
          },
          ...(deadLetter
            ? {
                deadLetterPolicy: {
                  deadLetterTopic: deadLetter.id,
                  maxDeliveryAttempts: c.maxDeliveryAttempts,
                },
              }
            : {}),
          messageRetentionDuration: seconds(c.messageRetentionSeconds),
          // Never expire: by default a subscription without activity for 31 days is deleted.
          expirationPolicy: { ttl: "" },
          ...(c.filter ? { filter: c.filter } : {}),
          enableMessageOrdering: c.ordering,
          labels,
        },
        parent,
      );
      if (deadLetter)
        new pubsub.SubscriptionIAMMember(
          `${name}-${s.name}-agent-subscriber`,
          { project, subscription: subscription.name, role: "roles/pubsub.subscriber", member: agent },
          parent,
        );
      subscriptions[s.name] = subscription;
    }

    this.topics = topics;
    this.subscriptions = subscriptions;
    this.pushIdentities = Object.fromEntries(Object.entries(identities).map(([k, a]) => [k, a.email]));
    this.registerOutputs({});
  }

  /** The dead-letter topic the agent may publish to, and a pull subscription that keeps its messages. */
  private deadLetter(
    name: string,
    project: string,
    s: SubscriptionPlan,
    agent: pulumi.Output<string>,
    labels: Record<string, string>,
  ): pubsub.Topic {
    const parent = { parent: this };
    const dl = s.deadLetter!;
    const topic = new pubsub.Topic(`${name}-${dl.topic}`, { project, name: dl.topic, labels }, parent);
    new pubsub.TopicIAMMember(
      `${name}-${dl.topic}-agent-publisher`,
      { project, topic: topic.name, role: "roles/pubsub.publisher", member: agent },
      parent,
    );
    new pubsub.Subscription(
      `${name}-${dl.subscription}`,
      {
        project,
        name: dl.subscription,
        topic: topic.id,
        messageRetentionDuration: seconds(7 * 24 * 3600),
        expirationPolicy: { ttl: "" },
        labels,
      },
      parent,
    );
    return topic;
  }
}
