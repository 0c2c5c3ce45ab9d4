import * as artifactregistry from "@pulumi/gcp/artifactregistry";
import * as cloudrunv2 from "@pulumi/gcp/cloudrunv2";
import * as organizations from "@pulumi/gcp/organizations";
import * as pulumi from "@pulumi/pulumi";
import { artifactRepository } from "../../model/imageRef";
import { INGRESS_VALUES, type Environment, type ServiceConfig } from "../../model/types";
import { RuntimeIdentity } from "../identity/runtimeIdentity";
import { invokerMembers, memberSlug } from "./invokers";
import { serviceLabels } from "./labels";
import { buildLocalImage } from "./localImage";
import { desiredState } from "../../model/release/desiredState";
import { serviceScaling } from "../../model/release/template";
import { serviceBinaryAuthorization } from "../../model/supplyChain";
import { primaryRegion, regionalResourceName } from "./regions";
import type { LiveTraffic } from "../../model/endpoints";
import type { TrafficTarget } from "../../model/release/traffic";

export interface CanaryServiceArgs {
  /** The service's validated settings; plain, because they decide names and the traffic list. */
  readonly service: ServiceConfig;
  /** GCP project to deploy into. */
  readonly project: string;
  /**
   * The stack's home region (`gcp:region`). The service runs in `service.regions`; its resources in the
   * home region keep their single-region names.
   */
  readonly region: string;
  /** Stack name: labels, and the tag of locally built dev images. */
  readonly stack: string;
  /** Environment the stack belongs to, for labels. */
  readonly environment: Environment;
  /**
   * Audiences besides the service's own URLs that Cloud Run accepts in ID tokens: the URL through the
   * balancer when Pub/Sub pushes there. Default: none.
   */
  readonly customAudiences?: readonly string[];
  /**
   * Require the project's Binary Authorization policy (with the service's break-glass justification, while
   * it has one). Default: false.
   */
  readonly binaryAuthorization?: boolean;
  /** Stack-wide labels; `managed-by`, `pulumi-stack`, `environment` and `service` are added. Default: none. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** One region's Cloud Run service and what it reports. */
export interface RegionalService {
  readonly service: cloudrunv2.Service;
  readonly url: pulumi.Output<string>;
  readonly stableUrl: pulumi.Output<string | undefined>;
  readonly canaryUrl: pulumi.Output<string | undefined>;
  /** Cloud Run's newest revision that became ready: equals the template revision once a deploy is healthy. */
  readonly latestReadyRevision: pulumi.Output<string>;
  readonly latestCreatedRevision: pulumi.Output<string>;
  /** The split Cloud Run reports serving (`trafficStatuses`), to compare regions with each other. */
  readonly traffic: pulumi.Output<LiveTraffic[]>;
}

/**
 * A Cloud Run v2 service in each of its regions, whose traffic is split between a stable and a canary
 * release as the stack config says. Every region gets the same template and traffic list, so the canary
 * moves in all regions at once. Owns the service's runtime identity (one for all regions), its invoker
 * bindings and image pull access.
 */
export class CanaryService extends pulumi.ComponentResource {
  /** The service's main URL in its primary region (serves the traffic split). */
  public readonly url: pulumi.Output<string>;
  /** URL that always reaches the stable revision (primary region). */
  public readonly stableUrl: pulumi.Output<string | undefined>;
  /** URL that always reaches the canary revision (primary region), when there is one. */
  public readonly canaryUrl: pulumi.Output<string | undefined>;
  /** The traffic list this program asks for, the same in every region. */
  public readonly split: pulumi.Output<readonly TrafficTarget[]>;
  /** The revision the service's template declares (the newest one). */
  public readonly templateRevision: pulumi.Output<string>;
  /** The region `url` is in: the home region when the service runs there. */
  public readonly primaryRegion: string;
  /** Per region, its Cloud Run service and what it reports. */
  public readonly regions: Readonly<Record<string, RegionalService>>;
  /** The primary region's Cloud Run service. */
  public readonly service: cloudrunv2.Service;
  public readonly identity: RuntimeIdentity;

