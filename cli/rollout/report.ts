import type { PhaseRecord, RolloutReport } from "./machine";

const regionsLine = (p: PhaseRecord): string | undefined =>
  p.regions?.length
    ? `- Cloud Run: ${p.regions
        .map(
          (r) =>
            `${r.region} ${r.outcome === "ok" ? "ok" : r.outcome.toUpperCase()} (${r.detail}` +
            `${r.canaryPercent !== undefined ? `; canary ${r.canaryPercent}%` : ""})`,
        )
        .join("; ")}`
    : undefined;

/** The apply attempts, the live regions and the verification of one phase. */
function phaseLines(p: PhaseRecord): string[] {
  const lines: string[] = [];
  if (p.applies.length > 0) lines.push(`- pulumi up: ${p.applies.join("; then ")}`);
  const regions = regionsLine(p);
  if (regions) lines.push(regions);
  lines.push(`- Verification: ${p.verification ?? "-"}`);
  return lines;
}

/** The report as markdown: final state and reason, then staging, each step, promotion or rollback. */
export function reportMarkdown(r: RolloutReport): string {
  const lines = [
    `## Rollout of ${r.service} on ${r.stack}: ${r.final ?? "unfinished"}`,
    "",
    `- Image: \`${r.image || "-"}\`${r.revision ? ` (revision \`${r.revision}\`)` : ""}`,
    `- Steps: ${r.steps.length > 0 ? r.steps.map((s) => `${s}%`).join(" → ") : "-"}` +
      (r.requestedSteps.join() !== r.steps.join() && r.steps.length > 0
        ? ` (asked: ${r.requestedSteps.map((s) => `${s}%`).join(" → ")})`
        : ""),
    `- Started ${r.startedAt}${r.finishedAt ? `, finished ${r.finishedAt}` : ""}`,
    `- Reason: ${r.reason ?? "-"}`,
  ];
  if (r.next) lines.push(`- Next: \`${r.next}\``);
  for (const n of r.notes) lines.push(`- Note: ${n}`);
  if (r.preflight) {
    if (r.preflight.problems.length > 0)
      for (const p of r.preflight.problems) lines.push(`- Preflight failed: ${p}`);
    else if (r.preflight.notes.length > 0) lines.push(`- Preflight: ${r.preflight.notes.join("; ")}`);
  }
  lines.push("");
  if (r.staging) {
    lines.push("### Staging", "");
    lines.push(
      `- Started ${r.staging.startedAt}${r.staging.finishedAt ? `, ready ${r.staging.finishedAt}` : ", not ready"}`,
    );
    lines.push(...phaseLines(r.staging), "");
  }
  for (const s of r.records) {
    lines.push(`### Step ${s.percent}%`, "");
    lines.push(`- Started ${s.startedAt}${s.finishedAt ? `, verified ${s.finishedAt}` : ", not verified"}`);
    lines.push(...phaseLines(s));
    for (const f of s.failedReads) lines.push(`- Metrics read failed at ${f.at}: ${f.reason}`);
    for (const [i, a] of s.analyses.entries()) {
      lines.push(`- Look ${i + 1} (${a.window.start} to ${a.window.end}): **${a.decision}**`, "");
      lines.push("  | region | test | verdict | explanation |", "  | --- | --- | --- | --- |");
      for (const v of a.verdicts)
        lines.push(
          `  | ${v.region || "-"} | ${v.test} | ${v.outcome} | ${v.explanation.replace(/\|/g, "\\|")} |`,
        );
      lines.push("");
    }
    if (s.decision) lines.push(`- Decision: ${s.decision}`);
    lines.push("");
  }
  if (r.promotion) lines.push("### Promotion", "", ...phaseLines(r.promotion), "");
  if (r.rollback)
    lines.push("### Rollback", "", `- Why: ${r.rollback.reason}`, ...phaseLines(r.rollback), "");
  return `${lines.join("\n")}\n`;
}
