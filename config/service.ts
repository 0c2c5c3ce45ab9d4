import { z } from "zod";
import { memoryMiB } from "../model/memory";
import { fix } from "./errors";
import { parseImageRef } from "../model/imageRef";
import { pinProblems } from "../model/release/pins";
import { credentialKind } from "../model/secrets";
import { REVISION_NAME } from "../model/release/revisionName";
import { runtimeAccountId, serviceAccountEmail } from "../model/identity";
import { always, cleanAt, type Ctx, KEY, MISSING, report } from "./report";
import type { Environment, Ingress, ServiceConfig } from "../model/types";
import { BASELINE_PHASES, CANARY_PHASES, CPU_ALLOCATIONS, INGRESS_VALUES } from "../model/types";
import { baselineNameProblem, baselinePercentProblem } from "../model/release/baseline";
import {
  ACK_DEADLINE,
  BACKOFF_SECONDS,
  MAX_DELIVERY_ATTEMPTS,
  MESSAGE_RETENTION_SECONDS,
  TOPIC_NAME,
  type PushSubscriptionConfig,
} from "../model/queue";

/**
 * `ai-orchestra:services`: each service's keys, defaults and the rules between them. Messages say
 * what is allowed and how to fix it; the formatter adds the key path and the bad value.
 */

// Cloud Run service names: lowercase letters, digits and hyphens; 40 characters leave room for the
// `canary`/`stable` tags (tag + service name <= 46).
export const SERVICE_NAME = /^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MEMORY = /^(?<n>\d+)(?<unit>Mi|Gi)$/;
export const CPU_VALUES = ["1", "2", "4", "6", "8"] as const;
export const REGION = /^[a-z]+-[a-z]+\d+$/;

/** Cloud Run regions a service runs in: each gets its own service with the same traffic split. */
export const regionList = z
  .array(
    z.string({ error: "must be a region name." }).regex(REGION, {
      error: fix(
        "must be a GCP region such as `europe-west1`.",
        "pick a region from `gcloud run regions list`.",
      ),
    }),
    { error: fix("must be a list of regions.", "write e.g. `[europe-west1, europe-west4]`.") },
  )
  .min(1, { error: fix("must name at least one region.", "remove the key to use the stack's regions.") })
  .refine((list) => new Set(list).size === list.length, {
    error: fix("names a region twice.", "list each region once."),
  });

const percent = z
  .number({
    error: fix("must be a whole number from 0 to 100.", "write a number such as 10, without quotes or %."),
  })
  .int({
    error: fix("must be a whole number: Cloud Run splits traffic in whole percents.", "round it, e.g. 10."),
  })
  .min(0, {
    error: fix("must be at least 0.", "use 0 for a dark launch reachable only at the canary tag URL."),
  })
  .max(100, {
    error: fix("must be at most 100.", "use `orchestra canary promote` to send everything to the canary."),
  });

const imageString = z
  .string({
    error: fix("must be an image reference `REPOSITORY@sha256:DIGEST`.", "quote it as a string."),
  })
  .describe("`REPOSITORY@sha256:DIGEST`; a tag is allowed in dev only, with a warning.");

const build = z.strictObject({
  context: z.string({ error: fix("must be a path to a Docker build context.", "e.g. `../app`.") }),
  dockerfile: z.string({ error: "must be a path to a Dockerfile, relative to the context." }).optional(),
  target: z.string({ error: "must be the name of a build stage." }).optional(),
});

const stable = z.strictObject({
  image: imageString.optional(),
  build: build
    .optional()
    .describe(
      "Dev only: `{context, dockerfile?, target?}` built locally and pushed, cache-from the last push.",
    ),
  revision: z
    .string({ error: "must be a revision name." })
    .regex(REVISION_NAME, {
      error: fix(
        "must be a Cloud Run revision name: lowercase letters, digits and '-', starting with a letter, at most 63 characters.",
        "let `orchestra canary start` pin it, or copy the name from `gcloud run revisions list`.",
      ),
    })
    .optional()
    .describe(
      "The revision stable runs, pinned by `orchestra canary start` and `promote`; a rollback reverts to it exactly.",
    ),
});

const revisionString = z
  .string({
    error: fix(
      "must be the revision name given by `orchestra canary start`.",
      "start canaries with `orchestra canary start`, which names a revision never used before.",
    ),
  })
  .regex(REVISION_NAME, {
    error: fix(
      "must be a Cloud Run revision name: lowercase letters, digits and '-', starting with a letter, at most 63 characters.",
      "start canaries with `orchestra canary start`, which names the revision.",
    ),
  });

