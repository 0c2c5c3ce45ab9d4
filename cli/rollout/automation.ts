import { readSecretsProviderLines } from "../../render/stackFile";
import * as fs from "node:fs";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { exec } from "../exec";
import type { PreflightRequest, PulumiDriver, UpRequest } from "./ports";
import { pulumiPreflight, type PreflightReport } from "./preflight";
import { PulumiCommandFailed } from "./pulumiErrors";
import { WorkDir } from "./workDir";

/**
 * The production Pulumi driver: the Automation API on the step's work folder (see workDir.ts). The CLI
 * runs there, so it reads Pulumi.yaml and the edited `Pulumi.<stack>.yaml` copy from it, as it would
 * from the project; the stack must already exist.
 */
export class AutomationPulumiDriver implements PulumiDriver {
  constructor(private readonly env: Readonly<Record<string, string | undefined>> = process.env) {}

  /** `pulumi version`, `whoami`, `stack select`, and the stack file's secrets provider; changes nothing. */
  async preflight({ stack, dir, stateBucket }: PreflightRequest): Promise<PreflightReport> {
    const version = await exec("pulumi", ["version"], { cwd: dir });
    const ran = !version.missing && version.code === 0;
    const whoami = ran
      ? await exec("pulumi", ["whoami", "--json"], { cwd: dir, timeoutMs: 30_000 })
      : undefined;
    let select;
    if (whoami?.code === 0) {
      // Selected in a mirror of the project, as `up` will be: the user's own selection is left alone.
      const mirror = new WorkDir(dir, stack);
      try {
        select = await exec("pulumi", ["stack", "select", "--stack", stack, "--non-interactive"], {
          cwd: mirror.path,
          timeoutMs: 60_000,
        });
      } finally {
        mirror.dispose();
      }
    }
    const passphraseFile = this.env.PULUMI_CONFIG_PASSPHRASE_FILE;
    let passphraseFileReadable = false;
    if (passphraseFile) {
      try {
        fs.accessSync(passphraseFile, fs.constants.R_OK);
        passphraseFileReadable = fs.statSync(passphraseFile).isFile();
      } catch {
        passphraseFileReadable = false;
      }
    }
    return pulumiPreflight({
      stack,
      version,
      ...(whoami ? { whoami } : {}),
      ...(select ? { select } : {}),
      secretsLines: readSecretsProviderLines(dir, stack),
      env: this.env,
      passphraseFileReadable,
      ...(stateBucket ? { stateBucket } : {}),
    });
  }

  async up({ stack: stackName, workDir, onOutput }: UpRequest): Promise<Record<string, unknown>> {
    let stack;
    try {
      stack = await LocalWorkspace.selectStack({ stackName, workDir });
    } catch (e) {
      throw new PulumiCommandFailed(`stack select ${stackName}`, e);
    }
    try {
      const result = await stack.up({ onOutput });
      return Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value as unknown]));
    } catch (e) {
      throw new PulumiCommandFailed(`up -s ${stackName}`, e);
    }
  }
}
