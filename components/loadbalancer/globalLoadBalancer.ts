import * as compute from "@pulumi/gcp/compute";
import * as pulumi from "@pulumi/pulumi";
import { balancedUrl, type LoadBalancerConfig } from "../../model/loadBalancer";
import { labelValue } from "../cloudrun/labels";
import { armorRules } from "./armorRules";
import { balancerPlan, FORWARDING_RULES, type BalancerBackend } from "./plan";
import { CANARY_HEADER, urlMapRouting, type Release } from "./routing";

export interface GlobalLoadBalancerArgs {
  /** GCP project of the balancer and of the Cloud Run services behind it. */
  readonly project: string;
  /** Stack name, for labels and descriptions. */
  readonly stack: string;
  /** Stack-wide labels; `managed-by` and `pulumi-stack` are added. Default: none. */
  readonly labels?: Readonly<Record<string, string>>;
  /** The validated `ai-orchestra:loadBalancer`; plain, because it decides names and counts. */
  readonly config: LoadBalancerConfig;
  /** Where each service behind the balancer runs; plain, because regions decide the NEGs. */
  readonly backends: readonly BalancerBackend[];
}

/**
 * A global external Application Load Balancer in front of Cloud Run: serverless NEGs per service and
 * region, a backend service per service release behind one Cloud Armor policy, a Google-managed
 * certificate for every domain, and port 80 redirecting to HTTPS on the same address.
 */
export class GlobalLoadBalancer extends pulumi.ComponentResource {
  /** The address to point every domain's DNS A record at. */
  public readonly ipAddress: pulumi.Output<string>;
  /** Per service, `https://<first domain>`. */
  public readonly urls: Record<string, string>;
  /** The request header that reaches a service's canary through the balancer. */
  public readonly canaryHeader: string;

  constructor(name: string, args: GlobalLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:loadbalancer:GlobalLoadBalancer", name, {}, opts);
    const { project, config } = args;
    const plan = balancerPlan(name, config, args.backends);
    const labels = { ...(args.labels ?? {}), "managed-by": "pulumi", "pulumi-stack": labelValue(args.stack) };
    const child = { parent: this };

    const policy = new compute.SecurityPolicy(
      `${name}-armor`,
      {
        project,
        type: "CLOUD_ARMOR",
        description: `Cloud Armor of the ${args.stack} load balancer: OWASP rules and a per-client rate limit.`,
        rules: armorRules(config.armor),
        labels,
      },
      child,
    );

    const backendIds = new Map<string, pulumi.Output<string>>();
    for (const backend of plan.backends) {
      // Serverless NEGs take no health checks, balancing mode or timeout: Cloud Run scales and times out.
      // They need the Cloud Run services (and the canary tag) to exist, hence the caller's dependsOn.
      const negs = backend.negs.map(
        (neg) =>
          new compute.RegionNetworkEndpointGroup(
            neg.name,
            {
              project,
              region: neg.region,
              networkEndpointType: "SERVERLESS",
              cloudRun: { service: neg.service, ...(neg.tag ? { tag: neg.tag } : {}) },
              description: `Cloud Run ${neg.service}${neg.tag ? ` (tag ${neg.tag})` : ""} in ${neg.region}.`,
            },
            { ...child, ...(opts?.dependsOn ? { dependsOn: opts.dependsOn } : {}) },
          ),
      );
      const service = new compute.BackendService(
        backend.name,
        {
          project,
          description: `${backend.service} (${backend.release}) behind the ${args.stack} load balancer.`,
          loadBalancingScheme: "EXTERNAL_MANAGED",
          protocol: "HTTPS",
          backends: negs.map((neg) => ({ group: neg.id })),
          securityPolicy: policy.id,
          logConfig: { enable: true, sampleRate: 1 },
        },
        child,
      );
      backendIds.set(key(backend.service, backend.release), service.id);
    }

    // Autonamed, so a change of domains (which replaces the certificate) creates the new one under
    // a new name before the old is deleted: the proxy is switched to it in between. A fixed name
    // would need delete-before-replace, which fails while the proxy still uses the certificate.
    const certificate = new compute.ManagedSslCertificate(
      `${name}-certificate`,
      { project, type: "MANAGED", managed: { domains: [...plan.domains] } },
      child,
    );

    const routing = urlMapRouting(plan.services, (service, release) => {
      const id = backendIds.get(key(service, release));
      if (!id) throw new Error(`no backend for ${service} (${release})`);
      return id;
    });
    const urlMap = new compute.URLMap(
      `${name}-url-map`,
      {
        project,
        description: `Routes each host to its service; unknown hosts go to ${plan.services[0].name}.`,
        ...routing,
      },
      child,
    );
    const httpsProxy = new compute.TargetHttpsProxy(
      `${name}-https-proxy`,
      { project, urlMap: urlMap.id, sslCertificates: [certificate.id] },
      child,
    );

    const redirectMap = new compute.URLMap(
      `${name}-redirect-map`,
      {
        project,
        description: "Redirects every HTTP request to HTTPS.",
        defaultUrlRedirect: {
          httpsRedirect: true,
          redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT",
          stripQuery: false,
        },
      },
      child,
    );
    const httpProxy = new compute.TargetHttpProxy(
      `${name}-http-proxy`,
      { project, urlMap: redirectMap.id },
      child,
    );

    // One address for both ports. Nothing in it changes, so it is never replaced: DNS keeps pointing here.
    const address = new compute.GlobalAddress(
      `${name}-address`,
      { project, addressType: "EXTERNAL", ipVersion: "IPV4", labels },
      child,
    );
    const forward = (role: string, port: string, target: pulumi.Input<string>) =>
      new compute.GlobalForwardingRule(
        `${name}-${role}-rule`,
        {
          project,
          loadBalancingScheme: "EXTERNAL_MANAGED",
          ipProtocol: "TCP",
          portRange: port,
          ipAddress: address.id,
          target,
          labels,
        },
        child,
      );
    forward("https", FORWARDING_RULES.https, httpsProxy.id);
    forward("http", FORWARDING_RULES.http, httpProxy.id);

    this.ipAddress = address.address;
    this.urls = Object.fromEntries(plan.services.map((s) => [s.name, balancedUrl(s)]));
    this.canaryHeader = `${CANARY_HEADER.name}: ${CANARY_HEADER.value}`;
    this.registerOutputs({ ipAddress: this.ipAddress, urls: this.urls, canaryHeader: this.canaryHeader });
  }
}

const key = (service: string, release: Release) => `${service}/${release}`;
