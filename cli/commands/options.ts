import { InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { parseDuration, parseSteps } from "../rollout/steps";

/**
 * The options several commands share, declared once. Each command says what its --stack is for, so the
 * description is the caller's; a value commander cannot parse is a usage error (exit 2) before any work.
 */

/** `-s, --stack <name>`, optional (e.g. `canary status`: every stack by default). */
export const stackOption = (description: string) => new Option("-s, --stack <name>", description);

/** `-s, --stack <name>`, required. */
export const requiredStackOption = (description: string) => stackOption(description).makeOptionMandatory();

/** `--json`: the command prints one JSON document on stdout instead of text. */
export const jsonOption = (shape?: string) =>
  new Option("--json", shape === undefined ? "print JSON" : `print ${shape} as JSON`);

/**
 * An argParser from a parser that throws a plain Error: commander reports the message after naming the
 * option and the value, and exits 2.
 */
export function usage<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

/**
 * An option whose value, the default too, is read by `parse`; help shows the default as it is typed
 * (`(default: "10m")`), not as parsed.
 */
export const parsed = <Usage extends string, T>(
  flags: Usage,
  description: string,
  parse: (text: string) => T,
  defaultText: string,
) => new Option(flags, description).argParser(parse).default(parse(defaultText), JSON.stringify(defaultText));

/** A whole number from 0 up: `--limit`, `--warn-days`. */
export const wholeNumber = usage((text) => {
  if (!/^\d+$/.test(text)) throw new Error(`It must be a whole number; got "${text}".`);
  return Number(text);
});

/** More than zero; `integer` for counts. */
export const positiveNumber = (integer: boolean) =>
  usage((text) => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
      throw new Error(`It must be a positive ${integer ? "whole " : ""}number; got "${text}".`);
    return n;
  });

/** A canary's share of traffic: a whole percent, 0 (a dark launch) to 100. */
export const percent = usage((text) => {
  if (!/^\d+$/.test(text) || Number(text) > 100)
    throw new Error(`Percent must be a whole number from 0 to 100, without %; got "${text}".`);
  return Number(text);
});

/** 30s, 10m, 1h → milliseconds. */
export const duration = usage(parseDuration);

/** 5,25,50,100 → [5, 25, 50, 100]. */
export const steps = usage(parseSteps);

/** `--allow-vulnerable <reason>`: let blocking findings through; the reason must say why. */
export const allowVulnerableOption = () =>
  new Option(
    "--allow-vulnerable <reason>",
    "release despite fixable findings at or above the stack's severity; the reason and the findings are recorded beside the canary",
  ).argParser(
    usage((text) => {
      if (text.trim() === "")
        throw new Error(
          'Give the reason the image may go out despite its findings, e.g. "no exploit path: the CVE is in an unused codec".',
        );
      return text.trim();
    }),
  );
