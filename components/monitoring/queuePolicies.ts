import type * as gcp from "@pulumi/gcp";
import type { AlertDefaults, SloDefaults } from "../../model/monitoring";
import { spec, type PolicyContext, type PolicySpec } from "./policies";
import type { SloSpec } from "./slos";
import { ACKNOWLEDGED, PUBSUB_METRICS, subscriptionFilter } from "./filters";

type Condition = gcp.types.input.monitoring.AlertPolicyCondition;

const seconds = (n: number) => `${n}s`;
const pct = (r: number) => `${Math.round(r * 10000) / 100}%`;
const minutes = (s: number) => `${s / 60} minutes`;

const threshold = (
  displayName: string,
  filter: string,
  aligner: string,
  value: number,
  durationSeconds: number,
  ratioOf?: string,
): Condition => ({
  displayName,
  conditionThreshold: {
    filter,
    aggregations: [{ alignmentPeriod: "60s", perSeriesAligner: aligner, crossSeriesReducer: "REDUCE_SUM" }],
    ...(ratioOf
      ? {
          denominatorFilter: ratioOf,
          denominatorAggregations: [
            { alignmentPeriod: "60s", perSeriesAligner: aligner, crossSeriesReducer: "REDUCE_SUM" },
          ],
        }
      : {}),
    comparison: "COMPARISON_GT",
    thresholdValue: value,
    duration: seconds(durationSeconds),
    trigger: { count: 1 },
  },
});

/** A push subscription's alerts: jobs waiting too long, a backlog, dead letters, unacknowledged pushes. */
export function queuePolicies(
  ctx: PolicyContext,
  q: { readonly topic: string; readonly subscription: string; readonly deadLetterSubscription?: string },
  a: Pick<AlertDefaults, "queueAge" | "queueBacklog" | "deadLetters" | "pushErrors">,
): PolicySpec[] {
  const where = `subscription \`${q.subscription}\` (topic \`${q.topic}\`)`;
  const dashboard = `Open \`${ctx.service}\`'s dashboard: the queue charts show the backlog, the oldest job and the push responses by class.`;
  const policies = [
    spec(
      ctx,
      `${q.topic}-queue-age`,
      `${q.topic} jobs waiting`,
      a.queueAge.notify,
      [
        threshold(
          `oldest unacknowledged message older than ${a.queueAge.thresholdSeconds} s`,
          subscriptionFilter(PUBSUB_METRICS.oldestUnackedAge, q.subscription),
          "ALIGN_MAX",
          a.queueAge.thresholdSeconds,
          a.queueAge.durationSeconds,
        ),
      ],
      {
        means: `The oldest message of ${where} has waited more than ${a.queueAge.thresholdSeconds} s for ${minutes(a.queueAge.durationSeconds)}: jobs are not being finished.`,
        steps: [
          dashboard,
          "Are pushes failing (responses other than `ack`)? Read the service's error logs for the job path.",
          `Is \`${ctx.service}\` at its maximum instances? Raise \`scaling.maxInstances\` in \`Pulumi.${ctx.stack}.yaml\`.`,
        ],
      },
    ),
    spec(
      ctx,
      `${q.topic}-queue-backlog`,
      `${q.topic} backlog`,
      a.queueBacklog.notify,
      [
        threshold(
          `more than ${a.queueBacklog.messages} messages undelivered`,
          subscriptionFilter(PUBSUB_METRICS.undelivered, q.subscription),
          "ALIGN_MAX",
          a.queueBacklog.messages,
          a.queueBacklog.durationSeconds,
        ),
      ],
      {
        means: `More than ${a.queueBacklog.messages} messages of ${where} waited for ${minutes(a.queueBacklog.durationSeconds)}.`,
        steps: [
          dashboard,
          "Compare the publish rate with the acknowledge rate: is the load new, or did the consumer slow down?",
        ],
      },
    ),
    spec(
      ctx,
      `${q.topic}-push-errors`,
      `${q.topic} pushes failing`,
      a.pushErrors.notify,
      [
        threshold(
          `more than ${pct(a.pushErrors.ratio)} of pushes not acknowledged`,
          subscriptionFilter(PUBSUB_METRICS.pushRequests, q.subscription, `NOT ${ACKNOWLEDGED}`),
          "ALIGN_RATE",
          a.pushErrors.ratio,
          a.pushErrors.durationSeconds,
          subscriptionFilter(PUBSUB_METRICS.pushRequests, q.subscription),
        ),
      ],
      {
        means: `More than ${pct(a.pushErrors.ratio)} of the pushes of ${where} were not acknowledged for ${minutes(a.pushErrors.durationSeconds)}; Pub/Sub retries them with backoff.`,
        steps: [
          dashboard,
          "The response class says why: `remote_server_5xx` (the job failed), `remote_server_4xx` (refused, e.g. a token the service rejects), `deadline_exceeded` (slower than the ack deadline), `unreachable`.",
          `If a canary takes a share of the jobs and fails them, roll it back: \`orchestra canary rollback ${ctx.service} --stack ${ctx.stack}\`.`,
        ],
      },
    ),
  ];
  if (q.deadLetterSubscription)
    policies.push(
      spec(
        ctx,
        `${q.topic}-dead-letters`,
        `${q.topic} dead letters`,
        a.deadLetters.notify,
        [
          threshold(
            "a message was dead-lettered",
            subscriptionFilter(PUBSUB_METRICS.deadLettered, q.subscription),
            "ALIGN_DELTA",
            0,
            0,
          ),
        ],
        {
          means: `A message of ${where} failed every delivery attempt and was moved to the dead-letter topic.`,
          steps: [
            `Read it without removing it: \`gcloud pubsub subscriptions pull ${q.deadLetterSubscription} --limit 10\` (without \`--auto-ack\`).`,
            "Fix the cause, then publish the message again to the topic, or acknowledge it to drop it.",
          ],
        },
      ),
    );
  return policies;
}

/** The jobs SLO of a push subscription: the share of pushes the service acknowledged. */
export function jobsSlo(
  service: string,
  topic: string,
  subscription: string,
  slo: SloDefaults["jobs"],
): SloSpec {
  return {
    kind: "jobs",
    sloId: `${subscription}-jobs`,
    displayName: `${service}: ${pct(slo.goal)} of ${topic} jobs acknowledged over ${slo.rollingPeriodDays} days`,
    goal: slo.goal,
    rollingPeriodDays: slo.rollingPeriodDays,
    requestBasedSli: {
      goodTotalRatio: {
        totalServiceFilter: subscriptionFilter(PUBSUB_METRICS.pushRequests, subscription),
        badServiceFilter: subscriptionFilter(
          PUBSUB_METRICS.pushRequests,
          subscription,
          `NOT ${ACKNOWLEDGED}`,
        ),
      },
    },
  };
}
