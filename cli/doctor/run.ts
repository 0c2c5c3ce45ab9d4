import { anyRequiredFailed, formatChecks } from "../checks";
import { color, printJson, projectDir } from "../output";
import { doctorChecks } from "./evaluate";
import { gatherFacts } from "./gather";

export async function runDoctor(opts: { json?: boolean }): Promise<void> {
  const checks = doctorChecks(await gatherFacts(projectDir()));
  const ok = !anyRequiredFailed(checks);
  if (opts.json) printJson({ ok, checks });
  else
    process.stdout.write(
      `${formatChecks(checks)}\n\n${ok ? color.green("Ready.") : color.red("Something required failed: see the fixes above.")}\n`,
    );
  if (!ok) process.exitCode = 1;
}
