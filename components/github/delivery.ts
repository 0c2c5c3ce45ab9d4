import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import type { CicdConfig, ServiceConfig } from "../../model/types";
import { applicationRepositoryFiles } from "./workflows/files";
import { variableSuffix, type StackVariable } from "./workflows/infrastructure";
import {
  APPLICATION_REQUIRED_CHECKS,
  INFRA_REQUIRED_CHECKS,
  defaultBranchRuleset,
  environmentSettings,
  registryHost,
} from "./settings";

export interface GithubDeliveryArgs {
  /** Stack name: the GitHub environment's name and the suffix of the stack's variables. */
  readonly stack: string;
  readonly project: string;
  readonly region: string;
  /** The stack's validated CI/CD settings; plain, because they decide which objects exist. */
  readonly cicd: CicdConfig;
  /** True in prod: the environment needs reviewers and deploys from protected branches only. Default: false. */
  readonly protectedDeploy?: boolean;
  /** The services of the stack, for the image repository of each application. */
  readonly services: readonly ServiceConfig[];
  /** Workload Identity providers and service accounts the workflows authenticate with. */
  readonly deployProvider: pulumi.Input<string>;
  readonly previewProvider: pulumi.Input<string>;
  readonly deployerEmail: pulumi.Input<string>;
  readonly previewerEmail: pulumi.Input<string>;
  /** Required with application repositories. */
  readonly pusherEmail?: pulumi.Input<string>;
  /** `REGION-docker.pkg.dev/PROJECT/REPOSITORY` of the stack's registry. */
  readonly registryUrl: pulumi.Input<string>;
  /** Service name to URL. */
  readonly serviceUrls: pulumi.Input<Record<string, string>>;
  /** Values of `ai-orchestra:githubSecrets`, secret. Default: none. */
  readonly secrets?: pulumi.Output<Record<string, string>>;
  /** The delivery App's private key, secret; written only by the owning stack. Default: not managed. */
  readonly deliveryAppPrivateKey?: pulumi.Output<string>;
}

/**
 * Everything this stack declares on GitHub. Every stack owns its environment on the infrastructure
 * repository, its environment secrets and its suffixed repository variables (`WIF_PROVIDER_PROD`);
 * only the stack with `ownsRepositorySettings` declares repository-wide objects (rulesets, shared
 * variables and secrets, the application repositories' workflows and settings), so that two stacks
 * never write the same GitHub object.
 */
export class GithubDelivery extends pulumi.ComponentResource {
  /** The stack's environment name on the infrastructure repository. */
  public readonly environment: pulumi.Output<string>;

  constructor(name: string, args: GithubDeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:github:Delivery", name, {}, opts);
    const { cicd } = args;
    const provider = new github.Provider(`${name}-provider`, { owner: cicd.owner }, { parent: this });
    const child = { parent: this, provider };
    // Changing a secret's value must not create the new one and then delete it (same name): delete first.
    const secretOpts = { ...child, deleteBeforeReplace: true };
    const infra = cicd.infraRepository.name;

    const environment = new github.RepositoryEnvironment(
      `${name}-environment`,
      { repository: infra, ...environmentSettings(args.stack, cicd, args.protectedDeploy ?? false) },
      child,
    );
    this.environment = environment.environment;

    if (args.secrets) {
      for (const secretName of cicd.secretNames) {
        new github.ActionsEnvironmentSecret(
          `${name}-env-secret-${secretName.toLowerCase()}`,
          {
            repository: infra,
            environment: environment.environment,
            secretName,
            value: args.secrets.apply((s) => s[secretName]),
          },
          secretOpts,
        );
      }
    }

    const suffix = variableSuffix(args.stack);
    const perf = cicd.perf;
    const stackVariables: Partial<Record<StackVariable, pulumi.Input<string>>> = {
      GCP_PROJECT: args.project,
      GCP_REGION: args.region,
      REGISTRY: args.registryUrl,
      SERVICE_URLS: pulumi.output(args.serviceUrls).apply((u) => JSON.stringify(u)),
      WIF_PROVIDER: args.deployProvider,
      WIF_PREVIEW_PROVIDER: args.previewProvider,
      DEPLOYER_SA: args.deployerEmail,
      PREVIEWER_SA: args.previewerEmail,
      ...(perf
        ? {
            PERF_SERVICE: perf.service,
            PERF_PATH: perf.path,
            PERF_P95_MS: String(perf.p95Ms),
            PERF_ERROR_RATE: String(perf.errorRate),
            PERF_VUS: String(perf.vus),
            PERF_DURATION: perf.duration,
          }
        : {}),
    };
    for (const [variable, value] of Object.entries(stackVariables)) {
      new github.ActionsVariable(
        `${name}-var-${variable.toLowerCase()}`,
        { repository: infra, variableName: `${variable}_${suffix}`, value },
        child,
      );
    }

    if (cicd.ownsRepositorySettings) this.declareRepositoryWide(name, args, child, secretOpts);
    this.registerOutputs({ environment: this.environment });
  }

