import { strict as assert } from "node:assert";
import * as cloudrunv2 from "@pulumi/gcp/cloudrunv2";
import { Queues } from "../components/queue/queues";
import type { ConfigIssue } from "../config/errors";
import { planQueues, smokeSkipReason, type PushSubscriptionConfig } from "../model/queue";
import { pushAccountId } from "../model/identity";
import { RULES, UNKNOWN, type PolicyResource, type RuleContext } from "../policy/rules";
import { runRule } from "../policy/rules/run";
import { buildComponent, type Built } from "./support/components";
import { baseConfig, byName, ofType, renderRepoStack, validate } from "./support/render";
import type { RenderedStack } from "../render/renderStack";

/**
 * The worker's queue as code: what a push subscription is declared with, what config refuses, what the
 * guardrails demand, and what prod renders.
 */

/** What the tests read of a subscription's inputs. */
interface SubscriptionInputs {
  readonly name: string;
  readonly ackDeadlineSeconds: number;
  readonly pushConfig?: {
    readonly pushEndpoint: string;
    readonly oidcToken: { readonly audience: string; readonly serviceAccountEmail: string };
  };
  readonly retryPolicy: unknown;
  readonly deadLetterPolicy: { readonly maxDeliveryAttempts: number };
  readonly messageRetentionDuration: string;
  readonly expirationPolicy: unknown;
}
const subscriptionInputs = (inputs: Record<string, unknown>) => inputs as unknown as SubscriptionInputs;

const JOBS: PushSubscriptionConfig = {
  topic: "jobs",
  path: "/jobs",
  via: "service",
  ackDeadlineSeconds: 600,
  retry: { minimumBackoffSeconds: 10, maximumBackoffSeconds: 600 },
  maxDeliveryAttempts: 5,
  deadLetter: true,
  messageRetentionSeconds: 604800,
  ordering: false,
  acknowledgesEarly: false,
};

describe("queues: the plan", () => {
  it("derives every name from the topic and the consuming service, and grants publish per topic", () => {
    const plan = planQueues([
      { name: "worker", consumes: [JOBS, { ...JOBS, topic: "reports", deadLetter: false }], publishes: [] },
      { name: "api", consumes: [], publishes: ["jobs", "audit"] },
    ]);
    assert.deepEqual(plan.topics, ["audit", "jobs", "reports"]);
    assert.deepEqual(plan.publishers, { jobs: ["api"], audit: ["api"] });
    assert.deepEqual(
      plan.subscriptions.map((s) => [s.name, s.deadLetter?.topic, s.deadLetter?.subscription]),
      [
        ["jobs-worker-push", "jobs-worker-dead-letter", "jobs-worker-dead-letter-inspect"],
        ["reports-worker-push", undefined, undefined],
      ],
    );
  });

  it("gives each consumer a push account id within Google's 6-30 characters", () => {
    assert.equal(pushAccountId("worker"), "worker-push");
    const long = pushAccountId("a-very-long-service-name-for-jobs");
    assert.ok(long.length <= 30 && /^[a-z][a-z0-9-]*[a-z0-9]$/.test(long), long);
    assert.notEqual(long, pushAccountId("a-very-long-service-name-for-reports"));
  });
});

