import {
  applicationCiWorkflow,
  applicationReleaseWorkflow,
  type ApplicationWorkflowInput,
} from "./application";
import {
  deployWorkflow,
  driftWorkflow,
  pullRequestWorkflow,
  type InfraWorkflowInput,
} from "./infrastructure";
import { renderYaml } from "./render";
import type { GeneratedFile, Workflow } from "./types";

export type Ecosystem = "npm" | "github-actions" | "docker";

/** Dependabot version updates, weekly, minor and patch updates grouped into one pull request. */
export function dependabotConfig(ecosystems: readonly Ecosystem[]): object {
  return {
    version: 2,
    updates: ecosystems.map((ecosystem) => ({
      "package-ecosystem": ecosystem,
      directory: "/",
      schedule: { interval: "weekly" },
      groups: { [`${ecosystem}-minor-and-patch`]: { "update-types": ["minor", "patch"] } },
      "open-pull-requests-limit": 10,
    })),
  };
}

/** This repository's workflows, by path. */
export function infraWorkflows(input: InfraWorkflowInput): Record<string, Workflow> {
  return {
    ".github/workflows/pull-request.yml": pullRequestWorkflow(input),
    ".github/workflows/deploy.yml": deployWorkflow(input),
    ".github/workflows/drift.yml": driftWorkflow(input),
  };
}

/** An application repository's workflows, by path. */
export function applicationWorkflows(input: ApplicationWorkflowInput): Record<string, Workflow> {
  return {
    ".github/workflows/ci.yml": applicationCiWorkflow(input),
    ".github/workflows/release.yml": applicationReleaseWorkflow(input),
  };
}

/** Every file generated for this repository: committed, and checked by a test against the builders. */
export function infraRepositoryFiles(input: InfraWorkflowInput): GeneratedFile[] {
  return [
    ...Object.entries(infraWorkflows(input)).map(([path, w]) => ({ path, content: renderYaml(w) })),
    { path: ".github/dependabot.yml", content: renderYaml(dependabotConfig(["npm", "github-actions"])) },
  ];
}

/** Every file the owning stack commits to an application repository. */
export function applicationRepositoryFiles(input: ApplicationWorkflowInput): GeneratedFile[] {
  return [
    ...Object.entries(applicationWorkflows(input)).map(([path, w]) => ({ path, content: renderYaml(w) })),
    {
      path: ".github/dependabot.yml",
      content: renderYaml(dependabotConfig(["npm", "github-actions", "docker"])),
    },
  ];
}
