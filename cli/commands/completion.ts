import { Argument, type Command } from "@commander-js/extra-typings";
import { bashScript, zshScript } from "../completion/scripts";

export function registerCompletion(program: Command): void {
  program
    .command("completion")
    .description("Print a shell completion script for bash or zsh")
    .addArgument(new Argument("<shell>", "bash or zsh").choices(["bash", "zsh"] as const))
    .addHelpText(
      "after",
      "\nInstall:\n  bash: echo 'source <(orchestra completion bash)' >> ~/.bashrc\n" +
        "  zsh:  echo 'source <(orchestra completion zsh)' >> ~/.zshrc\n" +
        "Completes commands, options and, after --stack, the stacks in the current folder.",
    )
    .action((shell) => {
      process.stdout.write(shell === "bash" ? bashScript(program) : zshScript(program));
    });
}
