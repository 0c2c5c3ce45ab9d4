import { shortImage } from "../model/imageRef";
import type { ServicePlan } from "../model/release/servicePlan";
import { color, table } from "./output";

const STATE_TEXT = {
  stable: "stable only",
  staged: "staged (the canary revision is created with no traffic until it is ready)",
  canary: "canary",
  "dark-launch": "dark launch (canary at 0%, reachable at its tag URL)",
  "rolled-back": "rolled back (stable 100% on its exact revision; the canary is no longer deployed)",
} as const;

/** One service's release state and traffic table, as `plan` and `canary` print it. */
export function describeService(sp: ServicePlan): string {
  const s = sp.service;
  const head = `${color.bold(s.name)}  ${STATE_TEXT[sp.state]}`;
  const imageFor = (tag: string) => (tag === "canary" ? s.canary?.image : s.stable.image);
  if (!sp.plan) {
    return `${head}\n${table([
      ["TAG", "REVISION", "PERCENT", "IMAGE"],
      ["stable", "(built at deploy)", "100%", `local build of ${s.stable.build?.context}`],
    ])}`;
  }
  // Every region gets the same split; listing each one shows where the service runs.
  const regions = s.regions.length > 1 ? s.regions : [];
  const rows = [[...(regions.length ? ["REGION"] : []), "TAG", "REVISION", "PERCENT", "IMAGE"]];
  for (const region of regions.length ? regions : [undefined])
    for (const t of sp.plan.traffic)
      rows.push([
        ...(region ? [region] : []),
        t.tag,
        t.revision,
        `${t.percent}%`,
        shortImage(imageFor(t.tag) ?? ""),
      ]);
  const staged =
    s.canary?.phase !== "staged"
      ? ""
      : s.canary.baseline?.phase === "staged"
        ? `\n  baseline ${s.canary.baseline.revision} (stable's release, deployed afresh) is created first, with no traffic; ` +
          `once Cloud Run reports it ready, \`orchestra canary set ${s.name} ${s.canary.percent}\` lets the next \`pulumi up\` create canary ${s.canary.revision}`
        : `\n  canary ${s.canary.revision} is staged with no traffic; \`orchestra canary set ${s.name} ${s.canary.percent}\` gives it ${s.canary.percent}% once Cloud Run reports it ready` +
          (s.canary.baseline ? `, and the baseline ${s.canary.baseline.revision} as much` : "");
  return `${head}\n${table(rows)}\n  template revision: ${sp.plan.templateRevision} (the ${sp.plan.templateRelease} release)${staged}`;
}

/** The split as one line, e.g. `stable 90% / canary 10%`. */
export function splitLine(sp: ServicePlan): string {
  if (!sp.plan) return "stable 100%";
  return sp.plan.traffic.map((t) => `${t.tag} ${t.percent}%`).join(" / ");
}
