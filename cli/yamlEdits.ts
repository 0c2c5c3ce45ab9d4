import { isMap, isScalar, type Document, type YAMLMap } from "yaml";
import type { Edit } from "../model/canary/edits";

/** Applies edits to a YAML document in place, keeping every comment and the layout around them. */
export function applyToDocument(doc: Document, edits: readonly Edit[]): void {
  for (const edit of edits) {
    if (edit.op === "delete") {
      doc.deleteIn(edit.path);
      continue;
    }
    // Changing a scalar in place keeps the comment attached to it (`percent: 10 # ...`).
    const existing = doc.getIn(edit.path, true);
    if (isScalar(existing) && (edit.value === null || typeof edit.value !== "object")) {
      existing.value = edit.value;
      continue;
    }
    // A map set over a map is merged key by key, so the comments on the keys it keeps stay
    // (`canary start` over a rolled-back canary keeps `percent: 10 # ...`).
    if (isMap(existing) && isPlainObject(edit.value)) {
      mergeInto(doc, edit.path, existing, edit.value);
      continue;
    }
    const parent = doc.getIn(edit.path.slice(0, -1), true);
    const key = edit.path[edit.path.length - 1];
    if (edit.after && isMap(parent) && !parent.has(key)) {
      const at = parent.items.findIndex((pair) => keyOf(pair) === edit.after);
      if (at >= 0) {
        parent.items.splice(at + 1, 0, doc.createPair(key, edit.value));
        continue;
      }
    }
    doc.setIn(edit.path, doc.createNode(edit.value));
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const keyOf = (pair: { key: unknown }) => String((pair.key as { value?: unknown })?.value ?? pair.key);

function mergeInto(doc: Document, at: readonly string[], map: YAMLMap, value: Record<string, unknown>): void {
  map.items = map.items.filter((pair) => keyOf(pair) in value);
  let previous: string | undefined;
  for (const [key, v] of Object.entries(value)) {
    applyToDocument(doc, [{ op: "set", path: [...at, key], value: v, after: previous }]);
    previous = key;
  }
}

/**
 * The edited document as text, touching only the lines the edit changes: long values (log filters,
 * descriptions) are never folded, flow lists keep their spacing, and a comment that ends the file keeps its original spacing (the
 * yaml library always puts a blank line before it).
 */
export function renderDocument(doc: Document, original: string): string {
  const originalText = original.replace(/\r\n/g, "\n");
  // Flow collections keep the file's spelling: `[page]` stays `[page]` unless the file pads them.
  const padded = /[[{] [^\s\]}]/.test(originalText) && !/[[{][^\s\]}]/.test(originalText);
  const text = doc.toString({ lineWidth: 0, flowCollectionPadding: padded });
  if (!doc.comment) return text;
  // As yaml writes it: a bare `#` is held as " " and written without the space.
  const firstLine = `#${doc.comment.split("\n")[0]}`.trimEnd();
  const at = text.lastIndexOf(`\n\n${firstLine}`);
  if (at < 0 || originalText.includes(`\n\n${firstLine}`)) return text;
  return text.slice(0, at) + text.slice(at + 1);
}

/**
 * `text` (as the yaml library writes it: LF, no byte order mark) in the layout of `original`: its
 * byte order mark and its line endings (CRLF when its first line ends so) are kept.
 */
export function keepLayout(text: string, original: string): string {
  const bom = original.startsWith("\uFEFF") ? "\uFEFF" : "";
  const crlf = /^[^\n]*\r\n/.test(original);
  const body = keepTrailingSpace(text.replace(/^\uFEFF/, "").replace(/\r\n/g, "\n"), original);
  return bom + (crlf ? body.replace(/\n/g, "\r\n") : body);
}

/**
 * The yaml library drops whitespace at the end of a line (after a comment, say). When the edit kept the
 * file's lines one for one (a value changed in place), a line keeps the whitespace it ended with if it
 * is the same line: equal but for that whitespace, or ending in the same comment.
 */
function keepTrailingSpace(text: string, original: string): string {
  const before = original
    .replace(/^\uFEFF/, "")
    .replace(/\r\n/g, "\n")
    .split("\n");
  const after = text.split("\n");
  if (before.length !== after.length) return text;
  const comment = (line: string) => / #.*$/.exec(line.trimEnd())?.[0];
  return after
    .map((line, i) => {
      const space = /[ \t]+$/.exec(before[i])?.[0];
      if (!space || /[ \t]$/.test(line)) return line;
      const sameComment = comment(line) !== undefined && comment(line) === comment(before[i]);
      return line === before[i].trimEnd() || sameComment ? line + space : line;
    })
    .join("\n");
}
