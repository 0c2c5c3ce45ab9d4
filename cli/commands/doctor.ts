import type { Command } from "@commander-js/extra-typings";
import { jsonOption } from "./options";
import * as doctor from "../doctor/run";

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description(
      "Check this machine and project: Node.js, Pulumi CLI and login, gcloud credentials, Docker, GitHub token, git, stack files",
    )
    .addOption(jsonOption("{ok, checks: [{id, status, detail, fix, required}]}"))
    .addHelpText(
      "after",
      "\nEach check is ok, warn or fail, with the fix. Exit 1 when a required check fails: Node.js too old or a\n" +
        "stack file invalid. The Pulumi CLI, its login and gcloud credentials are only required by preview and up.",
    )
    .action(async (opts) => doctor.runDoctor(opts));
}
