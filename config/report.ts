import type { z } from "zod";

/** A refinement's context, whatever the schema it refines. */
export type Ctx = z.RefinementCtx<unknown>;

/**
 * Adds a cross-field issue at `path` (relative to the refined object). `value` is what the message
 * shows as the bad value when it is not simply the value at the path, or `MISSING`.
 */
export function report(ctx: Ctx, path: readonly PropertyKey[], message: string, value?: unknown): void {
  ctx.addIssue({
    code: "custom",
    path: [...path],
    message,
    input: undefined,
    params: value === undefined ? {} : { value },
  });
}

/** Passed as `report`'s value for a key that is missing. */
export const MISSING = Symbol("missing");

/** Passed as `report`'s value when the key itself is wrong, whatever its value. */
export const KEY = Symbol("key");

/** Whether nothing under `path` of the refined object has an issue yet. */
export function cleanAt(ctx: Ctx, ...path: PropertyKey[]): boolean {
  return !ctx.issues.some((i) => path.every((key, n) => i.path?.[n] === key));
}

/** Whether the value at `path` itself parsed (its type, or its presence); keys below it may still have issues. */
export function parsedAt(ctx: Ctx, ...path: PropertyKey[]): boolean {
  return !ctx.issues.some(
    (i) => i.path?.length === path.length && path.every((key, n) => i.path?.[n] === key),
  );
}

/** Runs a refinement only when everything below it parsed without any issue. */
export const whenClean = { when: (payload: { issues: readonly unknown[] }) => payload.issues.length === 0 };

/** Runs a refinement even after issues below it; it checks with `cleanAt` which parts it may read. */
export const always = { when: () => true };
