import * as fs from "node:fs";
import * as path from "node:path";
import lockfile from "proper-lockfile";
import { sync as writeFileAtomicSync } from "write-file-atomic";
import { parseDocument, type Document } from "yaml";
import type { Edit } from "../model/canary/edits";
import { applyToDocument, keepLayout, renderDocument } from "./yamlEdits";
import { formatIssues } from "../config/errors";
import { gcpConfigKeys } from "../config/gcpKeys";
import type { StackConfig } from "../model/types";
import { validateStackConfig } from "../config/validate";
import {
  existingStackFile,
  flattenStackConfig,
  parseYamlText,
  readProjectFile,
  readStackConfig,
  StackFileError,
  type StackConfigFile,
} from "../render/stackFile";

/**
 * Loads and validates a stack's config; a stack file with errors is reported, never edited. `file` is
 * the stack file as read, for a caller that needs it again (the plan renders from it).
 */
export function loadValidStack(
  dir: string,
  stack: string,
): { config: StackConfig; warnings: readonly string[]; file: StackConfigFile } {
  const file = readStackConfig(dir, stack);
  const result = validateStackConfig(stack, file.flat, { gcpKeys: gcpConfigKeys });
  if (!result.ok) throw new StackFileError(formatIssues(stack, result.issues));
  return { config: result.config, warnings: result.warnings, file };
}

/** The validated config of `text`, the stack file's content; errors in it are refused as such. */
function validForEdit(dir: string, stack: string, file: string, text: string): StackConfig {
  const notChanged = `${path.basename(file)} was not changed: fix its errors first.`;
  let flat: Record<string, string>;
  try {
    const raw = parseYamlText(file, text).toJS() as { config?: unknown } | null;
    flat = flattenStackConfig(readProjectFile(dir), stack, file, raw?.config).flat;
  } catch (e) {
    if (e instanceof StackFileError) throw new StackFileError(`${notChanged}\n${e.message}`);
    throw e;
  }
  const result = validateStackConfig(stack, flat, { gcpKeys: gcpConfigKeys });
  if (!result.ok) throw new StackFileError(`${notChanged}\n${formatIssues(stack, result.issues)}`);
  return result.config;
}

/**
 * The validated config of a stack file about to be edited. A missing stack, or a file that cannot be
 * edited, is said as such (not as errors to fix in it); one with errors is refused.
 */
export function loadForEdit(dir: string, stack: string): StackConfig {
  const file = editableStackFile(dir, stack);
  return validForEdit(dir, stack, file, readText(file));
}

export interface EditResult {
  readonly changed: boolean;
  readonly before: StackConfig;
  readonly after: StackConfig;
  readonly file: string;
  /** Warnings of the edit, e.g. an advisory guardrail it breaks. */
  readonly warnings: readonly string[];
}

/** What a decision returns: the edits, and warnings to show whether or not anything changes. */
export type Decision = Edit[] | { readonly edits: Edit[]; readonly warnings: readonly string[] };

/**
 * Edits `Pulumi.<stack>.yaml` in place: under the file's lock, reads it once, computes the edits from
 * its validated config, applies them to the YAML document (comments and layout kept), validates the
 * result as the program would, and only then replaces the file atomically. Any refusal leaves the file
 * byte for byte as it was; two edits at once both land, one after the other.
 */
export function editStack(dir: string, stack: string, decide: (config: StackConfig) => Decision): EditResult {
  const file = editableStackFile(dir, stack);
  return withStackFile(file, (text) => {
    const before = validForEdit(dir, stack, file, text);
    const decision = decide(before);
    const { edits, warnings } = Array.isArray(decision) ? { edits: decision, warnings: [] } : decision;
    const unchanged = { changed: false, before, after: before, file, warnings };
    if (edits.length === 0) return { result: unchanged };

    const doc: Document = parseDocument(text);
    applyToDocument(doc, edits);
    const after = validEdited(dir, stack, file, doc, "it would make the stack invalid");
    const rendered = renderDocument(doc, text);
    // Edits that set what is already there are no change: the file is not written.
    if (keepLayout(rendered, text) === text) return { result: unchanged };
    return { result: { changed: true, before, after, file, warnings }, text: rendered };
  });
}

/**
 * Refuses, as `editStack` would, edits that would make the stack invalid, without writing or locking:
 * for a check before slow work (a network read) that must not be wasted on an edit bound to fail.
 */
export function checkEdits(dir: string, stack: string, edits: readonly Edit[]): void {
  const file = editableStackFile(dir, stack);
  const result = validateWithEdits(dir, stack, file, edits);
  if (!result.ok)
    throw new StackFileError(
      `${path.basename(file)} was not changed: it would make the stack invalid.\n${formatIssues(stack, result.issues)}`,
    );
}

/** The stack as `edits` would leave `file`, validated as the program validates it; nothing is written. */
export function validateWithEdits(dir: string, stack: string, file: string, edits: readonly Edit[]) {
  const doc: Document = parseDocument(fs.readFileSync(file, "utf8"));
  applyToDocument(doc, edits);
  return validateDocument(dir, stack, file, doc);
}

