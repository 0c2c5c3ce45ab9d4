import { Option, type Command } from "@commander-js/extra-typings";
import { DEFAULT_WARN_DAYS, PURPOSES } from "../github/token";
import { jsonOption, wholeNumber } from "./options";
import * as github from "../github/actions";

export function registerAuth(program: Command): void {
  const auth = program
    .command("auth")
    .description(
      "Check the GitHub token (kind, scopes or permissions, expiry) and keep it in the OS keyring",
    );

  auth
    .command("check")
    .description("Ask the GitHub API what the token may do and when it expires")
    .addOption(
      new Option("--for <purpose>", "what the token must be able to do")
        .choices([...PURPOSES, "all"] as const)
        .default("all" as const),
    )
    .option(
      "--repo <owner/name>",
      "repository to probe fine-grained and app tokens on (default: the origin remote)",
    )
    .option(
      "--warn-days <n>",
      `warn this many days before expiry (default ${DEFAULT_WARN_DAYS})`,
      wholeNumber,
    )
    .addOption(jsonOption("{token, checks, recommendations, ok}"))
    .addHelpText(
      "after",
      "\nThe token comes from GITHUB_TOKEN, GH_TOKEN or the OS keyring (`orchestra auth login`), in that order;\n" +
        "it is never printed. GITHUB_API_URL points to GitHub Enterprise Server (https://HOST/api/v3).\n" +
        "Classic tokens are judged by X-OAuth-Scopes; fine-grained and app tokens by read probes whose\n" +
        "X-Accepted-GitHub-Permissions names what is missing. Exit 1 when the token cannot do what was asked,\n" +
        "has expired, or the API cannot be asked (401, rate limit, network).\n\nExample:\n  orchestra auth check --for workflows",
    )
    .action(async (opts) => github.authCheck(opts));

  auth
    .command("login")
    .description("Store a GitHub token in the OS keyring (read from the prompt or stdin, never printed)")
    .addHelpText(
      "after",
      "\nThe token is read without echo from the terminal, or from stdin when piped:\n" +
        "  gh auth token | orchestra auth login\n" +
        "Where there is no keyring (e.g. no D-Bus secret service), nothing is stored, exit 1, and the way to keep\n" +
        "it as a Pulumi secret is explained. A token is never written to a plain file.",
    )
    .action(async () => github.authLogin());

  auth
    .command("logout")
    .description("Remove the GitHub token from the OS keyring")
    .action(async () => github.authLogout());
}