const baseline = z.strictObject(
  {
    revision: revisionString.describe(
      "The baseline's revision name: stable's exact spec under a name given by `orchestra canary start --baseline`.",
    ),
    phase: z
      .enum(BASELINE_PHASES, {
        error: fix(
          `must be one of ${BASELINE_PHASES.join(", ")}.`,
          "let the `orchestra canary` commands set it: `staged` until the revision is ready, then `ready`.",
        ),
      })
      .describe(
        "`staged`: the template creates it, no traffic yet; `ready`: Cloud Run reported it ready everywhere, and the template creates the canary.",
      ),
  },
  {
    error: fix(
      "must be `{revision, phase}`.",
      "start canaries with `orchestra canary start --baseline`, or remove `baseline`.",
    ),
  },
);

const sha256 = z.string({ error: "must be a digest `sha256:...`." }).regex(/^sha256:[a-f0-9]{64}$/, {
  error: fix("must be a digest `sha256:` and 64 hex digits.", "let `orchestra canary start` record it."),
});

const approvedDigests = z
  .strictObject(
    {
      index: sha256
        .optional()
        .describe("The multi-platform image index the reference names, when it names one."),
      linuxAmd64: sha256.describe(
        "The linux/amd64 image Cloud Run runs: the digest the gate read findings for.",
      ),
    },
    { error: fix("must be `{index?, linuxAmd64}`.", "let `orchestra canary start` record it.") },
  )
  .describe(
    "The digests the vulnerability gate approved, written by `orchestra canary start` and `rollout` when the image is a multi-platform index: `{index, linuxAmd64}`.",
  );

const vulnerabilityOverride = z
  .strictObject(
    {
      reason: z
        .string({ error: "must be the reason given with `--allow-vulnerable`." })
        .trim()
        .min(1, { error: fix("must not be empty.", "give the reason the release may go out anyway.") })
        .describe("Why the release went out despite its findings."),
      findings: z
        .array(z.string({ error: "must be a vulnerability id." }), {
          error: "must list the vulnerability ids the override accepted.",
        })
        .describe("The ids of the blocking findings the override accepted."),
      approvedAt: z
        .string({ error: "must be an ISO 8601 time." })
        .refine((t) => !Number.isNaN(Date.parse(t)), {
          error: fix("must be an ISO 8601 time.", "let `orchestra canary start` record it."),
        })
        .describe("When the override was given (ISO 8601)."),
    },
    {
      error: fix(
        "must be `{reason, findings, approvedAt}`.",
        "give `--allow-vulnerable REASON` to `orchestra canary start`, which records it.",
      ),
    },
  )
  .describe(
    "A release let through the vulnerability gate despite blocking findings (`--allow-vulnerable REASON`): `{reason, findings, approvedAt}`. Removed with the canary.",
  );

const canary = z.strictObject({
  image: imageString,
  revision: revisionString.describe(
    "The canary's revision name, given by `orchestra canary start` and never used before.",
  ),
  percent: percent.describe(
    "Share of traffic on the canary while serving (0 is a dark launch); while staged, the share it takes once ready.",
  ),
  phase: z
    .enum(CANARY_PHASES, {
      error: fix(
        `must be one of ${CANARY_PHASES.join(", ")}.`,
        "let the `orchestra canary` commands set it: `staged` until the revision is ready, then `serving`.",
      ),
    })
    .describe(
      "`staged`: created with no traffic until it is ready; `serving`: takes `percent`; `rolled-back`: stable serves 100% from its exact revision.",
    ),
  baseline: baseline
    .optional()
    .describe(
      "Optional: the stable release deployed afresh, served at the canary's percent under the tag `baseline` and compared with the canary instead of stable: `{revision, phase}`.",
    ),
  approvedDigests: approvedDigests.optional(),
  vulnerabilityOverride: vulnerabilityOverride.optional(),
});

const int = (what: string, lo: number, hi: number, howTo: string) =>
  z
    .number({ error: fix(`must be ${what}.`, howTo) })
    .int({ error: fix(`must be a whole number.`, howTo) })
    .min(lo, { error: fix(`must be at least ${lo}.`, howTo) })
    .max(hi, { error: fix(`must be at most ${hi}.`, howTo) });

