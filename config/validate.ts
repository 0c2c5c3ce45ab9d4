import { z } from "zod";
import type { ConfigIssue } from "./errors";
import { PAGERDUTY_KEY, SLACK_TOKEN_KEY } from "./monitoring";
import { MISSING } from "./report";
import { environmentSchema, gcpSchema, stackSchema } from "./schema";
import { suggestKey } from "./suggest";
import { warningsOf } from "./warnings";
import { PROJECT, type StackConfig } from "../model/types";

export type ValidationResult =
  | { readonly ok: true; readonly config: StackConfig; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

export interface ValidateOptions {
  /** Config keys the gcp provider declares, to catch typos under `gcp:`; called only for keys other than project and region. */
  readonly gcpKeys?: () => readonly string[];
}

/** Keys read as plain strings, never parsed as JSON: an enum, a PEM key, or a token of digits. */
const STRING_KEYS = new Set(["environment", "deliveryAppPrivateKey", SLACK_TOKEN_KEY, PAGERDUTY_KEY]);
/** Pulumi.yaml's defaults for optional keys, which mean "not set". */
const UNSET: Readonly<Record<string, string>> = {
  cicd: "{}",
  githubSecrets: "{}",
  deliveryAppPrivateKey: "",
  regions: "[]",
  loadBalancer: "{}",
  llm: "{}",
};

/**
 * Validates a stack's whole config, given as Pulumi hands it to a program: `namespace:key` to string,
 * objects as JSON. Pure: the program, the CLI and the tests all call it.
 */
export function validateStackConfig(
  stack: string,
  flat: Readonly<Record<string, string>>,
  options: ValidateOptions = {},
): ValidationResult {
  const issues: ConfigIssue[] = [];
  const own: Record<string, unknown> = {};
  const gcp: Record<string, unknown> = {};
  // Defaults depend on the environment; with a bad one the rest is still checked, against dev's (the most lenient).
  const parsedEnvironment = environmentSchema.safeParse(flat[`${PROJECT}:environment`]);
  const environment = parsedEnvironment.success ? parsedEnvironment.data : "dev";
  const schema = stackSchema(environment);
  const ownKeys = Object.keys(schema.in.shape[PROJECT].shape);

  for (const [key, raw] of Object.entries(flat)) {
    const colon = key.indexOf(":");
    if (colon < 0) {
      issues.push(issue(key, raw, `has no namespace.\nFix: write it as \`${PROJECT}:${key}\`.`));
      continue;
    }
    const ns = key.slice(0, colon);
    const name = key.slice(colon + 1);
    if (ns === PROJECT) {
      if (!ownKeys.includes(name)) {
        issues.push(unknownKey(key, raw, name, ownKeys, `${PROJECT}:`));
        continue;
      }
      if (UNSET[name] === raw) continue;
      own[name] = STRING_KEYS.has(name) ? raw : parseJson(raw);
    } else if (ns === "gcp") {
      const known = name in gcpSchema.shape ? undefined : options.gcpKeys?.();
      if (known && !known.includes(name)) {
        issues.push(unknownKey(key, raw, name, known, "gcp:"));
        continue;
      }
      gcp[name] = raw;
    } else {
      const suggestion = suggestKey(ns, [PROJECT, "gcp"]);
      if (suggestion && ns !== suggestion) {
        issues.push(
          issue(
            key,
            raw,
            `uses the unknown namespace \`${ns}\`.\nFix: did you mean \`${suggestion}:${name}\`?`,
          ),
        );
      }
    }
  }

  const input = { gcp, [PROJECT]: own };
  const parsed = schema.safeParse(input);
  if (!parsed.success) issues.push(...zodIssues(parsed.error, input, schema));
  if (!parsed.success || issues.length > 0) return { ok: false, issues };
  const config = { stack, ...parsed.data };
  return { ok: true, config, warnings: warningsOf(config) };
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function issue(path: string, value: unknown, message: string): ConfigIssue {
  return { path, value, hasValue: value !== undefined, message };
}

function unknownKey(
  path: string,
  value: unknown,
  name: string,
  known: readonly string[],
  prefix: string,
): ConfigIssue {
  const suggestion = suggestKey(name, known);
  const fix = suggestion
    ? `did you mean \`${prefix}${suggestion}\`?`
    : `remove it; known keys are ${known.map((k) => `\`${k}\``).join(", ")}.`;
  return issue(path, value, `is not a known key.\nFix: ${fix}`);
}

/** Known keys of the object a path points into, by walking the schema. */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let node: any = schema;
  const unwrap = () => {
    while (node?.def && ["optional", "default", "prefault", "pipe", "nullable"].includes(node.def.type)) {
      node = node.def.type === "pipe" ? node.def.in : node.def.innerType;
    }
  };
  unwrap();
  for (const key of path) {
    if (node?.def?.type === "object") node = node.def.shape[key as string];
    else if (node?.def?.type === "record") node = node.def.valueType;
    else return [];
    unwrap();
  }
  return node?.def?.type === "object" ? Object.keys(node.def.shape) : [];
}

function valueAt(root: unknown, path: readonly PropertyKey[]): { found: boolean; value?: unknown } {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== "object" || !(key in (node as object))) return { found: false };
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return { found: true, value: node };
}

/** Zod's issues as config issues: the key path as written in the stack file, and the bad value. */
function zodIssues(error: z.ZodError, input: unknown, schema: z.ZodType): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const zi of error.issues) {
    const [ns, ...rest] = zi.path.map(String);
    const dotted = `${ns}:${rest.join(".")}`;
    if (zi.code === "unrecognized_keys") {
      const known = knownKeysAt(schema, zi.path);
      for (const key of zi.keys) {
        const { value } = valueAt(input, [...zi.path, key]);
        out.push(unknownKey(`${dotted}.${key}`, value, key, known, ""));
      }
      continue;
    }
    if (zi.code === "invalid_key") {
      const message = zi.issues[0]?.message ?? zi.message;
      out.push(issue(dotted, zi.path[zi.path.length - 1], `has an invalid key: ${message}`));
      continue;
    }
    // A refinement may name the value it complains about, or say that the key is missing.
    const shown =
      zi.code === "custom" && zi.params && "value" in zi.params
        ? zi.params.value
        : valueAt(input, zi.path).value;
    out.push(
      shown === MISSING
        ? { path: dotted, hasValue: false, message: zi.message }
        : issue(dotted, shown, zi.message),
    );
  }
  return out;
}
