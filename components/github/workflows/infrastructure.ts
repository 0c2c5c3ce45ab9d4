import { action, PULUMI_CLI_VERSION } from "./pins";
import { appToken, checkout, gcpAuth, npmCi, setupNode } from "./steps";
import type { Job, Step, Workflow } from "./types";

/** A stack this repository deploys, in deploy order. */
export interface StackTarget {
  readonly name: string;
  /** True for stacks whose GitHub environment has required reviewers (prod). */
  readonly protected: boolean;
  /** The k6 test after `up` hits the canary tag URL (prod) rather than the service URL. */
  readonly perfTarget: "url" | "canaryUrl";
  /**
   * The stack requires Binary Authorization: before `up`, its job attests every image the stack file
   * names that is not attested yet, once its provenance and the vulnerability gate pass. Default: false.
   */
  readonly attest?: boolean;
}

export interface InfraWorkflowInput {
  readonly defaultBranch: string;
  /** Stacks in deploy order, e.g. dev, staging, prod. */
  readonly stacks: readonly StackTarget[];
}

/** Suffix of a stack's repository variables: `WIF_PROVIDER_PROD`. */
export function variableSuffix(stack: string): string {
  return stack.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/** Repository variables written once, by the stack that owns repository-wide settings. */
export const REPOSITORY_VARIABLES = ["PULUMI_BACKEND_URL", "DELIVERY_APP_ID"] as const;

/** Repository variables each stack writes with its suffix; the workflows below read them. */
export const STACK_VARIABLES = [
  "GCP_PROJECT",
  "GCP_REGION",
  "REGISTRY",
  "SERVICE_URLS",
  "WIF_PROVIDER",
  "WIF_PREVIEW_PROVIDER",
  "DEPLOYER_SA",
  "PREVIEWER_SA",
  "PERF_SERVICE",
  "PERF_PATH",
  "PERF_P95_MS",
  "PERF_ERROR_RATE",
  "PERF_VUS",
  "PERF_DURATION",
] as const;
export type StackVariable = (typeof STACK_VARIABLES)[number];

const v = (name: StackVariable, stack: string) => `\${{ vars.${name}_${variableSuffix(stack)} }}`;
const jobId = (kind: string, stack: string) => `${kind}-${stack.replace(/[^A-Za-z0-9_-]/g, "-")}`;

/** Environment every Pulumi step gets: the state backend, and no type-check (the test job does it). */
const pulumiEnv = {
  PULUMI_BACKEND_URL: "${{ vars.PULUMI_BACKEND_URL }}",
  // Only for a Pulumi Cloud backend; empty with a gs:// backend.
  PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
  PULUMI_NODEJS_TRANSPILE_ONLY: "true",
};

function pulumiStep(
  stack: string,
  command: "preview" | "up",
  githubToken: string,
  extra: Readonly<Record<string, string | boolean>> = {},
  id?: string,
  env: Readonly<Record<string, string>> = {},
): Step {
  return {
    name: `pulumi ${command} (${stack})`,
    ...(id ? { id } : {}),
    uses: action("pulumi"),
    with: { command, "stack-name": stack, diff: true, "pulumi-version": PULUMI_CLI_VERSION, ...extra },
    env: { ...pulumiEnv, GITHUB_TOKEN: githubToken, ...env },
  };
}

/**
 * The policy pack is its own npm project: pulumi loads it with policy/node_modules. The root install's
 * `prepare` has already compiled it into policy/build, so its own `prepare` (the same build) is skipped.
 */
const policyPackCi: Step = {
  name: "Install the policy pack's dependencies",
  run: "npm ci --prefix policy --ignore-scripts --no-audit --no-fund",
};

/** Pull requests: the tests, and `pulumi preview` of each stack the change touches, as a PR comment. */
export function pullRequestWorkflow(input: InfraWorkflowInput): Workflow {
  const previews: Record<string, Job> = {};
  for (const stack of input.stacks) {
    previews[jobId("preview", stack.name)] = {
      name: `preview (${stack.name})`,
      needs: ["changes"],
      if: `contains(fromJSON(needs.changes.outputs.stacks), '${stack.name}')`,
      "runs-on": "ubuntu-latest",
      permissions: { contents: "read", "id-token": "write", "pull-requests": "write" },
      concurrency: {
        group: `preview-${stack.name}-\${{ github.event.pull_request.number }}`,
        "cancel-in-progress": true,
      },
      "timeout-minutes": 20,
      steps: [
        checkout(),
        setupNode(),
        npmCi,
        policyPackCi,
        gcpAuth(v("WIF_PREVIEW_PROVIDER", stack.name), v("PREVIEWER_SA", stack.name)),
        pulumiStep(stack.name, "preview", "${{ github.token }}", {
          "comment-on-pr": true,
          "github-token": "${{ github.token }}",
          // The guardrails (docs/guardrails.md): a mandatory violation fails the preview.
          policyPacks: "policy",
        }),
      ],
    };
  }
  const previewIds = Object.keys(previews);
  return {
    name: "Pull request",
    // pull_request, never pull_request_target: a pull request's code runs without this repository's secrets.
    on: { pull_request: { branches: [input.defaultBranch] } },
    permissions: { contents: "read" },
    concurrency: { group: "pr-${{ github.event.pull_request.number }}", "cancel-in-progress": true },
    jobs: {
      test: {
        name: "test",
        "runs-on": "ubuntu-latest",
        permissions: { contents: "read" },
        "timeout-minutes": 20,
        steps: [
          checkout(),
          setupNode(),
          npmCi,
          { name: "Type-check", run: "npm run typecheck" },
          { name: "Lint", run: "npm run lint" },
          { name: "Format check", run: "npm run format:check" },
          { name: "Tests", run: "npm test" },
          { name: "End-to-end tests", run: "npm run test:e2e" },
        ],
      },
      changes: {
        name: "changes",
        "runs-on": "ubuntu-latest",
        permissions: { contents: "read" },
        "timeout-minutes": 5,
        outputs: { stacks: "${{ steps.touched.outputs.stacks }}" },
        steps: [
          checkout({ "fetch-depth": 0 }),
          {
            name: "Stacks this change touches",
            id: "touched",
            env: { BASE_SHA: "${{ github.event.pull_request.base.sha }}" },
            run: [
              "set -euo pipefail",
              'stacks="$(git diff --name-only "$BASE_SHA"...HEAD | node scripts/touched-stacks.mjs)"',
              'echo "stacks=$stacks" >> "$GITHUB_OUTPUT"',
              'echo "Stacks to preview: $stacks" >> "$GITHUB_STEP_SUMMARY"',
            ].join("\n"),
          },
        ],
      },
      ...previews,
      // One required check whatever the change touches: a skipped preview passes, a failed one fails.
      preview: {
        name: "preview",
        needs: ["changes", ...previewIds],
        if: "always()",
        "runs-on": "ubuntu-latest",
        permissions: {},
        "timeout-minutes": 5,
        steps: [
          {
            name: "Every touched stack previewed cleanly",
            env: { RESULTS: "${{ toJSON(needs) }}" },
            run: [
              "set -euo pipefail",
              'echo "$RESULTS" | jq -e \'[.[] | .result] | all(. == "success" or . == "skipped")\'',
            ].join("\n"),
          },
        ],
      },
    },
  };
}

/** Merge: `pulumi up` stack by stack, each followed by a k6 test; prod waits for its environment's reviewers. */
export function deployWorkflow(input: InfraWorkflowInput): Workflow {
  const jobs: Record<string, Job> = {};
  let previous: { up: string; perf: string } | undefined;
  for (const stack of input.stacks) {
    const up = jobId("up", stack.name);
    const perf = jobId("perf", stack.name);
    const gate = previous
      ? `\${{ !cancelled() && needs.${previous.up}.result == 'success' && (needs.${previous.perf}.result == 'success' || needs.${previous.perf}.result == 'skipped') }}`
      : undefined;
    jobs[up] = {
      name: `up (${stack.name})`,
      ...(previous ? { needs: [previous.up, previous.perf], if: gate } : {}),
      "runs-on": "ubuntu-latest",
      environment: { name: stack.name },
      permissions: { contents: "read", "id-token": "write" },
      concurrency: { group: `deploy-${stack.name}`, "cancel-in-progress": false },
      "timeout-minutes": 45,
      outputs: {
        "perf-url": "${{ steps.target.outputs.url }}",
        "perf-header": "${{ steps.target.outputs.header }}",
      },
      steps: [
        checkout(),
        setupNode(),
        npmCi,
        gcpAuth(v("WIF_PROVIDER", stack.name), v("DEPLOYER_SA", stack.name)),
        appToken(),
        ...(stack.attest ? [attestStep(stack.name)] : []),
        pulumiStep(stack.name, "up", "${{ steps.app-token.outputs.token }}", {}, "up"),
        {
          name: "Load test target",
          id: "target",
          env: {
            ENDPOINTS: "${{ steps.up.outputs.serviceEndpoints }}",
            SERVICE: v("PERF_SERVICE", stack.name),
          },
          run: [
            "set -euo pipefail",
            'if [ -z "$SERVICE" ] || [ -z "$ENDPOINTS" ]; then echo "url=" >> "$GITHUB_OUTPUT"; exit 0; fi',
            ...perfTargetScript(stack.perfTarget),
            'echo "url=$url" >> "$GITHUB_OUTPUT"',
            'echo "header=$header" >> "$GITHUB_OUTPUT"',
          ].join("\n"),
        },
      ],
    };
    jobs[perf] = {
      name: `perf (${stack.name})`,
      needs: [up],
      if: `needs.${up}.outputs.perf-url != ''`,
      "runs-on": "ubuntu-latest",
      permissions: { contents: "read" },
      "timeout-minutes": 15,
      steps: [
        checkout(),
        { name: "Set up k6", uses: action("setupK6") },
        {
          name: "k6 smoke test",
          env: {
            BASE_URL: `\${{ needs.${up}.outputs.perf-url }}`,
            HEADER: `\${{ needs.${up}.outputs.perf-header }}`,
            PERF_PATH: v("PERF_PATH", stack.name),
            P95_MS: v("PERF_P95_MS", stack.name),
            ERROR_RATE: v("PERF_ERROR_RATE", stack.name),
            VUS: v("PERF_VUS", stack.name),
            DURATION: v("PERF_DURATION", stack.name),
            SUMMARY_TITLE: `k6 against ${stack.name} (${stack.perfTarget === "canaryUrl" ? "canary tag URL" : "service URL"})`,
          },
          run: "k6 run perf/k6/smoke.js",
        },
        {
          name: "Results in the job summary",
          if: "always()",
          run: 'if [ -f k6-summary.md ]; then cat k6-summary.md >> "$GITHUB_STEP_SUMMARY"; fi',
        },
      ],
    };
    previous = { up, perf };
  }
  return {
    name: "Deploy",
    on: { push: { branches: [input.defaultBranch] }, workflow_dispatch: null },
    permissions: { contents: "read" },
    // Deploys queue, never cancel each other: a half-applied `up` is worse than a late one.
    concurrency: { group: "deploy", "cancel-in-progress": false },
    jobs,
  };
}

/**
 * Attests, for Binary Authorization, every image the stack file runs that has no attestation yet, after
 * (a) its build provenance verifies against this organisation's workflows and (b) the vulnerability gate
 * passes; then signs its digest with the attestor's KMS key. Runs in the stack's protected environment
 * as the deployer, before `up`: an image that fails either check stops the deploy. An image attested
 * once is not checked again, so a finding published later does not block unrelated deploys of a
 * running release (the gate runs again when a new canary starts).
 */
export function attestStep(stack: string): Step {
  return {
    name: `Attest the stack's images for Binary Authorization (${stack})`,
    env: {
      STACK: stack,
      OWNER: "${{ github.repository_owner }}",
      // The App's token reads the application repositories' attestations.
      GH_TOKEN: "${{ steps.app-token.outputs.token }}",
    },
    run: [
      "set -euo pipefail",
      'targets="$(node --require @swc-node/register scripts/attestation-targets.ts "$STACK")"',
      'attestor="$(echo "$targets" | jq -r \'.attestor\')"',
      'key_version="$(echo "$targets" | jq -r \'.keyVersion\')"',
      "for image in $(echo \"$targets\" | jq -r '.images[]'); do",
      '  if [ -n "$(gcloud container binauthz attestations list --attestor="$attestor" --artifact-url="$image" --format="value(name)")" ]; then',
      '    echo "$image: attested already"; continue',
      "  fi",
      '  gcloud auth configure-docker "${image%%/*}" --quiet',
      '  gh attestation verify "oci://$image" --owner "$OWNER"',
      '  npx orchestra image check --stack "$STACK" --image "$image"',
      '  gcloud container binauthz attestations sign-and-create --artifact-url="$image" --attestor="$attestor" --keyversion="$key_version"',
      '  echo "Attested \\`$image\\`" >> "$GITHUB_STEP_SUMMARY"',
      "done",
    ].join("\n"),
  };
}

/** Drift: a daily `pulumi preview --refresh --expect-no-changes` per stack; drift opens or updates an issue. */
export function driftWorkflow(input: InfraWorkflowInput): Workflow {
  const jobs: Record<string, Job> = {};
  for (const stack of input.stacks) {
    jobs[jobId("drift", stack.name)] = {
      name: `drift (${stack.name})`,
      "runs-on": "ubuntu-latest",
      permissions: { contents: "read", "id-token": "write", issues: "write" },
      // Not the deploy group: a queued job cancels the pending one of its group, which could be a prod deploy.
      concurrency: { group: `drift-${stack.name}`, "cancel-in-progress": false },
      "timeout-minutes": 30,
      steps: [
        checkout(),
        setupNode(),
        npmCi,
        gcpAuth(v("WIF_PREVIEW_PROVIDER", stack.name), v("PREVIEWER_SA", stack.name)),
        appToken(),
        pulumiStep(
          stack.name,
          "preview",
          "${{ steps.app-token.outputs.token }}",
          { refresh: true, "expect-no-changes": true },
          "preview",
          // Run the program during the refresh, so the GitHub provider takes this run's App token rather
          // than the one stored at the last deploy, which expired an hour after it.
          { PULUMI_RUN_PROGRAM: "true" },
        ),
        {
          name: "Open or update the drift issue",
          if: "failure() && steps.preview.outcome == 'failure'",
          env: {
            GH_TOKEN: "${{ github.token }}",
            STACK: stack.name,
            RUN_URL: "${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}",
          },
          run: [
            "set -euo pipefail",
            'title="Drift in stack ${STACK}"',
            'body="\\`pulumi preview --refresh --expect-no-changes -s ${STACK}\\` found changes: ${RUN_URL}"',
            'number="$(gh issue list --state open --label drift --search "\\"$title\\" in:title" --json number --jq \'.[0].number // empty\')"',
            'if [ -n "$number" ]; then gh issue comment "$number" --body "$body"; else gh issue create --title "$title" --label drift --body "$body"; fi',
          ].join("\n"),
        },
      ],
    };
  }
  return {
    name: "Drift",
    on: { schedule: [{ cron: "17 6 * * *" }], workflow_dispatch: null },
    permissions: { contents: "read" },
    jobs,
  };
}

/**
 * Shell lines picking the k6 target from the stack's `serviceEndpoints` output. Behind a global load
 * balancer run.app URLs refuse outside requests, so the test goes through the balancer, and reaches the
 * canary with the balancer's canary header; otherwise it uses the service or canary tag URL.
 */
export function perfTargetScript(target: "url" | "canaryUrl"): string[] {
  const pick = (filter: string) => `"$(echo "$ENDPOINTS" | jq -r --arg s "$SERVICE" '${filter}')"`;
  if (target === "url") return [`url=${pick(".[$s] | (.loadBalancer.url // .url // empty)")}`, 'header=""'];
  return [
    `url=${pick(".[$s] | select(.canaryUrl != null) | (.loadBalancer.url // .canaryUrl)")}`,
    `header=${pick('.[$s] | select(.canaryUrl != null and .loadBalancer != null) | "\\(.loadBalancer.canaryHeader.name): \\(.loadBalancer.canaryHeader.value)"')}`,
  ];
}
