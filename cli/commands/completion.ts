import type { Command } from "commander";
import { Argument } from "commander";
import { bashScript, zshScript } from "../completion/scripts";

export function registerCompletion(program: Command): void {
  program
    .command("completion")
    .description("Print a shell completion script for bash or zsh")
    .addArgument(new Argument("<shell>", "bash or zsh").choices(["bash", "zsh"]))
    .addHelpText(
      "after",
      "\nInstall:\n  bash: echo 'source <(orchestra completion bash)' >> ~/.bashrc\n" +
        "  zsh:  echo 'source <(orchestra completion zsh)' >> ~/.zshrc\n" +
        "Completes commands, options and, after --stack, the stacks in the current folder.",
    )
    .action((shell: "bash" | "zsh") => {
      let root: Command = program;
      while (root.parent) root = root.parent;
      process.stdout.write(shell === "bash" ? bashScript(root) : zshScript(root));
    });
}
