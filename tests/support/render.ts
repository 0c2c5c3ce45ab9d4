import * as path from "node:path";
import { gcpConfigKeys } from "../../config/gcpKeys";
import { validateStackConfig } from "../../config/validate";
import { renderStack, type RenderedResource, type RenderedStack } from "../../render/renderStack";

export const ROOT = path.resolve(__dirname, "..", "..");

/** Renders a stack of this repository under Pulumi's mocks (the same path `orchestra plan` takes). */
export function renderRepoStack(stack: string): Promise<RenderedStack> {
  return renderStack({ dir: ROOT, stack });
}

/** Renders the program with an explicit config map, as `pulumi.runtime.allConfig()` would hold it. */
export function renderWithConfig(
  stack: string,
  flat: Record<string, string>,
  secretKeys: readonly string[] = [],
): Promise<RenderedStack> {
  return renderStack({ dir: ROOT, stack, config: { flat, secretKeys } });
}

export function validate(stack: string, flat: Record<string, string>) {
  return validateStackConfig(stack, flat, { gcpKeys: gcpConfigKeys });
}

export function ofType(stack: RenderedStack, type: string): RenderedResource[] {
  return stack.resources.filter((r) => r.type === type);
}

export function byName(stack: RenderedStack, name: string): RenderedResource {
  const found = stack.resources.find((r) => r.name === name);
  if (!found)
    throw new Error(`no resource named ${name}; have ${stack.resources.map((r) => r.name).join(", ")}`);
  return found;
}

/** A minimal valid config for one service, to vary in tests. */
export function baseConfig(
  service: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Record<string, string> {
  const repo = "europe-west1-docker.pkg.dev/proj-test/orchestra/api";
  return {
    "gcp:project": "proj-test",
    "gcp:region": "europe-west1",
    "ai-orchestra:environment": "prod",
    "ai-orchestra:labels": JSON.stringify({ team: "orchestra" }),
    "ai-orchestra:services": JSON.stringify({
      api: { repository: repo, stable: { image: `${repo}@${digest("stable")}` }, ...service },
    }),
    ...Object.fromEntries(
      Object.entries(extra).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    ),
  };
}

export const REPO = "europe-west1-docker.pkg.dev/proj-test/orchestra/api";

/** A well-formed sha256 digest derived from a seed. */
export function digest(seed: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return `sha256:${require("node:crypto").createHash("sha256").update(seed).digest("hex")}`;
}
