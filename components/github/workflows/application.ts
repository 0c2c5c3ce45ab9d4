import { action } from "./pins";
import { appToken, checkout, gcpAuth, npmCi, setupNode } from "./steps";
import type { Job, Step, Workflow } from "./types";

/** What an application repository's workflows need to know; the rest comes from repository variables. */
export interface ApplicationWorkflowInput {
  /** The Cloud Run service this repository builds. */
  readonly service: string;
  /** The application repository's default branch. */
  readonly defaultBranch: string;
  /** The infrastructure repository's name and default branch: release pull requests are opened there. */
  readonly infraRepository: string;
  readonly infraDefaultBranch: string;
  /** The stack a release starts its canary in. */
  readonly releaseStack: string;
}

/**
 * Repository variables the application workflows read; the owning stack writes them:
 * WIF_PROVIDER, PUSHER_SA, IMAGE_REPOSITORY (`REGION-docker.pkg.dev/P/R/IMAGE`), REGISTRY_HOST,
 * DELIVERY_APP_ID; and the secret DELIVERY_APP_PRIVATE_KEY.
 */
export const APPLICATION_VARIABLES = [
  "WIF_PROVIDER",
  "PUSHER_SA",
  "IMAGE_REPOSITORY",
  "REGISTRY_HOST",
  "DELIVERY_APP_ID",
] as const;

const npmJob = (name: string, script: string): Job => ({
  name,
  "runs-on": "ubuntu-latest",
  permissions: { contents: "read" },
  "timeout-minutes": 15,
  steps: [checkout(), setupNode(), npmCi, { name: `npm run ${script}`, run: `npm run ${script}` }],
});

const buildxCache = { "cache-from": "type=gha", "cache-to": "type=gha,mode=max" } as const;

/**
 * CI: lint and test in parallel; a multi-stage Docker build with the Actions cache on every change;
 * on the default branch, a push through Workload Identity and a release by digest.
 */
export function applicationCiWorkflow(input: ApplicationWorkflowInput): Workflow {
  const onDefault = `github.event_name == 'push' && github.ref == 'refs/heads/${input.defaultBranch}'`;
  return {
    name: "CI",
    on: {
      push: { branches: [input.defaultBranch] },
      pull_request: { branches: [input.defaultBranch] },
    },
    permissions: { contents: "read" },
    concurrency: {
      group: "ci-${{ github.ref }}",
      "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
    },
    jobs: {
      lint: npmJob("lint", "lint"),
      test: npmJob("test", "test"),
      build: {
        name: "build",
        "runs-on": "ubuntu-latest",
        permissions: { contents: "read" },
        "timeout-minutes": 30,
        steps: [
          checkout(),
          { name: "Set up Docker Buildx", uses: action("setupBuildx") },
          {
            name: "Build the image (all stages, cached)",
            uses: action("buildPush"),
            with: { context: ".", push: false, ...buildxCache },
          },
        ],
      },
      publish: {
        name: "publish",
        needs: ["lint", "test", "build"],
        if: onDefault,
        "runs-on": "ubuntu-latest",
        // attestations: write stores the provenance on GitHub; id-token: write also signs it (Sigstore).
        permissions: { contents: "read", "id-token": "write", attestations: "write" },
        concurrency: { group: `publish-${input.service}`, "cancel-in-progress": false },
        "timeout-minutes": 30,
        outputs: {
          image: "${{ vars.IMAGE_REPOSITORY }}@${{ steps.push.outputs.digest }}",
          attestation: "${{ steps.attest.outputs.attestation-url }}",
        },
        steps: [
          checkout(),
          gcpAuth("${{ vars.WIF_PROVIDER }}", "${{ vars.PUSHER_SA }}", true),
          {
            name: "Log in to Artifact Registry",
            uses: action("dockerLogin"),
            with: {
              registry: "${{ vars.REGISTRY_HOST }}",
              username: "oauth2accesstoken",
              password: "${{ steps.auth.outputs.access_token }}",
            },
          },
          { name: "Set up Docker Buildx", uses: action("setupBuildx") },
          {
            name: "Build and push the image",
            id: "push",
            uses: action("buildPush"),
            with: {
              context: ".",
              push: true,
              // Tagged with the commit so the registry's cleanup policy never deletes a released digest.
              tags: "${{ vars.IMAGE_REPOSITORY }}:${{ github.sha }}",
              ...buildxCache,
            },
          },
          {
            // SLSA build provenance of the pushed digest (for a multi-platform image, its index), signed
            // keylessly, stored on GitHub and beside the image in the registry.
            name: "Attest build provenance",
            id: "attest",
            uses: action("attestProvenance"),
            with: {
              "subject-name": "${{ vars.IMAGE_REPOSITORY }}",
              "subject-digest": "${{ steps.push.outputs.digest }}",
              "push-to-registry": true,
            },
          },
          {
            name: "Summary",
            env: {
              IMAGE: "${{ vars.IMAGE_REPOSITORY }}@${{ steps.push.outputs.digest }}",
              ATTESTATION: "${{ steps.attest.outputs.attestation-url }}",
            },
            run: 'echo "Pushed \\`$IMAGE\\`, provenance: $ATTESTATION" >> "$GITHUB_STEP_SUMMARY"',
          },
        ],
      },
      release: releaseJob(
        input,
        "${{ needs.publish.outputs.image }}",
        ["publish"],
        "${{ needs.publish.outputs.attestation }}",
      ),
    },
  };
}