function validateDocument(dir: string, stack: string, file: string, doc: Document) {
  const flat = flattenStackConfig(
    readProjectFile(dir),
    stack,
    file,
    (doc.toJS() as { config?: unknown })?.config,
  ).flat;
  return validateStackConfig(stack, flat, { gcpKeys: gcpConfigKeys });
}

/** The config of an edited document; a change that makes it invalid is refused, saying `why`. */
export function validEdited(
  dir: string,
  stack: string,
  file: string,
  doc: Document,
  why: string,
): StackConfig {
  const result = validateDocument(dir, stack, file, doc);
  if (!result.ok)
    throw new StackFileError(
      `${path.basename(file)} was not changed: ${why}.\n${formatIssues(stack, result.issues)}`,
    );
  return result.config;
}

/**
 * The path of a stack file that can be edited: it exists, is a file, and is writable. Checked before
 * any work, so a refusal costs nothing and names the fix.
 */
export function editableStackFile(dir: string, stack: string): string {
  const file = existingStackFile(dir, stack);
  refuseReadOnly(file);
  return file;
}

function refuseReadOnly(file: string): void {
  const mode = fs.statSync(file).mode;
  if ((mode & 0o222) === 0)
    throw new StackFileError(
      `${path.basename(file)} is read-only (mode ${(mode & 0o777).toString(8)}), so it was not changed: ` +
        `make it writable (chmod u+w ${file}) and run the command again.`,
    );
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw fsProblem(e, file, "read");
  }
}

/** A lock older than this is stale: its holder was killed mid-edit. An edit takes milliseconds. */
const LOCK_STALE_MS = 10_000;
/** How long an edit waits for another to finish before giving up. */
const LOCK_WAIT_MS = LOCK_STALE_MS + 5_000;

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Read-modify-write of a stack file, safe against other orchestra commands and other editors:
 * proper-lockfile's lock (`<file>.lock`, beside the real file, so every link to it shares it) is held
 * from the read to the atomic rename, so concurrent edits take turns and each reads what the other
 * wrote; and the file is read again just before the write, so a change by anything that does not take
 * the lock (an editor, `pulumi config set`) refuses the edit rather than being overwritten.
 * `edit` gets the text as read and returns its result, and the new text (LF line endings, no BOM) when
 * the file changes; the file's BOM and line endings are kept.
 */
export function withStackFile<T>(file: string, edit: (text: string) => { result: T; text?: string }): T {
  const real = fs.realpathSync(file);
  const release = lockStackFile(real, file);
  try {
    const original = readText(real);
    const { result, text } = edit(original);
    if (text === undefined) return result;
    if (readText(real) !== original)
      throw new StackFileError(
        `${path.basename(file)} was not changed: the file changed meanwhile (edited by something else). Run the command again.`,
      );
    writeStackFile(real, keepLayout(text, original));
    return result;
  } finally {
    release();
  }
}

function lockStackFile(real: string, shown: string): () => void {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      return lockfile.lockSync(real, { realpath: false, stale: LOCK_STALE_MS });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ELOCKED") throw fsProblem(e, shown, "lock");
      if (Date.now() > deadline)
        throw new StackFileError(
          `${path.basename(shown)} was not changed: another orchestra command has been editing it for ` +
            `${LOCK_WAIT_MS / 1000} s (lock ${real}.lock). Run the command again once it is done, or ` +
            "remove that lock folder if no orchestra command is running.",
        );
      sleep(25 + Math.random() * 50);
    }
  }
}

/** A permission or read-only-filesystem error as one line naming the path and the fix; others unchanged. */
export function fsProblem(e: unknown, file: string, doing: "read" | "lock" | "write"): unknown {
  const err = e as NodeJS.ErrnoException;
  if (!["EACCES", "EPERM", "EROFS"].includes(err?.code ?? "")) return e;
  const where = err.path ?? file;
  const name = path.basename(file);
  const verb = { read: "could not be read", lock: "could not be locked", write: "could not be written" }[
    doing
  ];
  const fix =
    err.code === "EROFS"
      ? "the filesystem is read-only: edit a writable checkout"
      : doing === "read"
        ? `make it readable (chmod u+r ${file})`
        : `make the folder writable (chmod u+w ${path.dirname(where)}), or run as its owner`;
  return new StackFileError(
    `${name} was not changed: it ${verb} (${err.code} on ${where}); ${fix}, then run the command again.`,
  );
}

/**
 * Replaces a stack file atomically (a crash leaves the old text or the new one), keeping its mode and
 * owner. A symlinked stack file is written through the link, which stays a link. A read-only file is
 * refused: someone made it so on purpose, and a rename would silently replace it.
 */
export function writeStackFile(file: string, text: string): void {
  refuseReadOnly(file);
  try {
    writeFileAtomicSync(file, text);
  } catch (e) {
    throw fsProblem(e, file, "write");
  }
}
