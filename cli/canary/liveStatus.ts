import {
  liveServiceStatus,
  type RegionPresent,
  type RegionStatus,
  type ServiceLiveStatus,
} from "../../model/canary/liveStatus";
import { describeSplit } from "../../model/canary/regions";
import type { ServicePlan } from "../../model/release/servicePlan";
import type { StackConfig } from "../../model/types";
import { AdminApiLiveCloudRun } from "../live/liveCloudRun";
import { color } from "../output";

/** Reads every service of a stack from the Cloud Run Admin API, all at once, and compares each with the file. */
export async function readLiveStatus(
  config: StackConfig,
  services: readonly ServicePlan[],
): Promise<Map<string, ServiceLiveStatus>> {
  const live = new AdminApiLiveCloudRun(config.project);
  const statuses = await Promise.all(
    services.map(async (sp) => {
      const read = await live.read(sp.service.name, sp.service.regions);
      const status = liveServiceStatus({
        stack: config.stack,
        service: sp.service,
        plan: sp.plan,
        reads: read.regions,
      });
      return [sp.service.name, status] as const;
    }),
  );
  return new Map(statuses);
}

const HEALTH_COLOR = { healthy: color.green, reconciling: color.yellow, failed: color.red } as const;

/** One service's regions, disagreements and next step, indented under its summary line. */
export function formatLiveStatus(status: ServiceLiveStatus, project: string): string[] {
  const lines: string[] = [];
  const width = Math.max(...status.regions.map((r) => r.region.length));
  for (const r of status.regions) lines.push(...regionLines(r, width, status.service, project));
  for (const d of status.disagreements) lines.push(color.red(`    error: ${d}`));
  const next = `    next: ${status.advice.text}`;
  lines.push(status.ok ? color.cyan(next) : color.yellow(next));
  return lines;
}

function regionLines(r: RegionStatus, width: number, service: string, project: string): string[] {
  const head = `    ${r.region.padEnd(width)}  `;
  const detail = (label: string, text: string) => `    ${" ".repeat(width)}  ${label.padEnd(9)} ${text}`;
  if (r.read === "failed") {
    return [
      head + color.red(`not read (${r.failure.kind}): ${r.failure.reason}`),
      detail("fix:", r.failure.fix),
    ];
  }
  // What was asked, so that a wrong project or name in the stack file shows at once.
  if (!r.exists)
    return [
      head +
        color.yellow(
          `absent: the Admin API has no projects/${project}/locations/${r.region}/services/${service}`,
        ),
    ];
  return [head + summary(r), ...presentDetails(r).map(([label, text]) => detail(label, text))];
}

function summary(r: RegionPresent): string {
  const parts = [HEALTH_COLOR[r.health](r.health), `latest ready ${r.latestReadyRevision ?? "none"}`];
  if (r.latestCreatedRevision)
    parts.push(
      `latest created ${r.latestCreatedRevision}${r.failedRevision?.name === r.latestCreatedRevision ? " (failed)" : " (not ready)"}`,
    );
  if (r.reconciling) parts.push(color.yellow("reconciling"));
  return parts.join(", ");
}

function presentDetails(r: RegionPresent): [string, string][] {
  const rows: [string, string][] = [];
  if (r.terminalCondition?.message)
    rows.push(["update:", `${r.terminalCondition.state}: ${r.terminalCondition.message}`]);
  if (r.failedRevision && !r.terminalCondition?.message?.includes(r.failedRevision.message ?? "\0"))
    rows.push([
      "failed:",
      `${r.failedRevision.name}: ${r.failedRevision.message ?? r.failedRevision.reason ?? "no reason given"}`,
    ]);
  const matches = (m: boolean | undefined) =>
    m === undefined ? "" : m ? "  (the stack file's split)" : color.yellow("  (not the stack file's split)");
  rows.push(["serving:", describeSplit(r.serving) + matches(r.file?.servingMatches)]);
  // The asked list only tells something when it is not what serves.
  if (
    r.file
      ? r.file.askedMatches !== r.file.servingMatches
      : describeSplit(r.asked) !== describeSplit(r.serving)
  )
    rows.push(["asked:", describeSplit(r.asked) + matches(r.file?.askedMatches)]);
  if (r.file && !r.file.templateApplied)
    rows.push([
      "template:",
      color.yellow(`the file's revision ${r.file.templateRevision} is not the latest here`),
    ]);
  if (r.canary) {
    // The failed latest revision's message is shown above; a reason code is enough here.
    const shown = r.failedRevision?.name === r.canary.revision;
    const why = shown ? r.canary.reason : (r.canary.message ?? r.canary.reason);
    const text = {
      ready: color.green("ready"),
      failed: color.red("failed, will never serve"),
      "not-ready": color.yellow("not ready yet"),
      missing: color.yellow("not created yet"),
    }[r.canary.state];
    rows.push(["canary:", `${r.canary.revision} ${text}${why ? `: ${why}` : ""}`]);
    if (r.canary.imageProblem)
      rows.push(["image:", color.red(`${r.canary.revision}: ${r.canary.imageProblem}`)]);
  }
  return rows;
}
