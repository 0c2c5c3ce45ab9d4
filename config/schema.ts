import { z } from "zod";
import { cicdSchema, githubSecretsSchema } from "./cicd";
import { loadBalancerSchema } from "./loadBalancerSchema";
import { monitoringSchema } from "./monitoring";
import { policySchema } from "./policy";
import { ENVIRONMENTS, INGRESS_VALUES } from "../model/types";
import { fix } from "./errors";

/**
 * The shape of the raw stack config, key by key. Messages say what is allowed and how to fix it;
 * the formatter adds the key path and the bad value. Cross-field rules live in validate.ts.
 */

// A stack's config is validated once or twice per process: compiling zod's fast parsers costs more
// than it saves.
z.config({ jitless: true });

// Cloud Run service names: lowercase letters, digits and hyphens; 40 characters leave room for the
// `canary`/`stable` tags (tag + service name <= 46).
export const SERVICE_NAME = /^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;
const MEMORY = /^(?<n>\d+)(?<unit>Mi|Gi)$/;
export const CPU_VALUES = ["1", "2", "4", "6", "8"] as const;
export const REGION = /^[a-z]+-[a-z]+\d+$/;

/** Cloud Run regions a service runs in: each gets its own service with the same traffic split. */
const regionList = z
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

const imageString = z.string({
  error: fix("must be an image reference `REPOSITORY@sha256:DIGEST`.", "quote it as a string."),
});

const build = z.strictObject({
  context: z.string({ error: fix("must be a path to a Docker build context.", "e.g. `../app`.") }),
  dockerfile: z.string({ error: "must be a path to a Dockerfile, relative to the context." }).optional(),
  target: z.string({ error: "must be the name of a build stage." }).optional(),
});

const stable = z.strictObject({
  image: imageString.optional(),
  build: build.optional(),
  revision: z
    .string({ error: "must be a revision name." })
    .regex(/^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/, {
      error: fix(
        "must be a Cloud Run revision name: lowercase letters, digits and '-', starting with a letter, at most 63 characters.",
        "let `orchestra canary start` pin it, or copy the name from `gcloud run revisions list`.",
      ),
    })
    .optional(),
});

const canary = z.strictObject({
  image: imageString,
  percent,
  rolledBack: z.boolean({ error: "must be true or false." }).optional(),
});

const int = (what: string, lo: number, hi: number, howTo: string) =>
  z
    .number({ error: fix(`must be ${what}.`, howTo) })
    .int({ error: fix(`must be a whole number.`, howTo) })
    .min(lo, { error: fix(`must be at least ${lo}.`, howTo) })
    .max(hi, { error: fix(`must be at most ${hi}.`, howTo) });

const scaling = z.strictObject({
  minInstances: int(
    "a whole number of instances",
    0,
    1000,
    "0 scales to zero; 1 or more keeps warm instances.",
  ).optional(),
  maxInstances: int(
    "a whole number of instances",
    1,
    1000,
    "set the ceiling you are willing to pay for.",
  ).optional(),
  concurrency: int(
    "requests per instance",
    1,
    1000,
    "80 is Cloud Run's default; 1 serialises requests.",
  ).optional(),
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
    }),
  version: z
    .union([z.string(), z.number()])
    .transform(String)
    .pipe(
      z.string().regex(/^(?:latest|[1-9]\d*)$/, {
        error: fix("must be `latest` or a version number.", "pin a number for reproducible revisions."),
      }),
    )
    .optional(),
});

