import { createHash } from "node:crypto";
import type { RevisionTemplate } from "./template";

/** Cloud Run's revision name rules: lowercase, digits, '-', starts with a letter, no trailing '-', <= 63. */
export const REVISION_NAME = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const HASH_LENGTH = 10;

/** JSON with sorted keys, so that equal templates always serialise to equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The revision name for a template: `<service>-<hash of the template>`. Revisions are immutable and
 * Cloud Run answers 409 when a name is reused with a different template; a content hash makes equal
 * names mean equal templates, and gives every change (image, env, memory...) a new name.
 */
export function revisionName(service: string, template: RevisionTemplate): string {
  const hash = createHash("sha256").update(canonicalJson(template)).digest("hex").slice(0, HASH_LENGTH);
  return `${service}-${hash}`;
}