describe("queues: config", () => {
  const worker = (consumes: Record<string, unknown>, service: Record<string, unknown> = {}) =>
    baseConfig({ timeoutSeconds: 600, consumes, ...service });
  const issues = (flat: Record<string, string>, stack = "prod"): ConfigIssue[] => {
    const result = validate(stack, flat);
    return result.ok ? [] : [...result.issues];
  };

  it("accepts a topic with defaults: ack deadline 600 s, 5 attempts, a dead-letter topic, 7 days' retention", () => {
    const result = validate("prod", worker({ jobs: {} }));
    assert.ok(result.ok, JSON.stringify(!result.ok && result.issues));
    assert.deepEqual(result.config.services[0].consumes, [{ ...JOBS, path: "/" }]);
  });

  it("refuses a request timeout longer than the ack deadline, naming both numbers and the ways out", () => {
    const [issue, ...rest] = issues(
      baseConfig({ timeoutSeconds: 900, consumes: { jobs: { ackDeadlineSeconds: 300 } } }),
    );
    assert.equal(rest.length, 0);
    assert.equal(issue.path, "ai-orchestra:services.api.timeoutSeconds");
    assert.equal(issue.value, 900);
    assert.match(issue.message, /ack deadline of topic `jobs` \(300 s\).*paid twice/s);
    assert.match(issue.message, /at most 300 or raise `consumes\.jobs\.ackDeadlineSeconds` \(up to 600\)/);
    assert.match(issue.message, /acknowledgesEarly: true/);
  });

  it("lets a service that answers early run longer, if it keeps its CPU after the response", () => {
    const early = { jobs: { acknowledgesEarly: true } };
    assert.ok(
      validate("prod", baseConfig({ timeoutSeconds: 3600, cpuAllocation: "instance", consumes: early })).ok,
    );
    const [issue] = issues(baseConfig({ timeoutSeconds: 3600, consumes: early }));
    assert.equal(issue.path, "ai-orchestra:services.api.consumes.jobs.acknowledgesEarly");
    assert.match(issue.message, /cpuAllocation: instance/);
  });

  it("refuses what Pub/Sub would refuse or silently not do, each with its fix", () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ ackDeadlineSeconds: 5 }, "ackDeadlineSeconds", /at least 10/],
      [{ ackDeadlineSeconds: 900 }, "ackDeadlineSeconds", /at most 600/],
      [{ maxDeliveryAttempts: 200 }, "maxDeliveryAttempts", /at most 100/],
      [{ messageRetentionSeconds: 60 }, "messageRetentionSeconds", /at least 600/],
      [{ exactlyOnce: true }, "exactlyOnce", /pull subscribers only.*idempotent/s],
      [
        { retry: { minimumBackoffSeconds: 300, maximumBackoffSeconds: 60 } },
        "retry.minimumBackoffSeconds",
        /above `maximumBackoffSeconds` \(60\)/,
      ],
      [{ deadLetter: false }, "deadLetter", /must be true in prod/],
      [{ path: "jobs" }, "path", /starting with `\/`/],
    ];
    for (const [settings, key, message] of cases) {
      const found = issues(worker({ jobs: settings }));
      assert.deepEqual(
        found.map((i) => i.path),
        [`ai-orchestra:services.api.consumes.jobs.${key}`],
        JSON.stringify(settings),
      );
      assert.match(found[0].message, message, key);
    }
    assert.equal(issues(worker({ Jobs: {} }))[0].path, "ai-orchestra:services.api.consumes.Jobs");
  });

  it("allows no dead-letter topic outside prod", () => {
    const flat = worker({ jobs: { deadLetter: false } });
    flat["ai-orchestra:environment"] = "staging";
    assert.deepEqual(
      issues(flat, "staging").map((i) => i.path),
      [],
    );
  });

  it("a consumer in several regions is pushed to through the balancer, which must front it", () => {
    const multi = worker({ jobs: {} }, { regions: ["europe-west1", "europe-west4"] });
    const [issue] = issues(multi);
    assert.equal(issue.path, "ai-orchestra:services.api.consumes.jobs.via");
    assert.match(issue.message, /2 regions.*one URL/s);
    const viaBalancer = worker({ jobs: { via: "balancer" } });
    assert.match(issues(viaBalancer)[0].message, /not behind the load balancer/);
  });
});

describe("queues: the component, built alone", () => {
  let b: Built<Queues>;
  before(async () => {
    b = await buildComponent(() => {
      const service = new cloudrunv2.Service("worker-service", {
        name: "worker",
        location: "europe-west1",
        template: { containers: [{ image: "img" }] },
      });
      return new Queues("queues", {
        project: "proj-test",
        stack: "prod",
        plan: planQueues([
          { name: "worker", consumes: [JOBS], publishes: [] },
          { name: "api", consumes: [], publishes: ["jobs"] },
        ]),
        consumers: {
          worker: { url: "https://worker-abc.a.run.app", regions: { "europe-west1": { service } } },
        },
        publishers: { api: "api-run@proj-test.iam.gserviceaccount.com" },
        labels: { team: "orchestra" },
      });
    });
  });

  it("pushes to the service's path, signed as its push account for the service's URL", () => {
    const sub = subscriptionInputs(b.byName("queues-jobs-worker-push").inputs);
    assert.equal(sub.name, "jobs-worker-push");
    assert.equal(sub.ackDeadlineSeconds, 600);
    assert.equal(sub.pushConfig?.pushEndpoint, "https://worker-abc.a.run.app/jobs");
    assert.equal(sub.pushConfig?.oidcToken.audience, "https://worker-abc.a.run.app");
    assert.match(sub.pushConfig?.oidcToken.serviceAccountEmail, /^worker-push@/);
    assert.deepEqual(sub.retryPolicy, { minimumBackoff: "10s", maximumBackoff: "600s" });
    assert.equal(sub.deadLetterPolicy.maxDeliveryAttempts, 5);
    assert.equal(sub.messageRetentionDuration, "604800s");
    assert.deepEqual(sub.expirationPolicy, { ttl: "" }, "a quiet subscription must not expire after 31 days");
  });

  it("lets the push account invoke the service, and the Pub/Sub agent sign for it and dead-letter", () => {
    const agent = "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com";
    const invoker = b.byName("queues-worker-push-invoker-europe-west1").inputs;
    assert.deepEqual(
      [invoker.role, invoker.name, invoker.location],
      ["roles/run.invoker", "worker", "europe-west1"],
    );
    assert.match(String(invoker.member), /^serviceAccount:worker-push@/);
    const grants = b.resources.filter((r) => r.inputs.member === agent).map((r) => [r.name, r.inputs.role]);
    assert.deepEqual(grants, [
      ["queues-worker-push-token-creator", "roles/iam.serviceAccountTokenCreator"],
      ["queues-jobs-worker-dead-letter-agent-publisher", "roles/pubsub.publisher"],
      ["queues-jobs-worker-push-agent-subscriber", "roles/pubsub.subscriber"],
    ]);
  });

  it("grants publish on a topic to its publishers alone, and keeps dead letters for inspection", () => {
    const publishers = b
      .ofType("gcp:pubsub/topicIAMMember:TopicIAMMember")
      .filter((r) => r.name.includes("-publisher-"));
    assert.deepEqual(
      publishers.map((r) => [r.inputs.role, r.inputs.member]),
      [["roles/pubsub.publisher", "serviceAccount:api-run@proj-test.iam.gserviceaccount.com"]],
    );
    const inspect = subscriptionInputs(b.byName("queues-jobs-worker-dead-letter-inspect").inputs);
    assert.equal(inspect.pushConfig, undefined);
    assert.deepEqual(inspect.expirationPolicy, { ttl: "" });
  });
});

