/**
 * Values unknown during a preview. The policy engine marks them with sentinel strings
 * (@pulumi/policy's proxy.ts), or leaves the property out; the offline render never has any.
 * Rules read values through `known`, which throws `UnknownValue`; the runner turns that into a skip.
 */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");

const SENTINELS = new Set([
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", // boolean
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421", // number
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9", // string
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", // array
  "030794c1-ac77-496b-92df-f27374a8bd58", // asset
  "e48ece36-62e2-4504-bad9-02848725956a", // archive
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", // object
]);

/** Plain data with every unknown sentinel replaced by `UNKNOWN`. */
export function normalizeUnknowns(value: unknown): unknown {
  if (typeof value === "string" && SENTINELS.has(value)) return UNKNOWN;
  if (Array.isArray(value)) return value.map(normalizeUnknowns);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeUnknowns(v)]));
  }
  return value;
}

export class UnknownValue extends Error {
  constructor(readonly path: string) {
    super(`${path} is unknown until the update runs`);
  }
}

/**
 * The value at `path` (dots and array indexes: `template.containers.0.image`). An unknown value, or a
 * missing one where `required` (a property the program always sets can only be missing because the
 * engine does not know it yet), throws `UnknownValue`.
 */
export function known(obj: unknown, path: string, required = false): unknown {
  let at: unknown = obj;
  for (const key of path.split(".")) {
    if (at === UNKNOWN) throw new UnknownValue(path);
    if (at === undefined || at === null || typeof at !== "object") {
      if (required) throw new UnknownValue(path);
      return undefined;
    }
    at = (at as Record<string, unknown>)[key];
  }
  if (at === UNKNOWN || (required && at === undefined)) throw new UnknownValue(path);
  return at;
}

/** Every string inside a value, with its path; throws `UnknownValue` on an unknown part. */
export function strings(value: unknown, path = ""): { path: string; value: string }[] {
  if (value === UNKNOWN) throw new UnknownValue(path || "(value)");
  if (typeof value === "string") return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, path ? `${path}.${i}` : String(i)));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => strings(v, path ? `${path}.${k}` : k));
  }
  return [];
}
