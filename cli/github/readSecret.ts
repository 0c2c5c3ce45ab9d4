import { CliError } from "../output";

/**
 * Reads a secret: from a terminal by @inquirer/password (input hidden, prompt on stderr so stdout stays
 * pure), otherwise all of stdin (a pipe). The value is never echoed, logged or written anywhere.
 */
export async function readSecret(message: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }
  // Loaded on use: only an interactive login needs the prompt's keypress handling.
  const { default: password } = await import("@inquirer/password");
  try {
    return await password({ message }, { input: stdin, output: process.stderr });
  } catch (e) {
    // Ctrl-C (or Ctrl-D) at the prompt.
    if (e instanceof Error && e.name === "ExitPromptError")
      throw new CliError("Cancelled; nothing was stored.");
    throw e;
  }
}