describe("queues: guardrails", () => {
  const ctx: RuleContext = {
    stack: "prod",
    environment: "prod",
    maxCanaryPercent: 50,
    publicServices: [],
    plainSecretConfig: [],
  };
  const rule = (id: string) => RULES.find((r) => r.id === id)!;
  const subscription = (props: Record<string, unknown>): PolicyResource => ({
    type: "gcp:pubsub/subscription:Subscription",
    name: "jobs-sub",
    props: { name: "jobs-worker-push", ...props },
  });
  const push = {
    pushEndpoint: "https://w/jobs",
    oidcToken: { serviceAccountEmail: "worker-push@p.iam.gserviceaccount.com" },
  };

  it("push-subscriptions: prod pushes are signed and dead-letter, known or not yet known", () => {
    const run = (props: Record<string, unknown>) =>
      runRule(rule("push-subscriptions"), [subscription(props)], ctx);
    assert.deepEqual(run({ pushConfig: push, deadLetterPolicy: { deadLetterTopic: "t" } }).violations, []);
    // On a first preview the account's email and the topic's id are not known yet: the keys are set.
    assert.deepEqual(
      run({
        pushConfig: { ...push, oidcToken: { serviceAccountEmail: UNKNOWN } },
        deadLetterPolicy: { deadLetterTopic: UNKNOWN },
      }).violations,
      [],
    );
    const bad = run({ pushConfig: { pushEndpoint: "https://w/jobs" } }).violations.map((v) => v.message);
    assert.equal(bad.length, 2);
    assert.match(bad[0], /unauthenticated/);
    assert.match(bad[1], /no dead-letter topic/);
    assert.deepEqual(run({}).violations, [], "a pull subscription is not a push subscription");
    assert.deepEqual(rule("push-subscriptions").environments, ["prod"]);
  });

  it("topic-publishers: no topic is open to everyone", () => {
    const grant = (member: string): PolicyResource => ({
      type: "gcp:pubsub/topicIAMMember:TopicIAMMember",
      name: "open",
      props: { topic: "jobs", role: "roles/pubsub.publisher", member },
    });
    const run = (member: string) => runRule(rule("topic-publishers"), [grant(member)], ctx).violations;
    assert.match(run("allUsers")[0].message, /topic jobs to allUsers/);
    assert.equal(run("allAuthenticatedUsers").length, 1);
    assert.deepEqual(run("serviceAccount:api-run@p.iam.gserviceaccount.com"), []);
  });
});

describe("queues: prod as rendered", () => {
  let prod: RenderedStack;
  before(async () => {
    prod = await renderRepoStack("prod");
  });

  it("declares the worker's jobs topic, its push subscription and dead letters; the API publishes", () => {
    assert.deepEqual(
      ofType(prod, "gcp:pubsub/topic:Topic").map((t) => t.inputs.name),
      ["jobs", "jobs-worker-dead-letter"],
    );
    const sub = subscriptionInputs(byName(prod, "queues-jobs-worker-push").inputs);
    assert.match(String(sub.pushConfig?.pushEndpoint), /\/jobs$/);
    const worker = byName(prod, "worker-service").inputs as { template: { timeout: string } };
    assert.ok(
      parseInt(worker.template.timeout, 10) <= sub.ackDeadlineSeconds,
      "the worker's timeout fits the ack deadline",
    );
    assert.ok(
      !ofType(prod, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember").some((m) =>
        String(m.inputs.member).includes("pubsub-push@"),
      ),
      "no invoker names an account nothing creates",
    );
  });
});

describe("queues: the rollout's smoke check", () => {
  const svc = { name: "worker", ingress: "all", consumes: [] as { topic: string }[] };
  it("skips a service no GET can reach from outside, and says the metrics judge it", () => {
    assert.match(
      String(smokeSkipReason({ ...svc, ingress: "internal" })),
      /ingress internal.*judged by its metrics alone/,
    );
    assert.match(
      String(smokeSkipReason({ ...svc, consumes: [{ topic: "jobs" }] })),
      /fed by Pub\/Sub \(`jobs`\).*healthCheckPath/,
    );
  });
  it("smoke-tests a reachable service, or a push-fed one with a health path", () => {
    assert.equal(smokeSkipReason(svc), undefined);
    assert.equal(
      smokeSkipReason({ ...svc, healthCheckPath: "/healthz", consumes: [{ topic: "jobs" }] }),
      undefined,
    );
  });
});
