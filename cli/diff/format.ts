import { signedUsd, usd } from "../../model/cost/estimate";
import { abbreviateDigests } from "../../model/imageRef";
import { color } from "../output";
import type { CostDiff } from "./cost";
import {
  hasChanges,
  splitText,
  type InputChange,
  type SecretChange,
  type StackDiff,
  type TrafficTarget,
} from "./stackDiff";

const MAX_VALUE = 100;

/** A value as one short line: digests abbreviated as `plan` shows them, long values cut in the middle. */
export function showValue(v: unknown): string {
  if (v === undefined) return "(absent)";
  const text = abbreviateDigests(typeof v === "string" ? v : JSON.stringify(v));
  return text.length > MAX_VALUE ? `${text.slice(0, 60)}…${text.slice(-30)}` : text;
}

/** A secret's change in words; its value is never known here, only that the ciphertext differs. */
function secretText(s: SecretChange): string {
  if (s.change === "added") return "secret added (value not shown)";
  if (s.change === "removed") return "secret removed";
  return "secret set again: the value may have changed (not shown; `pulumi preview` compares it)";
}

const revisionsMoved = (before: readonly TrafficTarget[], after: readonly TrafficTarget[]) =>
  after
    .filter((a) => {
      const b = before.find((x) => x.tag === a.tag);
      return b && b.revision !== a.revision;
    })
    .map((a) => `${a.tag} → ${a.revision}`);

function changeLine(c: InputChange): string {
  return `${c.path}: ${showValue(c.before)} → ${showValue(c.after)}`;
}

export interface DiffHeader {
  readonly stack: string;
  readonly base: string;
  /** Short commit of the base. */
  readonly baseCommit: string;
  /** The stack did not exist at the base. */
  readonly newStack: boolean;
}

/** Terminal text: traffic first, then added, removed and changed resources with their inputs. */
export function formatDiffText(d: StackDiff, h: DiffHeader, cost?: CostDiff): string {
  const lines = [color.bold(`Stack ${h.stack}: ${h.base} (${h.baseCommit}) → working tree`)];
  if (h.newStack) lines.push(`Pulumi.${h.stack}.yaml does not exist at ${h.base}: everything is new.`);
  if (!hasChanges(d)) {
    lines.push("No changes: both render the same resources with the same inputs.");
    return `${lines.join("\n")}\n`;
  }
  if (d.secrets.length) {
    lines.push("", color.bold(`Secrets (${d.secrets.length})`));
    for (const s of d.secrets) lines.push(`  ${color.yellow("~")} ${s.key}  ${secretText(s)}`);
  }
  lines.push("", color.bold("Traffic"));
  if (d.traffic.length === 0) lines.push("  no split changes");
  for (const t of d.traffic) {
    lines.push(`  ${t.service}: ${splitText(t.before)}  →  ${color.cyan(splitText(t.after))}`);
    for (const moved of revisionsMoved(t.before, t.after)) lines.push(`    ${moved}`);
  }
  if (cost) {
    lines.push("", color.bold("Monthly cost (always-on baseline)"));
    if (cost.changes.length === 0) lines.push(`  no change (${usd(cost.after.totalUsd)})`);
    for (const x of cost.changes)
      lines.push(
        `  ${x.item}: ${usd(x.beforeUsd)} → ${usd(x.afterUsd)} (${signedUsd(x.afterUsd - x.beforeUsd)})`,
      );
  }
  if (d.added.length) {
    lines.push("", color.bold(`Added (${d.added.length})`));
    for (const r of d.added) lines.push(`  ${color.green("+")} ${r.name}  ${r.type}`);
  }
  if (d.removed.length) {
    lines.push("", color.bold(`Removed (${d.removed.length})`));
    for (const r of d.removed) lines.push(`  ${color.red("-")} ${r.name}  ${r.type}`);
  }
  if (d.changed.length) {
    lines.push("", color.bold(`Changed (${d.changed.length})`));
    for (const r of d.changed) {
      lines.push(`  ${color.yellow("~")} ${r.name}  ${r.type}`);
      for (const c of r.changes) lines.push(`      ${changeLine(c)}`);
    }
  }
  lines.push("", `${d.unchanged} resource${d.unchanged === 1 ? "" : "s"} unchanged.`);
  return `${lines.join("\n")}\n`;
}

