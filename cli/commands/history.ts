import type { Command } from "@commander-js/extra-typings";
import { jsonOption, wholeNumber } from "./options";
import * as history from "../history/show";

export function registerHistory(program: Command): void {
  program
    .command("history")
    .description("Show the orchestra commands run on this machine (newest last), secrets redacted")
    .option("-n, --limit <n>", "show only the last N (default 20)", wholeNumber)
    .addOption(jsonOption("{file, entries: [{time, command, args, exitCode, durationMs, cwd}]}"))
    .addHelpText(
      "after",
      "\nKept in $ORCHESTRA_STATE_DIR, else $XDG_STATE_HOME/orchestra (default ~/.local/state/orchestra) on Linux,\n" +
        "~/Library/Logs/orchestra on macOS, %LOCALAPPDATA%\\orchestra\\Log on Windows; the last 1000 commands.",
    )
    .action(async (opts) => history.showHistory(opts));
}
