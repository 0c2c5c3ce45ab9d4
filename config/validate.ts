import type { ConfigIssue } from "./errors";
import type { StackConfig } from "../model/types";

export type ValidationResult =
  | { readonly ok: true; readonly config: StackConfig; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

export interface ValidateOptions {
  /** Config keys the gcp provider declares, to catch typos under `gcp:`; called only for keys other than project and region. */
  readonly gcpKeys?: () => readonly string[];
}

/**
 * Validates a stack's whole config, given as Pulumi hands it to a program: `namespace:key` to string,
 * objects as JSON. Pure: the program, the CLI and the tests all call it.
 *
 * The last answer is remembered: `orchestra plan` validates before it renders, and the program
 * validates the same config again inside the render. The checks (zod and every schema, ~70 ms to load)
 * are loaded on the first call that needs them, so a process handed the answer never loads them.
 */
export function validateStackConfig(
  stack: string,
  flat: Readonly<Record<string, string>>,
  options: ValidateOptions = {},
): ValidationResult {
  const key = memoKey(stack, flat, options);
  if (last?.key === key) return last.result;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { validate } = require("./validateStack") as typeof import("./validateStack");
  const result = validate(stack, flat, options);
  last = { key, result };
  return result;
}

/**
 * Takes the answer `validateStackConfig` gave for this config elsewhere (another thread of the same
 * process, running the same code), so that the next call with it is answered without validating.
 */
export function rememberValidation(
  stack: string,
  flat: Readonly<Record<string, string>>,
  options: ValidateOptions,
  result: ValidationResult,
): void {
  last = { key: memoKey(stack, flat, options), result };
}

let last: { readonly key: string; readonly result: ValidationResult } | undefined;

function memoKey(stack: string, flat: Readonly<Record<string, string>>, options: ValidateOptions): string {
  return JSON.stringify([stack, Boolean(options.gcpKeys), Object.entries(flat).sort()]);
}