const scaling = (environment: Environment) =>
  z.strictObject({
    minInstances: int(
      "a whole number of instances",
      0,
      1000,
      "0 scales to zero; 1 or more keeps warm instances.",
    )
      .default(environment === "prod" ? 1 : 0)
      .describe(
        "Instances kept warm, set on the service and shared by the revisions that get traffic (a canary does not add to it).",
      ),
    maxInstances: int("a whole number of instances", 1, 1000, "set the ceiling you are willing to pay for.")
      .default(10)
      .describe("The most instances the service scales to."),
    concurrency: int("requests per instance", 1, 1000, "80 is Cloud Run's default; 1 serialises requests.")
      .default(80)
      .describe("Requests per instance."),
  });

const envValue = z.union([z.string(), z.number(), z.boolean()], {
  error: fix("must be a plain value (string, number or boolean).", "for a secret use `secretEnv`."),
});

const secretRef = z.strictObject({
  secret: z
    .string({ error: "must be a Secret Manager secret id." })
    .regex(/^(?:projects\/[a-z0-9-]+\/secrets\/)?[A-Za-z0-9_-]{1,255}$/, {
      error: fix(
        "must be a Secret Manager secret id or `projects/P/secrets/S`.",
        "use the id shown by `gcloud secrets list`.",
      ),
      abort: true,
    })
    // The id names the IAM binding that grants it, so a pasted key would end up in resource names.
    .refine((id) => credentialKind(id) === undefined, {
      error: fix(
        "looks like a credential, not the id of a Secret Manager secret.",
        "store the value with `gcloud secrets create NAME --data-file=-`, write NAME here, and rotate the exposed key.",
      ),
    }),
  version: z
    .union([z.string(), z.number()])
    .default("latest")
    .transform(String)
    .pipe(
      z.string().regex(/^(?:latest|[1-9]\d*)$/, {
        error: fix("must be `latest` or a version number.", "pin a number for reproducible revisions."),
      }),
    ),
});

const ENV_KEY = z.string().regex(ENV_NAME, {
  error: "must be an environment variable name: letters, digits, _; not starting with a digit.",
});

const topicName = z.string({ error: "must be a topic name." }).regex(TOPIC_NAME, {
  error: fix(
    "must be a Pub/Sub topic name: 3-63 lowercase letters, digits and '-', starting with a letter.",
    "e.g. `jobs`.",
  ),
});

/** One consumed topic: its push subscription to the service. */
const pushSubscription = z.strictObject({
  path: z
    .string({ error: "must be an HTTP path." })
    .regex(/^\/\S*$/, { error: fix("must be an HTTP path starting with `/`.", "e.g. `/jobs`.") })
    .default("/")
    .describe("The path Pub/Sub posts each message to."),
  via: z
    .enum(["service", "balancer"], {
      error: fix("must be `service` or `balancer`.", "`service` posts to the service's own URL."),
    })
    .default("service")
    .describe("`service`: the service's own URL; `balancer`: its URL through the global load balancer."),
  ackDeadlineSeconds: int(
    "a number of seconds",
    ACK_DEADLINE.min,
    ACK_DEADLINE.max,
    "Pub/Sub waits 10 to 600 seconds for the answer before it redelivers.",
  )
    .default(ACK_DEADLINE.max)
    .describe("How long Pub/Sub waits for the service's answer before it redelivers (10-600)."),
  retry: z
    .strictObject({
      minimumBackoffSeconds: int("a number of seconds", BACKOFF_SECONDS.min, BACKOFF_SECONDS.max, "0 to 600.")
        .default(10)
        .describe("Wait before the first retry."),
      maximumBackoffSeconds: int("a number of seconds", BACKOFF_SECONDS.min, BACKOFF_SECONDS.max, "0 to 600.")
        .default(600)
        .describe("Longest wait between retries."),
    })
    .prefault({})
    .describe("Exponential backoff between redeliveries of a message the service did not acknowledge."),
  maxDeliveryAttempts: int(
    "a number of deliveries",
    MAX_DELIVERY_ATTEMPTS.min,
    MAX_DELIVERY_ATTEMPTS.max,
    "Pub/Sub allows 5 to 100 attempts before dead-lettering.",
  )
    .default(5)
    .describe("Deliveries before a message goes to the dead-letter topic."),
  deadLetter: z
    .boolean({ error: fix("must be true or false.", "true keeps undeliverable messages for inspection.") })
    .default(true)
    .describe("Move undeliverable messages to `<topic>-<service>-dead-letter` (required in prod)."),
  messageRetentionSeconds: int(
    "a number of seconds",
    MESSAGE_RETENTION_SECONDS.min,
    MESSAGE_RETENTION_SECONDS.max,
    "Pub/Sub keeps unacknowledged messages 10 minutes to 7 days (604800).",
  )
    .default(MESSAGE_RETENTION_SECONDS.max)
    .describe("How long unacknowledged messages are kept."),
  filter: z
    .string({ error: fix("must be a Pub/Sub filter.", 'e.g. `attributes.kind = "chat"`.') })
    .min(1, { error: fix("must not be empty.", "remove the key to receive every message.") })
    .optional()
    .describe("Only messages matching this filter on their attributes are delivered."),
  ordering: z
    .boolean({ error: "must be true or false." })
    .default(false)
    .describe("Deliver messages with the same ordering key in order."),
  exactlyOnce: z
    .boolean({ error: "must be true or false." })
    .default(false)
    .describe("Not available for push subscriptions; make the job idempotent on its message id instead."),
  acknowledgesEarly: z
    .boolean({ error: "must be true or false." })
    .default(false)
    .describe(
      "The service answers at once and finishes the job in the background, so `timeoutSeconds` may exceed the ack deadline (needs `cpuAllocation: instance`).",
    ),
});