export const serviceSchema = z.strictObject({
  regions: regionList.optional(),
  repository: z.string({
    error: fix(
      "must be the image repository, e.g. `europe-west1-docker.pkg.dev/PROJECT/REPO/IMAGE`.",
      "add `repository:` to the service.",
    ),
  }),
  stable: stable.optional(),
  canary: canary.optional(),
  cpu: z
    .union([z.string(), z.number()])
    .transform(String)
    .pipe(
      z.enum(CPU_VALUES, {
        error: fix(`must be one of ${CPU_VALUES.join(", ")} (vCPUs).`, "pick the nearest value."),
      }),
    )
    .optional(),
  memory: z
    .string({ error: fix("must be a size like `512Mi` or `2Gi`.", "quote it and add the unit.") })
    .regex(MEMORY, { error: fix("must be a size like `512Mi` or `2Gi` (Mi or Gi).", "e.g. `1Gi`.") })
    .optional(),
  scaling: scaling.optional(),
  env: z
    .record(
      z.string().regex(ENV_NAME, {
        error: "must be an environment variable name: letters, digits, _; not starting with a digit.",
      }),
      envValue,
    )
    .optional(),
  secretEnv: z
    .record(
      z.string().regex(ENV_NAME, {
        error: "must be an environment variable name: letters, digits, _; not starting with a digit.",
      }),
      secretRef,
    )
    .optional(),
  ingress: z
    .enum(Object.keys(INGRESS_VALUES) as [keyof typeof INGRESS_VALUES], {
      error: fix(`must be one of ${Object.keys(INGRESS_VALUES).join(", ")}.`, "`all` for a public endpoint."),
    })
    .optional(),
  allowUnauthenticated: z
    .boolean({ error: fix("must be true or false.", "true makes the service public (allUsers may invoke).") })
    .optional(),
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
    .optional(),
  healthCheckPath: z
    .string({ error: "must be an HTTP path." })
    .regex(/^\/\S*$/, { error: fix("must be an HTTP path starting with `/`.", "e.g. `/healthz`.") })
    .optional(),
  port: int("a TCP port", 1, 65535, "the port the container listens on (8080 by default).").optional(),
  timeoutSeconds: int(
    "a number of seconds",
    1,
    3600,
    "Cloud Run allows 1 to 3600 seconds per request.",
  ).optional(),
  deletionProtection: z.boolean({ error: "must be true or false." }).optional(),
});

export type RawService = z.infer<typeof serviceSchema>;

/** The project namespace's keys, as they appear after `ai-orchestra:`. */
export const projectSchema = z.strictObject({
  environment: z.enum(ENVIRONMENTS, {
    error: fix(
      `must be one of ${ENVIRONMENTS.join(", ")}.`,
      "set `ai-orchestra:environment` in the stack file.",
    ),
  }),
  regions: regionList.optional(),
  labels: z
    .record(
      z.string().regex(LABEL_KEY, {
        error:
          "must be a label key: lowercase letters, digits, _ and -, starting with a letter, at most 63 characters.",
      }),
      z.string({ error: "must be a string." }).regex(LABEL_VALUE, {
        error: fix(
          "must be a label value: lowercase letters, digits, _ and -, at most 63 characters.",
          "lowercase it.",
        ),
      }),
    )
    .optional(),
  services: z
    .record(
      z.string().regex(SERVICE_NAME, {
        error: fix(
          "must be a Cloud Run service name: lowercase letters, digits and '-', starting with a letter, not ending with '-', at most 40 characters.",
          "rename the service key.",
        ),
      }),
      serviceSchema,
      {
        error: fix(
          "must be a map of service name to service settings.",
          "see the README's configuration reference.",
        ),
      },
    )
    .refine((s) => Object.keys(s).length > 0, {
      error: fix("must declare at least one service.", "add a service under `ai-orchestra:services`."),
    }),
  cicd: cicdSchema.optional(),
  githubSecrets: githubSecretsSchema.optional(),
  deliveryAppPrivateKey: z
    .string({ error: "must be the GitHub App's private key (PEM), set as a secret." })
    .optional(),
  monitoring: monitoringSchema.optional(),
  policy: policySchema.optional(),
  loadBalancer: loadBalancerSchema.optional(),
  // Secrets for notification channels: set with `pulumi config set --secret`; read by the program as secrets.
  slackToken: z.string({ error: "must be a string (set it with `pulumi config set --secret`)." }).optional(),
  pagerdutyServiceKey: z
    .string({ error: "must be a string (set it with `pulumi config set --secret`)." })
    .optional(),
});

export type RawProject = z.infer<typeof projectSchema>;

export const gcpSchema = z.object({
  project: z
    .string({
      error: fix(
        "is required: the GCP project to deploy into.",
        "`pulumi config set gcp:project PROJECT_ID -s STACK`.",
      ),
    })
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, {
      error: fix(
        "must be a GCP project id: 6-30 lowercase letters, digits and '-'.",
        "use the id, not the display name or number.",
      ),
    }),
  region: z
    .string({
      error: fix(
        "is required: the region Cloud Run runs in.",
        "`pulumi config set gcp:region europe-west1 -s STACK`.",
      ),
    })
    .regex(REGION, {
      error: fix(
        "must be a GCP region such as `europe-west1`.",
        "pick a region from `gcloud run regions list`.",
      ),
    }),
});
