import { isMap, isScalar, type Document } from "yaml";
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
    const parent = doc.getIn(edit.path.slice(0, -1), true);
    const key = edit.path[edit.path.length - 1];
    if (edit.after && isMap(parent) && !parent.has(key)) {
      const at = parent.items.findIndex(
        (pair) => String((pair.key as { value?: unknown })?.value ?? pair.key) === edit.after,
      );
      if (at >= 0) {
        parent.items.splice(at + 1, 0, doc.createPair(key, edit.value));
        continue;
      }
    }
    doc.setIn(edit.path, doc.createNode(edit.value));
  }
}

/**
 * The edited document as text, touching only the lines the edit changes: long values (log filters,
 * descriptions) are never folded, flow lists keep their spacing, and a comment that ends the file keeps its original spacing (the
 * yaml library always puts a blank line before it).
 */
export function renderDocument(doc: Document, originalText: string): string {
  // Flow collections keep the file's spelling: `[page]` stays `[page]` unless the file pads them.
  const padded = /[[{] [^\s\]}]/.test(originalText) && !/[[{][^\s\]}]/.test(originalText);
  const text = doc.toString({ lineWidth: 0, flowCollectionPadding: padded });
  if (!doc.comment) return text;
  const firstLine = `#${doc.comment.split("\n")[0]}`;
  const at = text.lastIndexOf(`\n\n${firstLine}`);
  if (at < 0 || originalText.includes(`\n\n${firstLine}`)) return text;
  return text.slice(0, at) + text.slice(at + 1);
}
