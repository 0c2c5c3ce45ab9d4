import { declaredFromResources } from "../../model/cost/declared";
import { cents, costChanges, estimate, type CostChange, type Estimate } from "../../model/cost/estimate";
import type { RenderedStack } from "../../render/renderStack";

/** The always-on baseline of both sides of a diff, and what moves between them. */
export interface CostDiff {
  /** Undefined when the stack does not exist at the base. */
  readonly before?: Estimate;
  readonly after: Estimate;
  /** Services, the balancer and Cloud Armor whose monthly cost moves; empty when nothing does. */
  readonly changes: readonly CostChange[];
}

/** Both renders priced as Cloud Run bills what they declare: a change in the program counts as well. */
export function costDiff(before: RenderedStack | undefined, after: RenderedStack): CostDiff {
  const b = before && estimate(declaredFromResources(before.resources));
  const a = estimate(declaredFromResources(after.resources));
  return { ...(b ? { before: b } : {}), after: a, changes: costChanges(b, a) };
}

/** The `cost` member of `orchestra diff --json`: totals and the lines that move, in USD a month. */
export function costJson(c: CostDiff) {
  return {
    priceTableDate: c.after.priceTableDate,
    beforeUsd: c.before ? cents(c.before.totalUsd) : 0,
    afterUsd: cents(c.after.totalUsd),
    complete: c.after.complete && (c.before?.complete ?? true),
    changes: c.changes.map((x) => ({
      item: x.item,
      beforeUsd: cents(x.beforeUsd),
      afterUsd: cents(x.afterUsd),
    })),
  };
}
