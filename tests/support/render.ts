import * as path from "node:path";
import { gcpConfigKeys } from "../../config/gcpKeys";
import { validateStackConfig } from "../../config/validate";
import { renderStack, type RenderedResource, type RenderedStack } from "../../render/renderStack";
import { readStackConfig } from "../../render/stackFile";
import { applyToObject, type Edit } from "../../model/canary/edits";
import { setCanaryPercent, startCanary } from "../../model/canary/lifecycle";

export const ROOT = path.resolve(__dirname, "..", "..");

/**
 * Renders of this repository's program, by stack and config. A render is a pure function of the two,
 * so test files that render the same stack (the stack files themselves, most often) share one render
 * per process. Renders are deep-frozen: a test that tried to change one would fail, not leak into
 * another test.
 */
const renders = new Map<string, Promise<RenderedStack>>();

/** Renders a stack of this repository under Pulumi's mocks (the same path `orchestra plan` takes). */
export function renderRepoStack(stack: string): Promise<RenderedStack> {
  const file = readStackConfig(ROOT, stack);
  return renderWithConfig(stack, file.flat, file.secretKeys);
}

/** Renders the program with an explicit config map, as `pulumi.runtime.allConfig()` would hold it. */
export function renderWithConfig(
  stack: string,
  flat: Record<string, string>,
  secretKeys: readonly string[] = [],
): Promise<RenderedStack> {
  const key = JSON.stringify([stack, Object.entries(flat).sort(), [...secretKeys].sort()]);
  let render = renders.get(key);
  if (!render) {
    render = oneAtATime(async () =>
      deepFreeze(await renderStack({ dir: ROOT, stack, config: { flat, secretKeys } })),
    );
    renders.set(key, render);
    // A failed render is not kept: the next test to ask gets its own error.
    render.catch(() => renders.delete(key));
  }
  return render;
}

let lastRender: Promise<unknown> = Promise.resolve();

/** Runs `render` after every render started before it: the Pulumi runtime is global. */
export function oneAtATime<T>(render: () => Promise<T>): Promise<T> {
  const next = lastRender.catch(() => undefined).then(render);
  lastRender = next;
  return next;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
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

/**
 * `flat` with a canary of `image` on `service` at `percent`, as `orchestra canary start` and then
 * `canary set` (the revision reported ready everywhere) would write it: real pins, real names.
 */
export function withServingCanary(
  flat: Record<string, string>,
  image: string,
  percent: number,
  service = "api",
): Record<string, string> {
  const stack = flat["ai-orchestra:environment"] ?? "prod";
  const ok = (f: Record<string, string>) => {
    const result = validate(stack, f);
    if (!result.ok) throw new Error(`fixture does not validate: ${JSON.stringify(result.issues)}`);
    return result.config;
  };
  const edit = (f: Record<string, string>, edits: readonly Edit[]) => {
    const file = applyToObject(
      { config: { "ai-orchestra:services": JSON.parse(f["ai-orchestra:services"]) } },
      edits,
    );
    return { ...f, "ai-orchestra:services": JSON.stringify(file.config["ai-orchestra:services"]) };
  };
  const staged = edit(flat, startCanary(ok(flat), service, image, { percent, attempt: "0zmkgc" }));
  const config = ok(staged);
  const svc = config.services.find((s) => s.name === service);
  if (!svc?.canary) throw new Error(`no canary on ${service} after start`);
  return edit(
    staged,
    setCanaryPercent(config, service, percent, { revision: svc.canary.revision, readyIn: svc.regions }),
  );
}