/** Release by hand: start a canary of an image already pushed (by digest). */
export function applicationReleaseWorkflow(input: ApplicationWorkflowInput): Workflow {
  return {
    name: "Release",
    on: {
      workflow_dispatch: {
        inputs: {
          image: {
            description: "Image by digest: IMAGE_REPOSITORY@sha256:DIGEST",
            required: true,
            type: "string",
          },
        },
      },
    },
    permissions: { contents: "read" },
    jobs: { release: releaseJob(input, "${{ inputs.image }}") },
  };
}

/**
 * GitOps release: a pull request on the infrastructure repository that starts a canary of the new
 * digest. It authenticates as the GitHub App with a token limited to that repository, contents and
 * pull requests; reviewing and merging the pull request is the deployment.
 */
function releaseJob(
  input: ApplicationWorkflowInput,
  image: string,
  needs?: readonly string[],
  attestation?: string,
): Job {
  const env = { IMAGE: image, SERVICE: input.service, STACK: input.releaseStack };
  const steps: Step[] = [
    appToken(input.infraRepository, { contents: "write", "pull-requests": "write" }),
    {
      name: "Check out the infrastructure repository",
      uses: action("checkout"),
      with: {
        repository: `\${{ github.repository_owner }}/${input.infraRepository}`,
        ref: input.infraDefaultBranch,
        token: "${{ steps.app-token.outputs.token }}",
      },
    },
    setupNode(),
    npmCi,
    {
      name: "Start the canary in the stack file",
      env,
      run: 'npx orchestra canary start "$SERVICE" --image "$IMAGE" --stack "$STACK"',
    },
    {
      name: "Open the release pull request",
      env: {
        ...env,
        GH_TOKEN: "${{ steps.app-token.outputs.token }}",
        APP_SLUG: "${{ steps.app-token.outputs.app-slug }}",
        SOURCE: "${{ github.server_url }}/${{ github.repository }}/commit/${{ github.sha }}",
        OWNER: "${{ github.repository_owner }}",
        // Published by CI: the attestation's page; released by hand: how to check it.
        ATTESTATION: attestation ?? "",
      },
      run: [
        "set -euo pipefail",
        'digest="${IMAGE##*@sha256:}"',
        'branch="release/${SERVICE}-${digest:0:12}"',
        'git config user.name "${APP_SLUG}[bot]"',
        'git config user.email "${APP_SLUG}[bot]@users.noreply.github.com"',
        'git switch -c "$branch"',
        'git commit -am "${SERVICE}: canary of ${IMAGE##*/}"',
        'git push --force-with-lease origin "$branch"',
        'provenance="${ATTESTATION:-run \\`gh attestation verify oci://${IMAGE} --owner ${OWNER}\\`}"',
        "gh pr create --base " +
          input.infraDefaultBranch +
          ' --head "$branch" --title "${SERVICE}: start a canary in ${STACK}"' +
          ' --body "Starts a canary of \\`${IMAGE}\\` (built from ${SOURCE}). Build provenance: ${provenance}. Merging deploys it."',
      ].join("\n"),
    },
  ];
  return {
    name: "release",
    ...(needs ? { needs } : {}),
    "runs-on": "ubuntu-latest",
    permissions: {},
    concurrency: { group: `release-${input.service}`, "cancel-in-progress": false },
    "timeout-minutes": 15,
    steps,
  };
}
