/**
 * Writes this repository's generated GitHub files (.github/workflows/*.yml, .github/dependabot.yml)
 * from the builders in components/github/workflows. `npm run workflows` runs it; `--check` only
 * reports files that differ, and exits 1 if any does.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { infraRepositoryFiles } from "../components/github/workflows/files";
import type { InfraWorkflowInput, StackTarget } from "../components/github/workflows/infrastructure";
import { unverifiedPins } from "../components/github/workflows/pins";
import type { GeneratedFile } from "../components/github/workflows/types";
import { DEFAULT_BRANCH } from "../config/cicd";
import { ENVIRONMENTS } from "../model/types";
import { validateStackConfig } from "../config/validate";
import { listStacks, readStackConfig } from "../render/stackFile";

export const ROOT = path.resolve(__dirname, "..");

/** The workflows' input, from the stack files: stacks in deploy order, and the default branch. */
export function infraWorkflowInput(dir: string = ROOT): InfraWorkflowInput {
  const stacks = listStacks(dir).map((stack) => {
    const result = validateStackConfig(stack, readStackConfig(dir, stack).flat);
    if (!result.ok)
      throw new Error(`Pulumi.${stack}.yaml is not valid; run \`orchestra plan --stack ${stack}\`.`);
    return result.config;
  });
  const owner = stacks.find((s) => s.cicd?.ownsRepositorySettings);
  const targets: StackTarget[] = stacks
    .filter((s) => s.cicd)
    .sort(
      (a, b) =>
        ENVIRONMENTS.indexOf(a.environment) - ENVIRONMENTS.indexOf(b.environment) ||
        a.stack.localeCompare(b.stack),
    )
    .map((s) => ({
      name: s.stack,
      protected: s.environment === "prod",
      perfTarget: s.environment === "prod" ? "canaryUrl" : "url",
      attest: s.binaryAuthorization?.enabled ?? false,
    }));
  return { defaultBranch: owner?.cicd?.defaultBranch ?? DEFAULT_BRANCH, stacks: targets };
}

export function generatedFiles(dir: string = ROOT): GeneratedFile[] {
  return infraRepositoryFiles(infraWorkflowInput(dir));
}

/** Generated files whose committed content differs (or that are missing). */
export function staleFiles(dir: string = ROOT): string[] {
  return generatedFiles(dir)
    .filter((f) => {
      const file = path.join(dir, f.path);
      return !fs.existsSync(file) || fs.readFileSync(file, "utf8") !== f.content;
    })
    .map((f) => f.path);
}

if (require.main === module) {
  const unverified = unverifiedPins();
  if (unverified.length > 0)
    process.stderr.write(
      `warning: ${unverified.length} action pin(s) not yet checked against their release tag ` +
        `(components/github/workflows/pins.ts):\n${unverified.map((p) => `  ${p}\n`).join("")}`,
    );
  if (process.argv.includes("--check")) {
    const stale = staleFiles();
    for (const f of stale)
      process.stderr.write(`${f} differs from its builder; run \`npm run workflows\`.\n`);
    process.exit(stale.length ? 1 : 0);
  }
  for (const f of generatedFiles()) {
    fs.mkdirSync(path.dirname(path.join(ROOT, f.path)), { recursive: true });
    fs.writeFileSync(path.join(ROOT, f.path), f.content);
    process.stdout.write(`wrote ${f.path}\n`);
  }
}
