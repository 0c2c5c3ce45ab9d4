import type { Command } from "@commander-js/extra-typings";
import { jsonOption, requiredStackOption } from "./options";
import * as cicdIdsCommand from "../github/cicdIdsCommand";
import { stateAccess } from "../github/stateAccessCommand";

export function registerCicd(program: Command): void {
  const cicd = program.command("cicd").description("Keyless CI/CD settings of the stacks (docs/cicd.md)");

  cicd
    .command("ids")
    .description("Check the stack's numeric GitHub ids against the names they stand for; --write fixes them")
    .addOption(requiredStackOption("stack whose Pulumi.<name>.yaml to check"))
    .option("--write", "write the ids GitHub answered into the stack file (comments kept)")
    .addOption(jsonOption("{stack, ok, written, ids, unchecked}"))
    .addHelpText(
      "after",
      "\nLooks up, by name, the owner (`github.owner`), this repository (`github.infraRepository.name`), each\n" +
        "application repository, the App (`github.appSlug`) and every reviewer written as `{slug: TEAM, id}` or\n" +
        "`{login: USER, id}`, and compares each answer with the id in the stack file. Bare reviewer ids name\n" +
        "nothing and are only listed. The token is found as for `orchestra auth check` (GITHUB_TOKEN, GH_TOKEN,\n" +
        "then the OS keyring); GITHUB_API_URL points to GitHub Enterprise Server. Exit 1 when an id differs or\n" +
        "is not set (unless --write wrote it), a name is not found, or the API cannot be asked.\n\n" +
        "Example:\n  orchestra cicd ids --stack prod --write",
    )
    .action(async (opts) => cicdIdsCommand.cicdIds(opts));

  cicd
    .command("state-access")
    .description(
      "Print the gcloud commands that let the stack's CI identities use the Pulumi state and its key",
    )
    .addOption(requiredStackOption("stack whose CI identities to grant"))
    .addOption(jsonOption("{stack, grants: [{who, resource, role, member, command}]}"))
    .addHelpText(
      "after",
      "\nThe deployer may write the state bucket (`cicd.stateBucket`) and encrypt with the secrets key\n" +
        "(`cicd.secretsKey`); the previewer may only read and decrypt. The program does not declare these\n" +
        "bindings: they live in the operations project, where refreshing them would need getIamPolicy. Run\n" +
        "the printed commands once per stack, as an administrator of that project. Nothing is changed here.\n\n" +
        "Example:\n  orchestra cicd state-access --stack prod",
    )
    .action((opts) => stateAccess(opts));
}
