import * as artifactregistry from "@pulumi/gcp/artifactregistry";
import * as pulumi from "@pulumi/pulumi";
import { cleanupPolicies, type CleanupSettings } from "./cleanup";

export interface ImageRegistryArgs {
  readonly project: string;
  /** Region of the repository; Cloud Run pulls from the same region. */
  readonly region: string;
  /** Repository id, e.g. `orchestra`. */
  readonly repository: string;
  readonly cleanup: CleanupSettings;
  /** Tags cannot be moved once pushed; dev's local builds re-push a moving tag. Default: true. */
  readonly immutableTags?: boolean;
  /** Labels on the repository. Default: none. */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * The Docker repository images are pushed to, with cleanup policies so it does not grow forever, and
 * vulnerability scanning of every pushed image.
 */
export class ImageRegistry extends pulumi.ComponentResource {
  /** `REGION-docker.pkg.dev/PROJECT/REPOSITORY`, the prefix of every image in it. */
  public readonly url: string;
  public readonly repository: artifactregistry.Repository;

  constructor(name: string, args: ImageRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:registry:ImageRegistry", name, {}, opts);
    this.url = `${args.region}-docker.pkg.dev/${args.project}/${args.repository}`;
    this.repository = new artifactregistry.Repository(
      `${name}-repository`,
      {
        project: args.project,
        location: args.region,
        repositoryId: args.repository,
        format: "DOCKER",
        description: "Container images of AI Orchestra's services. Managed by Pulumi.",
        dockerConfig: { immutableTags: args.immutableTags ?? true },
        cleanupPolicies: cleanupPolicies(args.cleanup),
        cleanupPolicyDryRun: false,
        // Scans every pushed image while the project has the Container Scanning API enabled; the
        // vulnerability gate reads the findings.
        vulnerabilityScanningConfig: { enablementConfig: "INHERITED" },
        labels: { ...(args.labels ?? {}) },
      },
      { parent: this },
    );
    this.registerOutputs({ url: this.url, repository: this.repository });
  }
}