  /** Objects one stack must own: rulesets, shared variables and secrets, application repositories. */
  private declareRepositoryWide(
    name: string,
    args: GithubDeliveryArgs,
    child: pulumi.CustomResourceOptions,
    secretOpts: pulumi.CustomResourceOptions,
  ): void {
    const { cicd } = args;
    const infra = cicd.infraRepository.name;
    const securityFeatures = (key: string, repository: string) => {
      const alerts = new github.RepositoryVulnerabilityAlerts(
        `${name}-${key}-vulnerability-alerts`,
        { repository, enabled: true },
        child,
      );
      new github.RepositoryDependabotSecurityUpdates(
        `${name}-${key}-dependabot-security-updates`,
        { repository, enabled: true },
        { ...child, dependsOn: [alerts] },
      );
    };

    new github.RepositoryRuleset(
      `${name}-infra-ruleset`,
      { repository: infra, ...defaultBranchRuleset(INFRA_REQUIRED_CHECKS) },
      child,
    );
    securityFeatures("infra", infra);
    new github.IssueLabel(
      `${name}-drift-label`,
      {
        repository: infra,
        name: "drift",
        color: "d93f0b",
        description: "The cloud differs from the code (scheduled drift check)",
      },
      child,
    );
    const shared: Record<string, pulumi.Input<string>> = {
      DELIVERY_APP_ID: String(cicd.appId),
      ...(cicd.stateBucket ? { PULUMI_BACKEND_URL: `gs://${cicd.stateBucket}` } : {}),
    };
    for (const [variableName, value] of Object.entries(shared)) {
      new github.ActionsVariable(
        `${name}-var-${variableName.toLowerCase()}`,
        { repository: infra, variableName, value },
        child,
      );
    }
    const appKey = args.deliveryAppPrivateKey;
    if (appKey) {
      new github.ActionsSecret(
        `${name}-infra-app-key`,
        { repository: infra, secretName: "DELIVERY_APP_PRIVATE_KEY", value: appKey },
        secretOpts,
      );
    }

    for (const [service, repo] of Object.entries(cicd.applications)) {
      const svc = args.services.find((s) => s.name === service);
      if (!svc) continue;
      const key = `app-${service}`;
      const variables: Record<string, pulumi.Input<string>> = {
        WIF_PROVIDER: args.deployProvider,
        PUSHER_SA: args.pusherEmail ?? "",
        IMAGE_REPOSITORY: svc.repository,
        REGISTRY_HOST: registryHost(svc.repository),
        DELIVERY_APP_ID: String(cicd.appId),
      };
      for (const [variableName, value] of Object.entries(variables)) {
        new github.ActionsVariable(
          `${name}-${key}-var-${variableName.toLowerCase()}`,
          { repository: repo.name, variableName, value },
          child,
        );
      }
      if (appKey) {
        new github.ActionsSecret(
          `${name}-${key}-app-key`,
          { repository: repo.name, secretName: "DELIVERY_APP_PRIVATE_KEY", value: appKey },
          secretOpts,
        );
      }
      securityFeatures(key, repo.name);
      const files = applicationRepositoryFiles({
        service,
        defaultBranch: cicd.defaultBranch,
        infraRepository: infra,
        infraDefaultBranch: cicd.defaultBranch,
        releaseStack: args.stack,
      }).map(
        (file) =>
          new github.RepositoryFile(
            `${name}-${key}-file-${file.path
              .split("/")
              .pop()
              ?.replace(/\.ya?ml$/, "")}`,
            {
              repository: repo.name,
              branch: cicd.defaultBranch,
              file: file.path,
              content: file.content,
              commitMessage: `Update ${file.path} (generated by the infrastructure repository)`,
              overwriteOnCreate: true,
            },
            child,
          ),
      );
      // Files first: once the ruleset exists, only the delivery App (a bypass actor) may commit them.
      new github.RepositoryRuleset(
        `${name}-${key}-ruleset`,
        { repository: repo.name, ...defaultBranchRuleset(APPLICATION_REQUIRED_CHECKS, cicd.appId) },
        { ...child, dependsOn: files },
      );
    }
  }
}
