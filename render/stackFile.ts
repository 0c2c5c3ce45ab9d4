import type { SecretsProviderLines } from "../model/secretsProvider";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument, type Document } from "yaml";

/** The parts of Pulumi.yaml the offline render needs. */
export interface ProjectFile {
  readonly name: string;
  /** Project-level config declarations; `default` / `value` apply when a stack does not set the key. */
  readonly config: Readonly<
    Record<string, { default?: unknown; value?: unknown; type?: string; description?: string } | unknown>
  >;
}

/** A stack's config, flattened as the Pulumi CLI hands it to a program. */
export interface StackConfigFile {
  readonly stack: string;
  /** The project's name, from Pulumi.yaml. */
  readonly project: string;
  readonly path: string;
  /** `namespace:key` to string; objects as JSON, as `pulumi.runtime.allConfig()` returns them. */
  readonly flat: Record<string, string>;
  /** Keys holding `secure:` values (anywhere inside), which only the Pulumi CLI can decrypt. */
  readonly secretKeys: string[];
}

export const SECRET_STAND_IN = "[secret: decrypted only by the Pulumi CLI]";

export class StackFileError extends Error {}

export function stackFilePath(dir: string, stack: string): string {
  return path.join(dir, `Pulumi.${stack}.yaml`);
}

/** Stack names that have a `Pulumi.<stack>.yaml` beside Pulumi.yaml. */
export function listStacks(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

export function readYaml(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new StackFileError(readProblem(file, e));
  }
  return parseYamlText(file, text).toJS() ?? {};
}

/** Why a file could not be read, as one line with the fix. */
function readProblem(file: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === "EISDIR") return `${file} is a folder, not a file: a stack's settings are a YAML file there.`;
  if (code === "EACCES" || code === "EPERM")
    return `${file} cannot be read (${code}): make it readable (chmod u+r ${file}).`;
  if (code === "ENOENT") return `${file} does not exist.`;
  return `${file} cannot be read: ${(e as Error)?.message ?? String(e)}`;
}

/** The YAML document in `text`, the content of `file`; a syntax error is a StackFileError. */
export function parseYamlText(file: string, text: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new StackFileError(`${file} is not valid YAML: ${e.message}`);
  }
  return doc;
}

export function readProjectFile(dir: string): ProjectFile {
  return projectFile(path.join(dir, "Pulumi.yaml"), readYaml(path.join(dir, "Pulumi.yaml")));
}

/** Pulumi.yaml's parts from its parsed content (`file` names it in errors). */
export function projectFile(file: string, content: unknown): ProjectFile {
  const raw = (content ?? {}) as { name?: string; config?: Record<string, unknown> };
  if (!raw.name) throw new StackFileError(`${file} has no project name.`);
  return { name: raw.name, config: raw.config ?? {} };
}

/** The path of `Pulumi.<stack>.yaml`; a StackFileError naming the stacks there when it does not exist. */
export function existingStackFile(dir: string, stack: string): string {
  const file = stackFilePath(dir, stack);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory())
    throw new StackFileError(
      `${path.basename(file)} is a folder, not a file: stack "${stack}" needs its settings in a YAML file of that name. Move the folder away (or rename it) and create the file.`,
    );
  if (!fs.existsSync(file)) {
    const known = listStacks(dir);
    throw new StackFileError(
      `There is no stack "${stack}": ${path.basename(file)} does not exist.` +
        (known.length ? ` Stacks here: ${known.join(", ")}.` : ""),
    );
  }
  return file;
}

/**
 * Reads `Pulumi.<stack>.yaml` and merges the project's config defaults, as `pulumi preview` does.
 * `secure:` values cannot be decrypted here, so they are replaced by a stand-in and marked secret.
 */
export function readStackConfig(dir: string, stack: string): StackConfigFile {
  const project = readProjectFile(dir);
  const file = existingStackFile(dir, stack);
  const raw = readYaml(file) as { config?: unknown };
  return flattenStackConfig(project, stack, file, raw.config);
}

/** Flattens a stack file's `config` map as the Pulumi CLI does, project defaults first. */
export function flattenStackConfig(
  project: ProjectFile,
  stack: string,
  file: string,
  config: unknown = {},
): StackConfigFile {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new StackFileError(`${file}: \`config\` must be a map of keys to values.`);
  }
  const flat: Record<string, string> = {};
  const secretKeys: string[] = [];
  const put = (key: string, value: unknown) => {
    const { value: clean, secret } = standInSecrets(value);
    flat[key] = typeof clean === "string" ? clean : JSON.stringify(clean);
    if (secret) secretKeys.push(key);
  };

  for (const [key, decl] of Object.entries(project.config)) {
    const full = key.includes(":") ? key : `${project.name}:${key}`;
    if (full in config || key in config) continue;
    if (decl && typeof decl === "object" && !Array.isArray(decl)) {
      const d = decl as { default?: unknown; value?: unknown };
      if (d.value !== undefined) put(full, d.value);
      else if (d.default !== undefined) put(full, d.default);
    } else if (decl !== undefined) {
      put(full, decl);
    }
  }
  for (const [key, value] of Object.entries(config)) put(key, value);
  return { stack, project: project.name, path: file, flat, secretKeys };
}

function standInSecrets(value: unknown): { value: unknown; secret: boolean } {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    if (Object.keys(obj).length === 1 && typeof obj.secure === "string")
      return { value: SECRET_STAND_IN, secret: true };
    let secret = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      const r = standInSecrets(v);
      out[k] = r.value;
      secret ||= r.secret;
    }
    return { value: out, secret };
  }
  if (Array.isArray(value)) {
    const items = value.map(standInSecrets);
    return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
  }
  return { value, secret: false };
}

/**
 * Every `secure:` value of a stack file's `config` map by key path (`ai-orchestra:slackToken`,
 * `ai-orchestra:githubSecrets.NAME`): the ciphertext, which changes whenever the secret is set again.
 */
export function secureValues(config: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (value: unknown, at: string) => {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${at}[${i}]`));
    else if (value && typeof value === "object") {
      const obj = value as Record<string, unknown>;
      if (Object.keys(obj).length === 1 && typeof obj.secure === "string") out.set(at, obj.secure);
      else for (const [k, v] of Object.entries(obj)) walk(v, at ? `${at}.${k}` : k);
    }
  };
  walk(config, "");
  return out;
}

/** The stack file's own secrets-manager lines (`secretsprovider`, `encryptedkey`, `encryptionsalt`). */
export function readSecretsProviderLines(dir: string, stack: string): SecretsProviderLines {
  const raw = readYaml(existingStackFile(dir, stack));
  return raw && typeof raw === "object" ? (raw as SecretsProviderLines) : {};
}
