import type { ResourceRule } from "./types";
import { known } from "./values";

const SUBSCRIPTION = "gcp:pubsub/subscription:Subscription";
const TOPIC_IAM_TYPES = [
  "gcp:pubsub/topicIAMMember:TopicIAMMember",
  "gcp:pubsub/topicIAMBinding:TopicIAMBinding",
];
const EVERYONE = new Set(["allUsers", "allAuthenticatedUsers"]);

/** Whether an object sets `key`, whatever its value (which may be unknown until the update runs). */
const sets = (obj: unknown, key: string): boolean =>
  obj !== null && typeof obj === "object" && (obj as Record<string, unknown>)[key] !== undefined;

export const pushSubscriptions: ResourceRule = {
  id: "push-subscriptions",
  kind: "resource",
  description:
    "Prod push subscriptions sign their requests with an OIDC identity and dead-letter what keeps failing.",
  environments: ["prod"],
  types: [SUBSCRIPTION],
  check(r) {
    const push = known(r.props, "pushConfig");
    if (push === undefined) return []; // a pull subscription
    const name = String(known(r.props, "name") ?? r.name);
    const findings = [];
    if (!sets(known(push, "oidcToken"), "serviceAccountEmail"))
      findings.push({
        message: `push subscription ${name} sends unauthenticated requests: its endpoint must then accept anyone.`,
        fix: "declare it under the consuming service's `consumes` (ai-orchestra:services), which signs pushes as `<service>-push`.",
      });
    if (!sets(known(r.props, "deadLetterPolicy"), "deadLetterTopic"))
      findings.push({
        message: `push subscription ${name} has no dead-letter topic: a job that always fails is retried until it expires, unseen.`,
        fix: "remove `deadLetter: false` from its `consumes` entry.",
      });
    return findings;
  },
};

export const topicPublishers: ResourceRule = {
  id: "topic-publishers",
  kind: "resource",
  description: "No topic is publishable by allUsers or allAuthenticatedUsers.",
  types: TOPIC_IAM_TYPES,
  check(r) {
    const single = known(r.props, "member");
    const members = single !== undefined ? [single] : ((known(r.props, "members") as unknown[]) ?? []);
    const open = members.filter((m) => typeof m === "string" && EVERYONE.has(m));
    if (open.length === 0) return [];
    return [
      {
        message: `grants ${String(known(r.props, "role"))} on topic ${String(known(r.props, "topic"))} to ${open.join(", ")}: anyone could queue jobs, paid for by this project.`,
        fix: "grant publish to the services that publish (`publishes` under ai-orchestra:services) only.",
      },
    ];
  },
};
