import * as fs from "node:fs";
import * as path from "node:path";
import { sync as writeFileAtomicSync } from "write-file-atomic";
import { parseDocument, type Document } from "yaml";
import type { Edit } from "../model/canary/edits";
import { applyToDocument, renderDocument } from "./yamlEdits";
import { formatIssues } from "../config/errors";
import { gcpConfigKeys } from "../config/gcpKeys";
import type { StackConfig } from "../model/types";
import { validateStackConfig } from "../config/validate";
import {
  flattenStackConfig,
  readProjectFile,
  readStackConfig,
  stackFilePath,
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

/** The validated config of a stack file about to be edited; one with errors is refused as such. */
export function loadForEdit(dir: string, stack: string): StackConfig {
  try {
    return loadValidStack(dir, stack).config;
  } catch (e) {
    if (!(e instanceof StackFileError)) throw e;
    const file = path.basename(stackFilePath(dir, stack));
    throw new StackFileError(`${file} was not changed: fix its errors first.\n${e.message}`);
  }
}

export interface EditResult {
  readonly changed: boolean;
  readonly before: StackConfig;
  readonly after: StackConfig;
  readonly file: string;
}

/**
 * Edits `Pulumi.<stack>.yaml` in place: computes the edits from the validated config, applies them
 * to the YAML document (comments and layout kept), validates the result as the program would, and
 * only then replaces the file atomically. Any refusal leaves the file byte for byte as it was.
 */
export function editStack(dir: string, stack: string, decide: (config: StackConfig) => Edit[]): EditResult {
  const file = stackFilePath(dir, stack);
  const before = loadForEdit(dir, stack);
  const edits = decide(before);
  if (edits.length === 0) return { changed: false, before, after: before, file };

  const text = fs.readFileSync(file, "utf8");
  const doc: Document = parseDocument(text);
  applyToDocument(doc, edits);
  const project = readProjectFile(dir);
  const flat = flattenStackConfig(project, stack, file, (doc.toJS() as { config?: unknown })?.config).flat;
  const result = validateStackConfig(stack, flat, { gcpKeys: gcpConfigKeys });
  if (!result.ok) {
    throw new StackFileError(
      `The change was not written: it would make the stack invalid.\n${formatIssues(stack, result.issues)}`,
    );
  }

  writeStackFile(file, renderDocument(doc, text));
  return { changed: true, before, after: result.config, file };
}

/**
 * Replaces a stack file atomically (a crash leaves the old text or the new one), keeping its mode and
 * owner. A symlinked stack file is written through the link, which stays a link. A read-only file is
 * refused: someone made it so on purpose, and a rename would silently replace it.
 */
export function writeStackFile(file: string, text: string): void {
  if ((fs.statSync(file).mode & 0o222) === 0)
    throw new StackFileError(
      `${path.basename(file)} is read-only, so it was not changed: make it writable (chmod u+w ${file}) and run the command again.`,
    );
  writeFileAtomicSync(file, text);
}
