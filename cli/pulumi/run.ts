import * as os from "node:os";
import { spawn } from "node:child_process";
import { anyRequiredFailed, formatChecks } from "../checks";
import { pulumiRunChecks } from "../doctor/evaluate";
import { gatherFacts } from "../doctor/gather";
import { CliError, errColor, projectDir } from "../output";
import { upRefusals } from "./guard";
import { loadValidStack } from "../stackEditor";
import { upstreamStatus } from "../git";

/** Runs the real pulumi with this terminal; resolves to its exit code. */
function runPulumi(args: readonly string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn("pulumi", [...args], { cwd, stdio: "inherit" });
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "ENOENT" ? new CliError("The Pulumi CLI is not on PATH.") : e),
    );
    // Killed by a signal: the shell's convention, 128 + its number.
    child.on("close", (code, signal) =>
      resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 1) : 1)),
    );
  });
}

export async function checkedRun(
  verb: "preview" | "up",
  opts: { stack: string; allowDirty?: boolean; allowBranch?: boolean; allowUnpushed?: boolean },
  extra: readonly string[],
): Promise<void> {
  const dir = projectDir();
  const facts = await gatherFacts(dir, { docker: false, token: false, git: verb === "up" });
  const checks = pulumiRunChecks(facts, opts.stack);
  if (anyRequiredFailed(checks)) {
    throw new CliError(
      `pulumi ${verb} was not run: a required check failed.\n${formatChecks(checks, errColor)}`,
    );
  }
  const warnings = checks.filter((c) => c.status !== "ok");
  if (warnings.length > 0) process.stderr.write(`${formatChecks(warnings, errColor)}\n`);

  if (verb === "up") {
    const { config } = loadValidStack(dir, opts.stack);
    const refusals = upRefusals({
      stack: opts.stack,
      environment: config.environment,
      branch: facts.git.branch,
      defaultBranch: facts.git.defaultBranch,
      dirty: facts.git.dirty,
      upstream: await upstreamStatus(dir),
      allowDirty: Boolean(opts.allowDirty),
      allowBranch: Boolean(opts.allowBranch),
      allowUnpushed: Boolean(opts.allowUnpushed),
    });
    if (refusals.length > 0)
      throw new CliError(
        `pulumi up -s ${opts.stack} was not run:\n${refusals.map((r) => `  - ${r}`).join("\n")}`,
      );
  }

  const args = [verb, "-s", opts.stack, ...extra];
  process.stderr.write(`${errColor.dim(`$ pulumi ${args.join(" ")}`)}\n`);
  process.exitCode = await runPulumi(args, dir);
}
