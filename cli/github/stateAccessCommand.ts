import { formatIssues } from "../../config/errors";
import { gcpConfigKeys } from "../../config/gcpKeys";
import { validateStackConfig } from "../../config/validate";
import { grantCommand, stateAccessGrants } from "../../model/stateAccess";
import { readStackConfig } from "../../render/stackFile";
import { CliError, printJson, projectDir } from "../output";

export interface StateAccessOptions {
  readonly stack: string;
  readonly json?: boolean;
}

/**
 * `orchestra cicd state-access`: the gcloud commands that let the stack's CI identities use the Pulumi
 * state bucket and secrets key. They run once, by a person who administers the operations project;
 * the program does not declare these bindings (see model/stateAccess.ts).
 */
export function stateAccess(opts: StateAccessOptions): void {
  const dir = projectDir();
  const result = validateStackConfig(opts.stack, readStackConfig(dir, opts.stack).flat, {
    gcpKeys: gcpConfigKeys,
  });
  if (!result.ok) throw new CliError(formatIssues(opts.stack, result.issues).trim());
  const { project, cicd } = result.config;
  const grants = stateAccessGrants({
    project,
    ...(cicd?.stateBucket ? { stateBucket: cicd.stateBucket } : {}),
    ...(cicd?.secretsKey ? { secretsKey: cicd.secretsKey } : {}),
  });
  if (opts.json) {
    printJson({
      stack: opts.stack,
      grants: grants.map((g) => ({
        who: g.who,
        resource: g.on.kind === "bucket" ? `gs://${g.on.bucket}` : g.on.key,
        role: g.role,
        member: g.member,
        command: grantCommand(g),
      })),
    });
    return;
  }
  if (grants.length === 0) {
    process.stdout.write(
      `Stack "${opts.stack}" sets neither \`cicd.stateBucket\` nor \`cicd.secretsKey\`: there is nothing to grant.\n`,
    );
    return;
  }
  process.stdout.write(
    `# Run once, as an administrator of the state bucket and key, before stack "${opts.stack}"'s first CI job.\n` +
      `# Each adds one binding; running it again changes nothing.\n` +
      grants.map((g) => `${grantCommand(g)}\n`).join(""),
  );
}
