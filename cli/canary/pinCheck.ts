import { stablePin } from "../../model/canary/lifecycle";
import { pinProblems } from "../../model/canary/pin";
import type { StackConfig } from "../../model/types";
import { gcpConfigKeys } from "../../config/gcpKeys";
import { validateStackConfig } from "../../config/validate";
import { flattenStackConfig, parseYamlText, projectFile, stackFilePath } from "../../render/stackFile";
import { committedText, dirtyPaths } from "../git";
import { AdminApiLiveCloudRun } from "../live/liveCloudRun";
import { CliError } from "../output";
import * as path from "node:path";

/**
 * Checks, before `canary start` pins stable, that the pin is the revision deployed: with `live`, against
 * what Cloud Run serves as stable in every region; else against the last commit's settings, which an
 * uncommitted setting change would make differ. Refuses (nothing written) when it is not; says nothing
 * when there is nothing to compare with (no repository, no committed stack file, no stable image yet).
 */
export async function checkStablePin(
  dir: string,
  config: StackConfig,
  service: string,
  live: boolean,
): Promise<void> {
  const svc = config.services.find((s) => s.name === service);
  const pin = svc ? stablePin(config, service) : undefined;
  if (!svc || !pin) return; // startCanary refuses these with its own reason
  const file = `Pulumi.${config.stack}.yaml`;
  const notChanged = `so ${file} was not changed`;

  if (live) {
    process.stderr.write(
      `Reading what ${service} serves as stable from Cloud Run in ${svc.regions.join(", ")}...\n`,
    );
    const read = await new AdminApiLiveCloudRun(config.project).read(service, svc.regions);
    const problems = pinProblems(pin, read.regions);
    if (problems.length > 0)
      throw new CliError(
        `Stable would be pinned to ${pin}, which Cloud Run does not serve as stable everywhere, ${notChanged}:\n` +
          problems.map((p) => `  ${p}`).join("\n") +
          `\nNext: deploy the stack file's settings first (\`orchestra up --stack ${config.stack}\`), or undo the ` +
          "setting change that is not deployed, then start the canary.",
      );
    return;
  }

  const committed = await committedConfig(dir, config.stack);
  if (!committed?.services.some((s) => s.name === service)) return;
  const committedPin = stablePin(committed, service);
  if (committedPin === undefined || committedPin === pin) return;
  const dirty = ((await dirtyPaths(dir)) ?? []).filter((p) => /(^|\/)Pulumi(\.[^/]+)?\.yaml$/.test(p));
  throw new CliError(
    `${service}'s stable settings differ from the last commit${dirty.length ? ` (uncommitted: ${dirty.join(", ")})` : ""}: ` +
      `pinned from them, stable would move to ${pin}, a revision never deployed (the committed settings give ` +
      `${committedPin}), ${notChanged}.\n` +
      `Next: deploy the setting change first (commit it, then \`orchestra up --stack ${config.stack}\`), or undo it ` +
      `(\`git stash\`), then start the canary; \`--live\` checks the pin against what Cloud Run serves instead.`,
  );
}

/** The stack's validated config as the last commit has it; undefined when there is none to read. */
async function committedConfig(dir: string, stack: string): Promise<StackConfig | undefined> {
  const file = path.basename(stackFilePath(dir, stack));
  const [stackText, projectText] = await Promise.all([
    committedText(dir, file),
    committedText(dir, "Pulumi.yaml"),
  ]);
  if (stackText === undefined || projectText === undefined) return undefined;
  try {
    const project = projectFile("Pulumi.yaml", parseYamlText("Pulumi.yaml", projectText).toJS());
    const raw = parseYamlText(file, stackText).toJS() as { config?: unknown } | null;
    const flat = flattenStackConfig(project, stack, file, raw?.config).flat;
    const result = validateStackConfig(stack, flat, { gcpKeys: gcpConfigKeys });
    return result.ok ? result.config : undefined;
  } catch {
    return undefined; // a commit with a broken file: nothing to compare with
  }
}
