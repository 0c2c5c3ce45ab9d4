import { z } from "zod";
import { hideSecrets, type ConfigIssue } from "./errors";
import { PAGERDUTY_KEY, SLACK_TOKEN_KEY } from "./monitoring";
import { KEY, MISSING } from "./report";
import { environmentSchema, gcpSchema, stackSchema } from "./schema";
import { suggestKey } from "./suggest";
import { warningsOf } from "./warnings";
import { isSecretConfigKey } from "../model/secrets";
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
  binaryAuthorization: "{}",
  vulnerabilityGate: "{}",
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
      issues.push(issue(key, parseJson(raw), `has no namespace.\nFix: write it as \`${PROJECT}:${key}\`.`));
      continue;
    }
    const ns = key.slice(0, colon);
    const name = key.slice(colon + 1);
    if (ns === PROJECT) {
      if (!ownKeys.includes(name)) {
        issues.push(unknownKey(key, parseJson(raw), name, ownKeys, `${PROJECT}:`));
        continue;
      }
      if (UNSET[name] === raw) continue;
      own[name] = STRING_KEYS.has(name) ? raw : parseJson(raw);
    } else if (ns === "gcp") {
      const known = name in gcpSchema.shape ? undefined : options.gcpKeys?.();
      if (known && !known.includes(name)) {
        issues.push(unknownKey(key, parseJson(raw), name, known, "gcp:"));
        continue;
      }
      gcp[name] = raw;
    } else {
      const suggestion = suggestKey(ns, [PROJECT, "gcp"]);
      if (suggestion && ns !== suggestion) {
        issues.push(
          issue(
            key,
            parseJson(raw),
            `uses the unknown namespace \`${ns}\`.\nFix: did you mean \`${suggestion}:${name}\`?`,
          ),
        );
      }
    }
  }

  const input = { gcp, [PROJECT]: own };
  const parsed = schema.safeParse(input);
  if (!parsed.success) issues.push(...zodIssues(parsed.error, input, schema));
  // Whatever the issue, an error message never carries a secret's value.
  if (!parsed.success || issues.length > 0) return { ok: false, issues: issues.map((i) => hideSecrets(i)) };
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
  const hidden = hideSecrets(
    issue(path, value, ""),
    suggestion !== undefined && isSecretConfigKey(suggestion),
  );
  const fix = suggestion
    ? `did you mean \`${prefix}${suggestion}\`?`
    : `remove it; known keys are ${known.map((k) => `\`${k}\``).join(", ")}.`;
  return issue(path, hidden.value, `is not a known key.\nFix: ${fix}`);
}

/**
 * Known keys of the object a path points into, by walking the schema (and the input, to pick the
 * variant of a discriminated union); a record with an enum of keys knows those.
 */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[], input: unknown): string[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let node: any = schema;
  let value: unknown = input;
  const unwrap = () => {
    for (;;) {
      if (node?.def && ["optional", "default", "prefault", "pipe", "nullable"].includes(node.def.type))
        node = node.def.type === "pipe" ? node.def.in : node.def.innerType;
      else if (node?.def?.type === "union") node = variantOf(node.def, value);
      else return;
    }
  };
  unwrap();
  for (const key of path) {
    value =
      value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key] : undefined;
    if (node?.def?.type === "object") node = node.def.shape[key as string];
    else if (node?.def?.type === "record") node = node.def.valueType;
    else return [];
    unwrap();
  }
  if (node?.def?.type === "object") return Object.keys(node.def.shape);
  if (node?.def?.type === "record" && Array.isArray(node.def.keyType?.options))
    return node.def.keyType.options.map(String);
  return [];
}

/** The variant of a union the value is meant as: by its discriminator, else the first object variant. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function variantOf(def: any, value: unknown): unknown {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const options: any[] = def.options ?? [];
  const tag = def.discriminator as string | undefined;
  const wanted =
    tag && value !== null && typeof value === "object" ? (value as Record<string, unknown>)[tag] : undefined;
  return (
    options.find((o) => tag && o?.def?.shape?.[tag]?.def?.values?.includes(wanted)) ??
    options.find((o) => o?.def?.type === "object")
  );
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
      const known = knownKeysAt(schema, zi.path, input);
      for (const key of zi.keys) {
        const { value } = valueAt(input, [...zi.path, key]);
        out.push(unknownKey(`${dotted}.${key}`, value, key, known, ""));
      }
      continue;
    }
    if (zi.code === "invalid_key") {
      const message = zi.issues[0]?.message ?? zi.message;
      out.push({ path: dotted, hasValue: false, badKey: true, message: `is not a valid key: ${message}` });
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
        : shown === KEY
          ? { path: dotted, hasValue: false, badKey: true, message: zi.message }
          : issue(dotted, shown, messageOf(zi, shown)),
    );
  }
  return out;
}

const SHAPES: Readonly<Record<string, string>> = {
  object: "a mapping (`key: value` lines beneath it)",
  record: "a mapping (`key: value` lines beneath it)",
  array: "a list",
};

/** Zod's own wording for a wrong type ("Invalid input: expected object...") in the terms of a stack file. */
function messageOf(zi: z.core.$ZodIssue, shown: unknown): string {
  if (zi.code !== "invalid_type" || !zi.message.startsWith("Invalid input")) return zi.message;
  const expected = SHAPES[zi.expected] ?? `a ${zi.expected}`;
  if (shown === null || shown === undefined)
    return `is empty, but must be ${expected}: a key with nothing after it is null in YAML.\nFix: add its settings beneath it (docs/configuration.md), or remove the key.`;
  const got = Array.isArray(shown) ? "a list" : typeof shown === "object" ? "a mapping" : `a ${typeof shown}`;
  return `must be ${expected}, not ${got}.\nFix: see docs/configuration.md for its shape.`;
}