/** One service's keys with their defaults; `ingress` stays unset here, since behind the balancer it defaults differently. */
const serviceShape = (environment: Environment) =>
  z.strictObject({
    regions: regionList.optional().describe("The regions this service runs in, e.g. `[europe-west1]`."),
    repository: z
      .string({
        error: fix(
          "must be the image repository, e.g. `europe-west1-docker.pkg.dev/PROJECT/REPO/IMAGE`.",
          "add `repository:` to the service.",
        ),
      })
      .describe("Image repository; every release must come from it."),
    stable: stable
      .optional()
      .describe(
        "The release that serves traffic: `image` by digest, or `build` in dev, and the `revision` pinned during a canary.",
      ),
    canary: canary
      .optional()
      .describe(
        "The release under test: `{image, revision, percent, phase, baseline?}`, written by `orchestra canary`.",
      ),
    cpu: z
      .union([z.string(), z.number()])
      .default("1")
      .transform(String)
      .pipe(
        z.enum(CPU_VALUES, {
          error: fix(`must be one of ${CPU_VALUES.join(", ")} (vCPUs).`, "pick the nearest value."),
        }),
      )
      .describe(
        `vCPUs per instance: ${CPU_VALUES.join(", ")}; Cloud Run's memory-per-CPU limits are checked.`,
      ),
    cpuAllocation: z
      .enum(CPU_ALLOCATIONS, {
        error: fix(
          `must be one of ${CPU_ALLOCATIONS.join(", ")}.`,
          "`request` bills CPU only while requests are handled; `instance` keeps it for background work.",
        ),
      })
      .default("request")
      .describe(
        "`request`: CPU only while a request is handled (request-based billing); `instance`: CPU for the instance's whole life, for work after the response.",
      ),
    memory: z
      .string({ error: fix("must be a size like `512Mi` or `2Gi`.", "quote it and add the unit.") })
      .regex(MEMORY, { error: fix("must be a size like `512Mi` or `2Gi` (Mi or Gi).", "e.g. `1Gi`.") })
      .default("512Mi")
      .describe("Memory per instance."),
    scaling: scaling(environment).prefault({}).describe("Instances and requests per instance."),
    env: z
      .record(ENV_KEY, envValue)
      .transform((env) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])))
      .default({})
      .describe("Plain environment variables."),
    secretEnv: z
      .record(ENV_KEY, secretRef)
      .default({})
      .describe(
        "`NAME: {secret, version?}` Secret Manager references; the runtime account gets `secretAccessor` on each secret.",
      ),
    ingress: z
      .enum(Object.keys(INGRESS_VALUES) as [Ingress], {
        error: fix(
          `must be one of ${Object.keys(INGRESS_VALUES).join(", ")}.`,
          "`all` for a public endpoint.",
        ),
      })
      .optional()
      .meta({
        description:
          "Who may reach the service; behind the balancer always `internal-and-cloud-load-balancing`.",
        defaultText: "`all`; behind the balancer `internal-and-cloud-load-balancing`",
      }),
    allowUnauthenticated: z
      .boolean({
        error: fix("must be true or false.", "true makes the service public (allUsers may invoke)."),
      })
      .default(false)
      .describe("`true` grants `roles/run.invoker` to `allUsers`."),
    invokers: z
      .array(
        z.string().regex(/^(?:serviceAccount|user|group|domain|principal|principalSet):\S+$/, {
          error: fix(
            "must be an IAM member such as `serviceAccount:x@p.iam.gserviceaccount.com` or `group:team@example.com`.",
            "prefix it with its kind.",
          ),
        }),
        { error: "must be a list of IAM members." },
      )
      .default([])
      .describe("IAM members granted `roles/run.invoker`."),
    healthCheckPath: z
      .string({ error: "must be an HTTP path." })
      .regex(/^\/\S*$/, { error: fix("must be an HTTP path starting with `/`.", "e.g. `/healthz`.") })
      .optional()
      .describe("HTTP startup and liveness probes; unset: a TCP startup probe."),
    port: int("a TCP port", 1, 65535, "the port the container listens on (8080 by default).")
      .default(8080)
      .describe("Container port."),
    timeoutSeconds: int("a number of seconds", 1, 3600, "Cloud Run allows 1 to 3600 seconds per request.")
      .default(300)
      .describe("Request timeout."),
    deletionProtection: z
      .boolean({ error: "must be true or false." })
      .default(environment === "prod")
      .describe("Refuse to delete the service."),
    consumes: z
      .record(topicName, pushSubscription, {
        error: fix(
          "must be a map of topic name to push subscription settings.",
          "e.g. `jobs: {path: /jobs}`.",
        ),
      })
      .default({})
      .describe(
        "Topics Pub/Sub pushes to this service, by topic name: each gets a push subscription authenticated as `<service>-push`, retries and a dead-letter topic (docs/queues.md).",
      ),
    publishes: z
      .array(topicName, { error: fix("must be a list of topic names.", "e.g. `[jobs]`.") })
      .default([])
      .describe("Topics this service's runtime account may publish to (and nothing else may)."),
    llm: z
      .strictObject({
        streams: z
          .boolean({ error: "must be true or false." })
          .default(false)
          .describe(
            "The service streams model output: time to first token is measured, and its latency SLO, latency alert and the rollout's latency judgment read it instead of request latency.",
          ),
      })
      .optional()
      .describe(
        "The service logs its model calls (docs/llm.md): `{streams}`; their tokens, calls and provider errors are measured per revision and judged by the rollout.",
      ),
    breakglassJustification: z
      .string({ error: fix("must be the reason for bypassing Binary Authorization.", "quote a sentence.") })
      .trim()
      .min(10, {
        error: fix(
          "must say why Binary Authorization is bypassed, in at least 10 characters.",
          "e.g. `'incident INC-123: hotfix image not yet attested'`.",
        ),
      })
      .optional()
      .describe(
        "Break-glass: deploy this service without Binary Authorization's check, for this reason; the deploy pages the on-call. Remove it in the next change (docs/supply-chain.md).",
      ),
  });

