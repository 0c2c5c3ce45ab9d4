/**
 * A service's queues: the Pub/Sub topics it consumes through push subscriptions, and the topics it
 * publishes to. Names and the plan of what a stack declares are decided here; components/queue builds
 * the resources from it.
 */

/** How Pub/Sub retries a delivery the service did not acknowledge: exponential backoff within bounds. */
export interface RetryPolicy {
  readonly minimumBackoffSeconds: number;
  readonly maximumBackoffSeconds: number;
}

/** One topic a service consumes: Pub/Sub pushes each message to the service as an HTTP POST. */
export interface PushSubscriptionConfig {
  readonly topic: string;
  /** The HTTP path the messages are posted to. */
  readonly path: string;
  /** `service`: the service's own URL; `balancer`: its URL through the global load balancer. */
  readonly via: "service" | "balancer";
  /** How long Pub/Sub waits for the answer before it redelivers (10-600 s). */
  readonly ackDeadlineSeconds: number;
  readonly retry: RetryPolicy;
  /** Deliveries before a message goes to the dead-letter topic; only with `deadLetter`. */
  readonly maxDeliveryAttempts: number;
  /** Whether undeliverable messages go to a dead-letter topic (required in prod). */
  readonly deadLetter: boolean;
  /** How long unacknowledged messages are kept. */
  readonly messageRetentionSeconds: number;
  readonly filter?: string;
  readonly ordering: boolean;
  /**
   * The service answers at once and finishes the job in the background, so its request timeout need
   * not fit in the ack deadline (it then needs CPU outside requests: `cpuAllocation: instance`).
   */
  readonly acknowledgesEarly: boolean;
}

/** Pub/Sub's own limits on a subscription. */
export const ACK_DEADLINE = { min: 10, max: 600 } as const;
export const MAX_DELIVERY_ATTEMPTS = { min: 5, max: 100 } as const;
export const BACKOFF_SECONDS = { min: 0, max: 600 } as const;
export const MESSAGE_RETENTION_SECONDS = { min: 600, max: 7 * 24 * 3600 } as const;

/** Topic names this program accepts: every name derived from them stays inside Pub/Sub's limits. */
export const TOPIC_NAME = /^[a-z][a-z0-9-]{1,61}[a-z0-9]$/;

/** A push subscription as the stack declares it, with every name derived. */
export interface SubscriptionPlan {
  readonly service: string;
  readonly topic: string;
  /** `<topic>-<service>-push`. */
  readonly name: string;
  /** `<topic>-<service>-dead-letter`, and its pull subscription kept for inspection; absent without one. */
  readonly deadLetter?: { readonly topic: string; readonly subscription: string };
  readonly config: PushSubscriptionConfig;
}

/** What a stack declares for its queues. */
export interface QueuePlan {
  /** Every topic consumed or published, once, sorted. */
  readonly topics: readonly string[];
  readonly subscriptions: readonly SubscriptionPlan[];
  /** Services (by name) that may publish to each topic; nobody else is granted publish. */
  readonly publishers: Readonly<Record<string, readonly string[]>>;
}

export function subscriptionName(topic: string, service: string): string {
  return `${topic}-${service}-push`;
}

export function planQueues(
  services: readonly {
    readonly name: string;
    readonly consumes: readonly PushSubscriptionConfig[];
    readonly publishes: readonly string[];
  }[],
): QueuePlan {
  const topics = new Set<string>();
  const publishers: Record<string, string[]> = {};
  const subscriptions: SubscriptionPlan[] = [];
  for (const s of services) {
    for (const c of s.consumes) {
      topics.add(c.topic);
      const name = subscriptionName(c.topic, s.name);
      subscriptions.push({
        service: s.name,
        topic: c.topic,
        name,
        ...(c.deadLetter
          ? {
              deadLetter: {
                topic: `${c.topic}-${s.name}-dead-letter`,
                subscription: `${c.topic}-${s.name}-dead-letter-inspect`,
              },
            }
          : {}),
        config: c,
      });
    }
    for (const t of s.publishes) {
      topics.add(t);
      (publishers[t] ??= []).push(s.name);
    }
  }
  return { topics: [...topics].sort(), subscriptions, publishers };
}

/** The Google-managed account Pub/Sub acts as: it signs push tokens and moves messages to dead letters. */
export function pubsubServiceAgent(projectNumber: string): string {
  return `service-${projectNumber}@gcp-sa-pubsub.iam.gserviceaccount.com`;
}

/** `600` → `"600s"`: how the Pub/Sub API spells durations. */
export const seconds = (n: number): string => `${n}s`;

/**
 * Why the rollout cannot smoke-test a service with a GET from where it runs, or undefined when it can:
 * an internal service answers only from Google's network (Pub/Sub among it), and a push-only service
 * has no path a plain GET may call. Its canary is then judged by its metrics alone: push requests go
 * through the service's traffic split like any other.
 */
export function smokeSkipReason(svc: {
  readonly name: string;
  readonly ingress: string;
  readonly healthCheckPath?: string;
  readonly consumes: readonly { readonly topic: string }[];
}): string | undefined {
  const topics = svc.consumes.map((c) => `\`${c.topic}\``).join(", ");
  const judged = "its canary is judged by its metrics alone (pushed jobs follow the traffic split)";
  if (svc.ingress === "internal")
    return `${svc.name} accepts requests from Google's network only (ingress internal), so no smoke GET reaches it from here; ${judged}.`;
  if (!svc.healthCheckPath && svc.consumes.length > 0)
    return `${svc.name} is fed by Pub/Sub (${topics}) and declares no \`healthCheckPath\` to GET; ${judged}.`;
  return undefined;
}
