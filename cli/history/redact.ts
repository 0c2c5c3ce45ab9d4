import { isSecretConfigKey, REDACTED, redactCredentials } from "../../model/secrets";

export { REDACTED };

/** Options whose value is never recorded. */
const SECRET_OPTIONS = /^--?(token|password|secret|pat|key|auth)([-_].*)?$/i;
/** Pulumi's `-c/--config KEY=VALUE`, whose value is a secret when the key is one. */
const CONFIG_OPTIONS = /^(?:-c|--config)$/;

/** The command line as it may be kept in the history file: secrets replaced by [redacted]. */
export function redactArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  let next: "secret" | "config" | undefined;
  for (const arg of args) {
    if (next) {
      out.push(next === "secret" ? REDACTED : redactConfigPair(arg));
      next = undefined;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (arg.startsWith("-") && SECRET_OPTIONS.test(name)) {
      if (eq > 0) out.push(`${name}=${REDACTED}`);
      else {
        out.push(arg);
        next = "secret";
      }
      continue;
    }
    if (arg.startsWith("-") && CONFIG_OPTIONS.test(name)) {
      if (eq > 0) out.push(`${name}=${redactConfigPair(arg.slice(eq + 1))}`);
      else {
        out.push(arg);
        next = "config";
      }
      continue;
    }
    // `-cKEY=VALUE`, the short option with its value attached.
    if (/^-c[^-=]/.test(arg)) {
      out.push(`-c${redactConfigPair(arg.slice(2))}`);
      continue;
    }
    out.push(redactCredentials(arg));
  }
  return out;
}

/** `KEY=VALUE` of a config option: the value hidden when the key is a secret, credentials hidden always. */
function redactConfigPair(pair: string): string {
  const eq = pair.indexOf("=");
  if (eq > 0 && isSecretConfigKey(pair.slice(0, eq))) return `${pair.slice(0, eq)}=${REDACTED}`;
  return redactCredentials(pair);
}
