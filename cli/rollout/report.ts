import type { RolloutReport } from "./machine";

/** The report as markdown: final state and reason, then each step with its verification and verdicts. */
export function reportMarkdown(r: RolloutReport): string {
  const lines = [
    `## Rollout of ${r.service} on ${r.stack}: ${r.final ?? "unfinished"}`,
    "",
    `- Image: \`${r.image}\``,
    `- Steps: ${r.steps.map((s) => `${s}%`).join(" → ")}`,
    `- Started ${r.startedAt}${r.finishedAt ? `, finished ${r.finishedAt}` : ""}`,
    `- Reason: ${r.reason ?? "-"}`,
    "",
  ];
  for (const s of r.records) {
    lines.push(`### Step ${s.percent}%`, "");
    lines.push(`- Started ${s.startedAt}${s.finishedAt ? `, verified ${s.finishedAt}` : ", not verified"}`);
    if (s.regions?.length) {
      const regions = s.regions.map(
        (r) =>
          `${r.region} ${r.ok ? "ready" : "NOT ready"} (latest ready ${r.latestReadyRevision ?? "none"}, canary ${r.canaryPercent}%)`,
      );
      lines.push(`- Readiness of ${s.revision ?? "?"}: ${regions.join("; ")}`);
    }
    lines.push(`- Verification: ${s.verification ?? "-"}`);
    for (const [i, a] of s.analyses.entries()) {
      lines.push(`- Analysis ${i + 1} (${a.window.start} to ${a.window.end}): **${a.result.outcome}**`, "");
      lines.push("  | metric | verdict | explanation |", "  | --- | --- | --- |");
      for (const v of a.result.verdicts)
        lines.push(`  | ${v.metric} | ${v.outcome} | ${v.explanation.replace(/\|/g, "\\|")} |`);
      lines.push("");
    }
    if (s.decision) lines.push(`- Decision: ${s.decision}`, "");
  }
  return `${lines.join("\n")}\n`;
}