export type ParsedService = z.output<ReturnType<typeof serviceShape>>;

/** Cloud Run sets these itself; a container may not. */
const RESERVED_ENV = new Set(["PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"]);

const REPOSITORY = /^[a-z0-9.-]+(?::\d+)?(?:\/[a-z0-9._-]+)+$/;

/** The rules between one service's keys; `name` is its key under `services`. */
function serviceRules(name: string, s: ParsedService, environment: Environment, ctx: Ctx): void {
  const push = (path: PropertyKey[], value: unknown, message: string) =>
    report(ctx, [name, ...path], message, value);
  const requireDigest = environment !== "dev";

  // Releases: the first deploy serves one release at 100%, so a canary needs a stable release to split with.
  const { stable, canary } = s;
  if (!stable || (!stable.image && !stable.build)) {
    if (canary) {
      push(
        ["stable"],
        MISSING,
        "is missing, but a canary is declared: the service has no stable release for the canary to split traffic with.\n" +
          "Fix: deploy the first release as stable (move `canary.image` to `stable.image` and remove `canary`), then start a canary.",
      );
    } else {
      push(
        ["stable", "image"],
        MISSING,
        "is required: the release that serves traffic.\nFix: set `stable.image` to `REPOSITORY@sha256:DIGEST`.",
      );
    }
  } else if (stable.image && stable.build) {
    push(
      ["stable"],
      stable,
      "sets both `image` and `build`.\nFix: keep one: `image` for a pushed release, `build` for a local build (dev only).",
    );
  }
  if (stable?.build && environment !== "dev") {
    push(
      ["stable", "build"],
      stable.build,
      `is only allowed in dev stacks; this is ${environment}.\nFix: deploy a pushed image by digest (\`stable.image\`).`,
    );
  }

  const checkImage = (key: string, ref: string | undefined) => {
    if (ref === undefined) return;
    const parsed = parseImageRef(ref);
    if (!parsed) {
      push(
        [key, "image"],
        ref,
        "is not an image reference.\nFix: write `REPOSITORY@sha256:DIGEST`, e.g. the digest CI printed after the push.",
      );
      return;
    }
    if (parsed.repository !== s.repository) {
      push(
        [key, "image"],
        ref,
        `is not in this service's repository \`${s.repository}\`.\nFix: use an image from that repository, or change \`repository\`.`,
      );
    }
    if (!parsed.digest && requireDigest) {
      push(
        [key, "image"],
        ref,
        `must be pinned by digest in ${environment}: a tag can move, so the same config could deploy different code.\n` +
          "Fix: use `REPOSITORY@sha256:DIGEST` (`gcloud artifacts docker images describe IMAGE:TAG` prints the digest).",
      );
    }
  };
  if (!REPOSITORY.test(s.repository)) {
    push(
      ["repository"],
      s.repository,
      "is not an image repository.\nFix: e.g. `europe-west1-docker.pkg.dev/PROJECT/REPO/IMAGE`, without tag or digest.",
    );
  } else {
    checkImage("stable", stable?.image);
    checkImage("canary", canary?.image);
  }

  if (canary && stable?.image && canary.image === stable.image) {
    push(
      ["canary", "image"],
      canary.image,
      "is the stable image: there is nothing to compare.\nFix: start the canary with the new release's image.",
    );
  }
  if (stable?.revision !== undefined && !stable.revision.startsWith(`${name}-`)) {
    push(
      ["stable", "revision"],
      stable.revision,
      `must start with the service name: \`${name}-\`.\nFix: pin the revision that stable runs now (\`gcloud run services describe ${name}\`).`,
    );
  }

  const base = canary?.baseline;
  if (canary && base) {
    const nameProblem = baselineNameProblem(name);
    if (nameProblem)
      push(
        ["canary", "baseline"],
        base,
        `cannot be used here: ${nameProblem}.\nFix: remove \`baseline\` (the canary is compared with stable), or use a shorter service name.`,
      );
    const percentProblem =
      canary.phase === "rolled-back" ? undefined : baselinePercentProblem(canary.percent);
    if (percentProblem)
      push(
        ["canary", "percent"],
        canary.percent,
        `is too high beside a baseline: ${percentProblem}.\nFix: \`orchestra canary set ${name} PERCENT --drop-baseline\` to go higher without it.`,
      );
    if (canary.phase === "serving" && base.phase === "staged")
      push(
        ["canary", "baseline", "phase"],
        base.phase,
        "is `staged` while the canary serves: a baseline is named in the traffic list only once it is known to be ready.\n" +
          `Fix: let \`orchestra canary set ${name} PERCENT\` move it on, or roll the canary back (\`orchestra canary rollback ${name}\`).`,
      );
    if (base.revision === canary.revision || base.revision === stable?.revision)
      push(
        ["canary", "baseline", "revision"],
        base.revision,
        `is also the ${base.revision === canary.revision ? "canary's" : "stable"} revision: a baseline is a fresh revision of its own.\n` +
          "Fix: start the canary again with `orchestra canary start --baseline`, which names one.",
      );
  }

  // Container shape.
  const { cpu, memory } = s;
  // The schema allows Mi and Gi only (MEMORY); anything else was refused before this check.
  const mib = memoryMiB(memory) ?? 0;
  const minCpu = mib > 24 * 1024 ? 8 : mib > 16 * 1024 ? 6 : mib > 8 * 1024 ? 4 : mib > 4 * 1024 ? 2 : 1;
  if (mib < 128 || mib > 32 * 1024) {
    push(["memory"], memory, "must be between 128Mi and 32Gi.\nFix: pick a size in that range.");
  } else if (Number(cpu) < minCpu) {
    push(
      ["cpu"],
      cpu,
      `must be at least ${minCpu} for memory ${memory} (Cloud Run's memory-per-CPU limit).\nFix: raise cpu to ${minCpu} or lower memory.`,
    );
  } else if (mib < minMemoryMiB(cpu)) {
    push(
      ["memory"],
      memory,
      `must be at least ${minMemoryMiB(cpu) / 1024}Gi for ${cpu} CPUs (Cloud Run's memory-per-CPU limit).\nFix: raise memory or lower cpu.`,
    );
  }

  const { minInstances, maxInstances } = s.scaling;
  if (minInstances > maxInstances) {
    push(
      ["scaling", "minInstances"],
      minInstances,
      `must not exceed scaling.maxInstances (${maxInstances}).\nFix: lower minInstances or raise maxInstances.`,
    );
  }

  for (const [where, map] of [
    ["env", s.env],
    ["secretEnv", s.secretEnv],
  ] as const) {
    for (const key of Object.keys(map).filter((k) => RESERVED_ENV.has(k)))
      push(
        [where, key],
        KEY,
        "is set by Cloud Run itself and cannot be overridden.\nFix: rename the variable.",
      );
  }
  for (const key of Object.keys(s.secretEnv)) {
    if (key in s.env)
      push(["secretEnv", key], KEY, "is also a plain `env` variable.\nFix: keep one of the two.");
  }

  // Queues: a push subscription waits at most its ack deadline for the answer, then delivers again.
  for (const [topic, c] of Object.entries(s.consumes)) {
    const at = (...path: PropertyKey[]) => ["consumes", topic, ...path];
    if (c.acknowledgesEarly) {
      if (s.cpuAllocation !== "instance")
        push(
          at("acknowledgesEarly"),
          true,
          "needs CPU after the response, but `cpuAllocation` is `request`: Cloud Run throttles the CPU once the answer is sent, and the job stalls.\n" +
            "Fix: set `cpuAllocation: instance` on the service, or answer only when the job is done (remove `acknowledgesEarly`).",
        );
    } else if (s.timeoutSeconds > c.ackDeadlineSeconds) {
      push(
        ["timeoutSeconds"],
        s.timeoutSeconds,
        `is longer than the ack deadline of topic \`${topic}\` (${c.ackDeadlineSeconds} s): Pub/Sub delivers a job again while it still runs, and its model calls are paid twice.\n` +
          `Fix: lower \`timeoutSeconds\` to at most ${c.ackDeadlineSeconds}${c.ackDeadlineSeconds < ACK_DEADLINE.max ? ` or raise \`consumes.${topic}.ackDeadlineSeconds\` (up to ${ACK_DEADLINE.max})` : ""}, or answer at once and finish in the background (\`acknowledgesEarly: true\`, with \`cpuAllocation: instance\`).`,
      );
    }
    if (c.exactlyOnce)
      push(
        at("exactlyOnce"),
        true,
        "is not available for push subscriptions (Pub/Sub offers exactly-once delivery to pull subscribers only).\n" +
          "Fix: remove it, and make the job idempotent on the message id Pub/Sub sends with each delivery.",
      );
    if (c.retry.minimumBackoffSeconds > c.retry.maximumBackoffSeconds)
      push(
        at("retry", "minimumBackoffSeconds"),
        c.retry.minimumBackoffSeconds,
        `is above \`maximumBackoffSeconds\` (${c.retry.maximumBackoffSeconds}).\nFix: lower it or raise the maximum.`,
      );
    if (!c.deadLetter && environment === "prod")
      push(
        at("deadLetter"),
        false,
        "must be true in prod: without a dead-letter topic a job that always fails is retried until it expires, and nobody sees it.\n" +
          "Fix: remove `deadLetter: false`.",
      );
  }
}

