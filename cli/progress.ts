import type { Writable } from "node:stream";

/** Where progress goes: stderr, or a test's stand-in. A terminal has `isTTY` and cursor control. */
export type ProgressStream = Writable & { readonly isTTY?: boolean };

export interface ProgressOptions {
  readonly stream?: ProgressStream;
  /** How long the work may take before a line is printed where no terminal shows a spinner. */
  readonly quietMs?: number;
}

/** Long enough that quick work in CI logs prints nothing, short enough that slow work is not mistaken for a hang. */
export const QUIET_MS = 5000;

/**
 * Runs long work (a render, GitHub lookups) and shows that it is under way, on stderr only, so a
 * `--json` stdout stays one document: on a terminal a spinner with the seconds spent, cleared at the end;
 * elsewhere one line, and only once the work has taken `quietMs`.
 */
export async function withProgress<T>(
  text: string,
  work: () => Promise<T>,
  options: ProgressOptions = {},
): Promise<T> {
  const stream = options.stream ?? process.stderr;
  const terminal = Boolean(stream.isTTY) && process.env.TERM !== "dumb" && !("CI" in process.env);
  const started = Date.now();
  let done = false;
  let stop = () => {};
  if (terminal) {
    // Started before the work: its first part may be synchronous (loading the Pulumi SDK), when no
    // timer could draw the spinner.
    const { default: yoctoSpinner } = await import("yocto-spinner");
    const spinner = yoctoSpinner({ text, stream, handleSignals: false }).start();
    const seconds = setInterval(() => {
      spinner.text = `${text} (${Math.round((Date.now() - started) / 1000)} s)`;
    }, 1000);
    stop = () => {
      clearInterval(seconds);
      spinner.stop();
    };
  } else {
    const timer = setTimeout(() => {
      if (!done)
        stream.write(`${text} (still working after ${Math.round((Date.now() - started) / 1000)} s)\n`);
    }, options.quietMs ?? QUIET_MS);
    stop = () => clearTimeout(timer);
  }
  try {
    return await work();
  } finally {
    done = true;
    stop();
  }
}
