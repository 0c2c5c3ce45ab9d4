import * as pulumi from "@pulumi/pulumi";
import { GlobalLoadBalancer, type GlobalLoadBalancerArgs } from "../../components/loadbalancer";

/**
 * A program declaring only a GlobalLoadBalancer, from the args in config `lbtest:args`, for tests to
 * render with arguments the stack program never passes (several regions). It also reports which
 * resources each NEG was made to depend on.
 */
const args = new pulumi.Config("lbtest").requireObject<GlobalLoadBalancerArgs>("args");

export const dependsOn: Record<string, string[]> = {};
pulumi.runtime.registerStackTransformation((t) => {
  const deps = t.opts.dependsOn;
  if (t.type.endsWith("RegionNetworkEndpointGroup"))
    dependsOn[t.name] = (Array.isArray(deps) ? deps : deps ? [deps] : []).map((d) =>
      pulumi.resourceName(d as pulumi.Resource),
    );
  return undefined;
});

class Placeholder extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:index:CloudRunStandIn", name, {});
    this.registerOutputs({});
  }
}

const run = new Placeholder("run");
const lb = new GlobalLoadBalancer("edge", args, { dependsOn: [run] });
export const ipAddress = lb.ipAddress;
export const urls = lb.urls;
export const canaryHeader = lb.canaryHeader;