/**
 * Queue rules that need the whole stack: a push subscription posts to one URL, so a consumer in several
 * regions is reached through the balancer, which must then front it.
 */
export function queueRules(
  services: Readonly<Record<string, ParsedService>>,
  stackRegions: readonly string[],
  balanced: ReadonlySet<string> | undefined,
  skip: ReadonlySet<string>,
  ctx: Ctx,
  path: readonly PropertyKey[],
): void {
  for (const [name, s] of Object.entries(services)) {
    if (skip.has(name)) continue;
    const regions = (s.regions ?? stackRegions).length;
    for (const [topic, c] of Object.entries(s.consumes)) {
      const at = [...path, name, "consumes", topic, "via"];
      if (c.via === "service" && regions > 1)
        report(
          ctx,
          at,
          `is \`service\`, but \`${name}\` runs in ${regions} regions and a push subscription posts to one URL.\n` +
            "Fix: push through the global load balancer (`via: balancer`), or run the consumer in one region.",
          c.via,
        );
      if (c.via === "balancer" && balanced && !balanced.has(name))
        report(
          ctx,
          at,
          `is \`balancer\`, but \`${name}\` is not behind the load balancer.\n` +
            `Fix: add \`${name}\` under \`ai-orchestra:loadBalancer.services\`, or push to the service itself (\`via: service\`).`,
          c.via,
        );
    }
  }
}

