import { z } from "zod";
import { toBuckets } from "../../model/judgment/distribution";
import type { JudgeInput } from "../../model/judgment/input";

/**
 * The input of `orchestra rollout judge` (model/judgment/input.ts), validated: a bad input is refused
 * with the scenario (index and name) and the field, before anything is judged.
 */
const count = z.number().int().nonnegative();
const positive = z.number().positive();

const bucketOptions = z.union([
  z.strictObject({
    exponentialBuckets: z.strictObject({
      numFiniteBuckets: z.number().int().positive(),
      growthFactor: z.number().gt(1),
      scale: positive,
    }),
  }),
  z.strictObject({
    linearBuckets: z.strictObject({
      numFiniteBuckets: z.number().int().positive(),
      width: positive,
      offset: z.number(),
    }),
  }),
  z.strictObject({ explicitBuckets: z.strictObject({ bounds: z.array(z.number()).min(1) }) }),
]);

const distribution = z
  .strictObject({ count, bucketOptions, bucketCounts: z.array(count) })
  .superRefine((d, ctx) => {
    try {
      toBuckets(d);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
    }
  });

/** A service's model calls (docs/llm.md): optional, and only a service that logs them has it. */
const llm = z
  .strictObject({
    calls: count,
    providerErrors: count,
    outputTokens: distribution.optional(),
    timeToFirstToken: distribution.optional(),
  })
  .refine((l) => l.providerErrors <= l.calls, {
    message: "providerErrors cannot exceed calls",
    path: ["providerErrors"],
  });

const side = z.strictObject({
  requests: z.strictObject({ "2xx": count, "3xx": count, "4xx": count, "5xx": count }),
  latencies: distribution,
  llm: llm.optional(),
});
const regionSides = z.strictObject({ canary: side, stable: side, baseline: side.optional() });
const interval = z.union([
  regionSides,
  z.strictObject({
    regions: z
      .record(z.string(), regionSides)
      .refine((r) => Object.keys(r).length > 0, "needs at least one region"),
  }),
]);
const step = z.strictObject({
  percent: z.number().int().min(1).max(100),
  intervals: z.array(interval).min(1, "needs at least one interval"),
});
const scenario = z.strictObject({ name: z.string(), steps: z.array(step).min(1, "needs at least one step") });
const input = z.strictObject({ scenarios: z.array(scenario) });

/** `[0].steps[2].intervals[1]`-style path of a zod issue. */
const pathText = (path: readonly PropertyKey[]) =>
  path
    .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
    .join("")
    .replace(/^\./, "");

/**
 * Parses the judge's input; throws an Error whose message names each problem (up to five) by scenario
 * index and name and the field's path, with what is wrong.
 */
export function parseJudgeInput(text: string, source: string): JudgeInput {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source} is not JSON: ${(e as Error).message}`);
  }
  const result = input.safeParse(json);
  if (result.success) return result.data as JudgeInput;
  const scenarios = (json as { scenarios?: unknown[] } | null)?.scenarios;
  const lines = result.error.issues.slice(0, 5).map((issue) => {
    const [top, index, ...rest] = issue.path;
    if (top === "scenarios" && typeof index === "number") {
      const name = (scenarios?.[index] as { name?: unknown } | undefined)?.name;
      const named = typeof name === "string" ? ` ("${name}")` : "";
      return `scenario ${index}${named}: ${pathText(rest) || "(the scenario)"}: ${issue.message}`;
    }
    return `${pathText(issue.path) || "(the document)"}: ${issue.message}`;
  });
  const more = result.error.issues.length > 5 ? `\n  ... and ${result.error.issues.length - 5} more` : "";
  throw new Error(
    `${source} is not a valid judge input (see docs/canary-and-rollout.md#replaying-a-rollout):\n  ${lines.join("\n  ")}${more}`,
  );
}
