/** A change to a stack file, as a path from the file's root. */
export type Edit =
  | {
      readonly op: "set";
      readonly path: readonly string[];
      readonly value: unknown;
      /** For a new key: the sibling to place it after, so related settings stay together. */
      readonly after?: string;
    }
  | { readonly op: "delete"; readonly path: readonly string[] };

/** Applies edits to plain data, returning a new object (used by tests and simulations). */
export function applyToObject<T>(root: T, edits: readonly Edit[]): T {
  const copy = structuredClone(root) as Record<string, unknown>;
  for (const edit of edits) {
    const parent = edit.path.slice(0, -1).reduce<Record<string, unknown>>((node, key) => {
      if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
      return node[key] as Record<string, unknown>;
    }, copy);
    const last = edit.path[edit.path.length - 1];
    if (edit.op === "set") parent[last] = structuredClone(edit.value);
    else delete parent[last];
  }
  return copy as T;
}