/** Cloud Run's smallest memory for a CPU count: 4 vCPU need 2 GiB, 6 and 8 need 4 GiB. */
function minMemoryMiB(cpu: string): number {
  return Number(cpu) >= 6 ? 4096 : Number(cpu) >= 4 ? 2048 : 0;
}

/** `ai-orchestra:services` for an environment: each service is checked on its own once its keys parse. */
export const servicesSchema = (environment: Environment) =>
  z
    .record(
      z.string().regex(SERVICE_NAME, {
        error: fix(
          "must be a Cloud Run service name: lowercase letters, digits and '-', starting with a letter, not ending with '-', at most 40 characters.",
          "rename the service key.",
        ),
      }),
      serviceShape(environment),
      {
        error: fix("must be a map of service name to service settings.", "see docs/configuration.md."),
      },
    )
    .refine((s) => Object.keys(s).length > 0, {
      error: fix("must declare at least one service.", "add a service under `ai-orchestra:services`."),
    })
    .superRefine((services, ctx) => {
      if (typeof services !== "object" || services === null) return;
      for (const [name, s] of Object.entries(services)) {
        if (cleanAt(ctx, name)) serviceRules(name, s, environment, ctx);
      }
    }, always)
    .describe(
      "The Cloud Run services of this stack, by name (at most 40 characters): image repository, stable release, optional canary {image, percent}, and runtime settings.",
    );

