import * as docker from "@pulumi/docker";
import * as organizations from "@pulumi/gcp/organizations";
import * as pulumi from "@pulumi/pulumi";
import type { BuildSpec } from "../../model/types";

/**
 * Builds a dev image from a local context and pushes it to the service's repository, reusing the last
 * push as build cache. Returns the pushed image by digest, so the revision template stays pinned.
 */
export function buildLocalImage(
  name: string,
  repository: string,
  tag: string,
  build: BuildSpec,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  const imageName = `${repository}:${tag}`;
  const token = organizations.getClientConfigOutput({ parent }).accessToken;
  const image = new docker.Image(
    `${name}-image`,
    {
      imageName,
      build: {
        context: build.context,
        dockerfile: build.dockerfile,
        target: build.target,
        platform: "linux/amd64",
        cacheFrom: { images: [imageName] },
      },
      registry: {
        server: repository.split("/")[0],
        username: "oauth2accesstoken",
        password: pulumi.secret(token),
      },
    },
    { parent },
  );
  return image.repoDigest;
}