const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;
const cell = (s: string) => s.replace(/\|/g, "\\|");

/**
 * The monthly cost of the change: a row per service (then the balancer and Cloud Armor) whose
 * always-on baseline moves, and the total; one line when nothing moves.
 */
export function costMarkdown(c: CostDiff, stack: string): string[] {
  const before = c.before?.totalUsd ?? 0;
  const after = c.after.totalUsd;
  const incomplete = !c.after.complete || !(c.before?.complete ?? true);
  const out = ["#### Monthly cost", ""];
  if (c.changes.length === 0) out.push(`No change in the always-on baseline (${usd(after)} a month).`, "");
  else {
    out.push("| service | before | after | change |", "| --- | --- | --- | --- |");
    for (const x of c.changes)
      out.push(
        `| ${cell(x.item)} | ${usd(x.beforeUsd)} | ${usd(x.afterUsd)} | **${signedUsd(x.afterUsd - x.beforeUsd)}** |`,
      );
    out.push(`| total | ${usd(before)} | ${usd(after)} | **${signedUsd(after - before)}** |`, "");
  }
  if (incomplete)
    out.push(
      "⚠️ A region has no price in the table: its services count as $0 here (`orchestra cost` names it).",
      "",
    );
  out.push(
    `<sub>Always-on baseline only (min instances, forwarding rules, Cloud Armor), list prices of ${c.after.priceTableDate}, ${c.after.hoursPerMonth} hours a month; traffic-driven cost is not estimated. Details: \`orchestra cost --stack ${stack}\`.</sub>`,
    "",
  );
  return out;
}

/** A pull-request comment in GitHub-flavoured markdown. */
export function formatDiffMarkdown(d: StackDiff, h: DiffHeader, cost?: CostDiff): string {
  const out = [
    `### orchestra diff: stack \`${h.stack}\``,
    "",
    `Base: \`${h.base}\` (${h.baseCommit}) → this change.`,
    "",
  ];
  if (h.newStack) out.push(`\`Pulumi.${h.stack}.yaml\` is new: every resource is added.`, "");
  if (!hasChanges(d)) {
    out.push("No changes: both sides render the same resources with the same inputs.");
    return `${out.join("\n")}\n`;
  }
  if (d.secrets.length) {
    out.push("#### Secrets", "");
    for (const s of d.secrets) out.push(`- 🔑 ${code(s.key)}: ${secretText(s)}`);
    out.push("");
  }
  out.push("#### Traffic", "");
  if (d.traffic.length === 0) out.push("No split changes.", "");
  else {
    out.push("| service | before | after |", "| --- | --- | --- |");
    for (const t of d.traffic)
      out.push(`| ${cell(t.service)} | ${cell(splitText(t.before))} | **${cell(splitText(t.after))}** |`);
    out.push("");
  }
  if (cost) out.push(...costMarkdown(cost, h.stack));
  const summary = `${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed, ${d.unchanged} unchanged`;
  out.push(`#### Resources (${summary})`, "");
  for (const r of d.added) out.push(`- ➕ ${code(r.name)} (${code(r.type)})`);
  for (const r of d.removed) out.push(`- ➖ ${code(r.name)} (${code(r.type)})`);
  if (d.changed.length) {
    for (const r of d.changed) {
      out.push(`- ✏️ ${code(r.name)} (${code(r.type)})`);
      for (const c of r.changes)
        out.push(`  - ${code(c.path)}: ${code(showValue(c.before))} → ${code(showValue(c.after))}`);
    }
  }
  out.push(
    "",
    "<sub>Rendered offline under Pulumi mocks; computed values are stand-ins and secrets print as [secret]. `pulumi preview` compares with what is deployed.</sub>",
  );
  return `${out.join("\n")}\n`;
}
