import { createHash } from "node:crypto";

/**
 * Pulumi autonames these resources `<name>-<7 random characters>`, and Compute Engine names are at
 * most 63 characters: names stay within 55. Longer ones (a 40-character service in a long region
 * name) keep a readable prefix and end in a hash of the full name, so they stay distinct and stable.
 */
export const MAX_NAME = 55;

export function shortName(full: string, max = MAX_NAME): string {
  if (full.length <= max) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 6);
  return `${full.slice(0, max - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}
