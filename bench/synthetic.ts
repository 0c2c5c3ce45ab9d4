import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { PROGRAM_ENTRIES } from "../render/programFiles";

/** Name of the synthetic stack written by `makeSyntheticProject`. */
export const SYNTHETIC_STACK = "bench";

/**
 * The prod stack's config with `count` stable-only services cloned from its `api` service (named
 * `api`, `svc-002`, ...), so that plan time can be measured against the number of services. The
 * CI/CD and monitoring settings stay as in prod, minus what names prod's own services.
 */
export function syntheticStackText(root: string, count: number): string {
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`service count must be a positive integer: ${count}`);
  const prod = parse(fs.readFileSync(path.join(root, "Pulumi.prod.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  const config = prod.config;
  const services = config["ai-orchestra:services"] as Record<string, Record<string, unknown>>;
  const template = services.api;
  const stable = template.stable as { image: string };
  const repoOf = (name: string) => (template.repository as string).replace(/\/api$/, `/${name}`);
  const digest = stable.image.slice(stable.image.indexOf("@"));
  const generated: Record<string, unknown> = {};
  for (let i = 1; i <= count; i++) {
    const name = i === 1 ? "api" : `svc-${String(i).padStart(3, "0")}`;
    const rest = { ...template };
    delete rest.canary;
    generated[name] = { ...rest, repository: repoOf(name), stable: { image: `${repoOf(name)}${digest}` } };
  }
  const cicd = { ...(config["ai-orchestra:cicd"] as Record<string, unknown>) };
  delete cicd.applications;
  const monitoring = { ...(config["ai-orchestra:monitoring"] as Record<string, unknown>) };
  delete monitoring.services;
  delete monitoring.logMetrics;
  return stringify({
    config: {
      ...config,
      "ai-orchestra:cicd": cicd,
      "ai-orchestra:monitoring": monitoring,
      "ai-orchestra:services": generated,
    },
  });
}

/** A temporary project: Pulumi.yaml, `Pulumi.bench.yaml` with `count` services, the program symlinked. */
export function makeSyntheticProject(root: string, count: number): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `orchestra-bench-${count}-`));
  fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.writeFileSync(path.join(dir, `Pulumi.${SYNTHETIC_STACK}.yaml`), syntheticStackText(root, count));
  for (const entry of PROGRAM_ENTRIES) {
    const target = path.join(root, entry);
    fs.symlinkSync(target, path.join(dir, entry), fs.statSync(target).isDirectory() ? "dir" : "file");
  }
  return {
    dir,
    cleanup: () => {
      // Unlink the symlinks first, so that nothing can follow them into the repository.
      for (const entry of fs.readdirSync(dir)) {
        const p = path.join(dir, entry);
        if (fs.lstatSync(p).isSymbolicLink()) fs.unlinkSync(p);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