/**
 * A service as validated. `ingress` is passed in: behind the balancer it defaults to
 * `internal-and-cloud-load-balancing`, elsewhere to `all`.
 */
export function toServiceConfig(
  name: string,
  s: ParsedService,
  regions: readonly string[],
  ingress: Ingress,
): ServiceConfig {
  const { stable, canary } = s;
  return {
    name,
    regions: s.regions ?? regions,
    repository: s.repository,
    stable: {
      ...(stable?.image ? { image: stable.image } : {}),
      ...(stable?.build ? { build: stable.build } : {}),
      ...(stable?.revision ? { revision: stable.revision } : {}),
    },
    ...(canary
      ? {
          canary: {
            image: canary.image,
            revision: canary.revision,
            percent: canary.percent,
            phase: canary.phase,
            ...(canary.baseline
              ? { baseline: { revision: canary.baseline.revision, phase: canary.baseline.phase } }
              : {}),
            ...(canary.approvedDigests ? { approvedDigests: canary.approvedDigests } : {}),
            ...(canary.vulnerabilityOverride ? { vulnerabilityOverride: canary.vulnerabilityOverride } : {}),
          },
        }
      : {}),
    cpu: s.cpu,
    cpuAllocation: s.cpuAllocation,
    memory: s.memory,
    scaling: s.scaling,
    env: s.env,
    secretEnv: s.secretEnv,
    ingress,
    allowUnauthenticated: s.allowUnauthenticated,
    invokers: s.invokers,
    ...(s.healthCheckPath ? { healthCheckPath: s.healthCheckPath } : {}),
    port: s.port,
    timeoutSeconds: s.timeoutSeconds,
    deletionProtection: s.deletionProtection,
    consumes: Object.entries(s.consumes).map(([topic, c]): PushSubscriptionConfig => ({
      topic,
      path: c.path,
      via: c.via,
      ackDeadlineSeconds: c.ackDeadlineSeconds,
      retry: c.retry,
      maxDeliveryAttempts: c.maxDeliveryAttempts,
      deadLetter: c.deadLetter,
      messageRetentionSeconds: c.messageRetentionSeconds,
      ...(c.filter ? { filter: c.filter } : {}),
      ordering: c.ordering,
      acknowledgesEarly: c.acknowledgesEarly,
    })),
    publishes: [...new Set(s.publishes)],
    ...(s.llm ? { llm: { streams: s.llm.streams } } : {}),
    ...(s.breakglassJustification ? { breakglassJustification: s.breakglassJustification } : {}),
  };
}

/**
 * While a canary exists, the revisions it involves must be reproducible exactly from the current
 * settings (model/release/pins.ts): a setting edited mid-canary is refused here, before any `up`.
 */
export function requireReproduciblePins(
  service: ServiceConfig,
  project: string,
  ctx: Ctx,
  path: PropertyKey[],
): void {
  const email = serviceAccountEmail(runtimeAccountId(service.name), project);
  for (const p of pinProblems(service, email))
    report(ctx, [...path, service.name, ...p.path], p.message, p.value === undefined ? MISSING : p.value);
}
