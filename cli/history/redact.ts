/** Options whose value is never recorded. */
const SECRET_OPTIONS = /^--?(token|password|secret|pat|key|auth)([-_].*)?$/i;

/** Anything shaped like a GitHub token or a credential in a URL. */
const SECRET_SHAPES = [
  /\bgh[pousr]_[A-Za-z0-9_]+/g,
  /\bgithub_pat_[A-Za-z0-9_]+/g,
  /\/\/[^/@\s]+:[^/@\s]+@/g,
];

export const REDACTED = "[redacted]";

/** The command line as it may be kept in the history file: secrets replaced by [redacted]. */
export function redactArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  let hideNext = false;
  for (const arg of args) {
    if (hideNext) {
      out.push(REDACTED);
      hideNext = false;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (arg.startsWith("-") && SECRET_OPTIONS.test(name)) {
      if (eq > 0) out.push(`${name}=${REDACTED}`);
      else {
        out.push(arg);
        hideNext = true;
      }
      continue;
    }
    out.push(
      SECRET_SHAPES.reduce(
        (text, re) => text.replace(re, (m) => (m.startsWith("//") ? `//${REDACTED}@` : REDACTED)),
        arg,
      ),
    );
  }
  return out;
}
