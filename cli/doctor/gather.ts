import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { engines } from "../../package.json";
import { formatIssues } from "../../config/errors";
import { gcpConfigKeys } from "../../config/gcpKeys";
import { validateStackConfig } from "../../config/validate";
import { listStacks, readSecretsProviderLines, readStackConfig } from "../../render/stackFile";
import { secretsProviderProblem } from "../../model/secretsProvider";
import { exec } from "../exec";
import { currentBranch, defaultBranch, dirtyPaths } from "../git";
import { findToken } from "../github/keyring";
import { tokenKind } from "../github/token";
import type { DoctorFacts } from "./evaluate";

/** Where gcloud keeps application-default credentials (CLOUDSDK_CONFIG moves the folder). */
function adcFile(): { file: string; fromEnv: boolean } {
  if (process.env.GOOGLE_APPLICATION_CREDENTIALS)
    return { file: process.env.GOOGLE_APPLICATION_CREDENTIALS, fromEnv: true };
  const config =
    process.env.CLOUDSDK_CONFIG ??
    (process.platform === "win32"
      ? path.join(process.env.APPDATA ?? os.homedir(), "gcloud")
      : path.join(os.homedir(), ".config", "gcloud"));
  return { file: path.join(config, "application_default_credentials.json"), fromEnv: false };
}

function stackFacts(dir: string): DoctorFacts["stacks"] {
  return listStacks(dir).map((stack) => {
    try {
      const result = validateStackConfig(stack, readStackConfig(dir, stack).flat, { gcpKeys: gcpConfigKeys });
      if (!result.ok) return { stack, warnings: 0, error: formatIssues(stack, result.issues).trim() };
      const secrets = secretsProviderProblem(
        stack,
        readSecretsProviderLines(dir, stack),
        result.config.cicd?.secretsKey,
        !result.config.cicd?.stateBucket,
      );
      return { stack, warnings: result.warnings.length, ...(secrets ? { secretsProvider: secrets } : {}) };
    } catch (e) {
      return { stack, warnings: 0, error: e instanceof Error ? e.message : String(e) };
    }
  });
}

/** Looks at the machine and the project; the slow probes (CLIs) run side by side. */
export async function gatherFacts(
  dir: string,
  want: { docker?: boolean; token?: boolean; git?: boolean } = {},
): Promise<DoctorFacts> {
  const skipped = { missing: false, code: 0, stdout: "not checked", stderr: "" };
  const [pulumiVersion, pulumiWhoami, docker, found, branch, defBranch, dirty] = await Promise.all([
    exec("pulumi", ["version"], { cwd: dir }),
    exec("pulumi", ["whoami", "--json"], { cwd: dir, timeoutMs: 20_000 }),
    want.docker === false
      ? skipped
      : exec("docker", ["info", "--format", "{{.ServerVersion}}"], { timeoutMs: 5000 }),
    want.token === false ? undefined : findToken(),
    want.git === false ? undefined : currentBranch(dir),
    want.git === false ? undefined : defaultBranch(dir),
    want.git === false ? undefined : dirtyPaths(dir),
  ]);
  const adc = adcFile();
  return {
    node: { version: process.versions.node, required: engines.node },
    pulumiVersion,
    pulumiWhoami: pulumiVersion.missing ? undefined : pulumiWhoami,
    adc: { ...adc, exists: fs.existsSync(adc.file) },
    docker,
    token: found ? { source: found.source, kind: tokenKind(found.token) } : undefined,
    git: { branch, defaultBranch: defBranch, dirty },
    stacks: stackFacts(dir),
  };
}
