/**
 * A rollout in its own process, for the signal tests: the real command (runRolloutCommand, with the
 * process's own signals and exit) on stand-ins. Configured by $ROLLOUT_CHILD (JSON). Each `up` prints
 * `up N` on stderr; `hangAtUp: N` makes the N-th `up` run until the process gets a SIGINT or SIGTERM
 * (as pulumi would, in the same process group, and then fail as cancelled) or, with `ignoreCancel`,
 * forever (to be killed). The stand-in Cloud Run's state is a file the test reads afterwards.
 */
import type { RolloutFlags } from "../../cli/commands/rollout";
import { CliError } from "../../cli/output";
import { runRolloutCommand } from "../../cli/rollout/run";
import type { StandInUrls } from "./rolloutOutputs";
import { cleanScanSources } from "./fakeScanner";
import { standInRuntime } from "./rolloutRuntime";

interface ChildConfig {
  dir: string;
  flags: RolloutFlags;
  urls: StandInUrls;
  cloudFile: string;
  metricsUrl: string;
  hangAtUp?: number;
  ignoreCancel?: boolean;
  /** The gate resolves the image as an index whose linux/amd64 image is this digest. */
  amd64?: string;
}

const c = JSON.parse(process.env.ROLLOUT_CHILD ?? "{}") as ChildConfig;
const { runtime } = standInRuntime({
  dir: c.dir,
  cwd: c.dir,
  urls: c.urls,
  cloudFile: c.cloudFile,
  metricsUrl: c.metricsUrl,
  gate: cleanScanSources(c.amd64 ? { amd64: c.amd64 } : {}),
  onUp: (n) => {
    process.stderr.write(`up ${n}\n`);
    if (n !== c.hangAtUp) return;
    return new Promise<void>((_resolve, reject) => {
      const keepAlive = setInterval(() => undefined, 1000);
      if (c.ignoreCancel) return;
      const cancel = () => {
        clearInterval(keepAlive);
        reject(new Error("update canceled"));
      };
      process.once("SIGINT", cancel);
      process.once("SIGTERM", cancel);
    });
  },
});

runRolloutCommand("api", c.flags, {
  ...runtime,
  stdout: process.stdout,
  stderr: process.stderr,
  signals: process,
  exit: (code) => process.exit(code),
}).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = e instanceof CliError ? e.exitCode : 1;
  },
);
