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
 * The content name of a template: `<service>-<hash of the template>`. Revisions are immutable and
 * Cloud Run answers 409 when a name is reused with a different template; a content hash makes equal
 * names mean equal templates, and gives every change (image, env, memory...) a new name.
 */
export function revisionName(service: string, template: RevisionTemplate): string {
  const hash = createHash("sha256").update(canonicalJson(template)).digest("hex").slice(0, HASH_LENGTH);
  return `${service}-${hash}`;
}

/**
 * The name of one release attempt: the content name and a suffix unique to the attempt. A revision
 * that failed stays failed, and sending its name again never re-creates it, so every `canary start`
 * names a revision that was never used.
 */
export function attemptRevisionName(service: string, template: RevisionTemplate, attempt: string): string {
  return `${revisionName(service, template)}-${attempt}`;
}

/**
 * An attempt suffix from a clock: seconds since 2025 in base 36 (6 characters until 2094), so names
 * sort by start time and two starts of one release a second apart differ.
 */
export function attemptId(nowMs: number): string {
  return attemptText(Math.max(0, Math.floor((nowMs - Date.UTC(2025, 0, 1)) / 1000)));
}

/**
 * The attempt of a start at `nowMs`: the clock's, or the one after the latest attempt the service's
 * recorded revisions carry when that is not earlier (a second start within the second of a rolled-back
 * one, or a clock behind the last start's), so a start never names a revision already used.
 */
export function nextAttemptId(nowMs: number, recorded: readonly (string | undefined)[]): string {
  const clock = parseInt(attemptId(nowMs), 36);
  const latest = Math.max(-1, ...recorded.map(attemptOf).filter((a): a is number => a !== undefined));
  return attemptText(Math.max(clock, latest + 1));
}

const attemptText = (seconds: number) => seconds.toString(36).padStart(6, "0");

/** The attempt a revision name carries, as a number, or undefined for a content name. */
function attemptOf(name: string | undefined): number | undefined {
  const m = name === undefined ? null : new RegExp(`-[0-9a-f]{${HASH_LENGTH}}-([0-9a-z]{6,})$`).exec(name);
  return m ? parseInt(m[1], 36) : undefined;
}

/**
 * Whether revision `name` was built from `template`: its content name, or an attempt of it. Used to
 * tell a pinned revision that can still be reproduced exactly from one whose settings changed since.
 */
export function builtFrom(name: string, service: string, template: RevisionTemplate): boolean {
  const content = revisionName(service, template);
  return (
    name === content || (name.startsWith(`${content}-`) && !name.slice(content.length + 1).includes("-"))
  );
}