  constructor(name: string, args: CanaryServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:cloudrun:CanaryService", name, {}, opts);
    const svc = args.service;
    const labels = serviceLabels(args.labels ?? {}, args.stack, args.environment, svc.name);

    this.identity = new RuntimeIdentity(
      `${name}-identity`,
      {
        service: svc.name,
        project: args.project,
        secrets: Object.values(svc.secretEnv).map((s) => s.secret),
      },
      { parent: this },
    );
    const pull = this.grantImagePull(name, svc.repository, args.project);

    const stableImage: pulumi.Input<string> = svc.stable.build
      ? buildLocalImage(name, svc.repository, args.stack, svc.stable.build, this)
      : (svc.stable.image as string);

    // Computed once: every region runs the same template under the same revision name.
    const desired = pulumi
      .output(stableImage)
      .apply((image) => desiredState(svc, image, this.identity.email));
    const plan = desired.apply((d) => d.plan);
    const template = desired.apply((d) => ({ ...d.template, revision: d.plan.templateRevision }));
    const traffics = plan.apply((p) =>
      p.traffic.map((t) => ({
        type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION",
        revision: t.revision,
        percent: t.percent,
        tag: t.tag,
      })),
    );

    // A service-level field, outside the template: turning it on changes no revision name.
    const binaryAuthorization = serviceBinaryAuthorization(
      args.binaryAuthorization ?? false,
      svc.breakglassJustification,
    );
    const regions: Record<string, RegionalService> = {};
    for (const region of svc.regions) {
      const base = regionalResourceName(name, region, args.region);
      const service = new cloudrunv2.Service(
        `${base}-service`,
        {
          name: svc.name,
          project: args.project,
          location: region,
          description: `${svc.name}: canary-managed by Pulumi (stack ${args.stack}).`,
          ingress: INGRESS_VALUES[svc.ingress],
          deletionProtection: svc.deletionProtection,
          labels,
          scaling: serviceScaling(svc),
          template,
          traffics,
          ...(args.customAudiences?.length ? { customAudiences: [...args.customAudiences] } : {}),
          ...(binaryAuthorization ? { binaryAuthorization } : {}),
        },
        { parent: this, dependsOn: [this.identity, ...pull] },
      );
      this.grantInvokers(base, svc, args.project, region, service);
      const tagUrl = (tag: string) =>
        service.trafficStatuses.apply((statuses) => statuses?.find((s) => s.tag === tag)?.uri || undefined);
      regions[region] = {
        service,
        url: service.uri,
        stableUrl: tagUrl("stable"),
        canaryUrl: svc.canary ? tagUrl("canary") : pulumi.output(undefined),
        latestReadyRevision: service.latestReadyRevision,
        latestCreatedRevision: service.latestCreatedRevision,
        traffic: service.trafficStatuses.apply((statuses) =>
          (statuses ?? []).map((s) => ({ revision: s.revision, percent: s.percent, tag: s.tag })),
        ),
      };
    }

    this.regions = regions;
    this.primaryRegion = primaryRegion(svc.regions, args.region);
    const primary = regions[this.primaryRegion];
    this.service = primary.service;
    this.url = primary.url;
    this.stableUrl = primary.stableUrl;
    this.canaryUrl = primary.canaryUrl;
    this.split = plan.apply((p) => p.traffic);
    this.templateRevision = plan.apply((p) => p.templateRevision);

    this.registerOutputs({
      url: this.url,
      stableUrl: this.stableUrl,
      canaryUrl: this.canaryUrl,
      split: this.split,
      templateRevision: this.templateRevision,
    });
  }

  /** Cloud Run pulls images as its service agent, which needs read access when the repository is in another project. */
  private grantImagePull(name: string, repository: string, project: string): pulumi.Resource[] {
    const ar = artifactRepository(repository);
    if (!ar) return [];
    const projectNumber = organizations.getProjectOutput({ projectId: project }, { parent: this }).number;
    return [
      new artifactregistry.RepositoryIamMember(
        `${name}-image-pull`,
        {
          project: ar.project,
          location: ar.location,
          repository: ar.repository,
          role: "roles/artifactregistry.reader",
          member: pulumi.interpolate`serviceAccount:service-${projectNumber}@serverless-robot-prod.iam.gserviceaccount.com`,
        },
        { parent: this },
      ),
    ];
  }

  private grantInvokers(
    name: string,
    svc: ServiceConfig,
    project: string,
    region: string,
    service: cloudrunv2.Service,
  ): void {
    for (const member of invokerMembers(svc)) {
      new cloudrunv2.ServiceIamMember(
        `${name}-invoker-${memberSlug(member)}`,
        { project, location: region, name: service.name, role: "roles/run.invoker", member },
        { parent: this },
      );
    }
  }
}
