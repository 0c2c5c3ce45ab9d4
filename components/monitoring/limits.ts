/**
 * Cloud Monitoring's API limits, as checks over the inputs a policy, uptime check or SLO is declared
 * with. Config validation keeps every setting inside them; these checks prove the rendered resources are.
 */

const DURATION = /^(\d+)s$/;

function seconds(d: unknown): number | undefined {
  const m = typeof d === "string" ? DURATION.exec(d) : null;
  return m ? Number(m[1]) : undefined;
}

interface Aggregation {
  alignmentPeriod?: string;
}

interface PolicyInputs {
  conditions?: {
    conditionThreshold?: {
      filter?: string;
      denominatorFilter?: string;
      comparison?: string;
      duration?: string;
      aggregations?: Aggregation[];
      denominatorAggregations?: Aggregation[];
    };
    conditionAbsent?: { duration?: string };
    conditionPrometheusQueryLanguage?: { query?: string; duration?: string; evaluationInterval?: string };
    conditionMonitoringQueryLanguage?: unknown;
    conditionMatchedLog?: { filter?: string };
  }[];
  combiner?: string;
  severity?: string;
  documentation?: { content?: string; mimeType?: string };
  alertStrategy?: { autoClose?: string; notificationRateLimit?: { period?: string } };
}

/** Every limit the policy breaks; empty when the API would accept it. Takes plain (resolved) inputs. */
export function checkAlertPolicy(policy: object): string[] {
  const p = policy as PolicyInputs;
  const problems: string[] = [];
  const conditions = p.conditions ?? [];
  if (conditions.length < 1 || conditions.length > 6)
    problems.push(`has ${conditions.length} conditions; the API allows 1 to 6`);
  if (!["OR", "AND", "AND_WITH_MATCHING_RESOURCE"].includes(String(p.combiner)))
    problems.push(`combiner ${String(p.combiner)} is not OR, AND or AND_WITH_MATCHING_RESOURCE`);
  const checkAlignment = (aggs: Aggregation[] | undefined, where: string) => {
    for (const a of aggs ?? []) {
      const s = seconds(a.alignmentPeriod);
      if (a.alignmentPeriod !== undefined && (s === undefined || s < 60))
        problems.push(`${where}: alignmentPeriod ${a.alignmentPeriod} is under 60s`);
    }
  };
  conditions.forEach((c, i) => {
    const where = `condition ${i}`;
    if (c.conditionMonitoringQueryLanguage) problems.push(`${where} uses MQL, which is deprecated`);
    const t = c.conditionThreshold;
    if (t) {
      if (!["COMPARISON_GT", "COMPARISON_LT"].includes(String(t.comparison)))
        problems.push(`${where}: comparison ${String(t.comparison)} is not COMPARISON_GT or COMPARISON_LT`);
      const d = seconds(t.duration);
      if (d === undefined || d % 60 !== 0)
        problems.push(`${where}: duration ${String(t.duration)} is not a multiple of 60s`);
      if (!t.filter) problems.push(`${where}: has no filter`);
      checkAlignment(t.aggregations, where);
      checkAlignment(t.denominatorAggregations, where);
    }
    const a = c.conditionAbsent;
    if (a) {
      const d = seconds(a.duration);
      if (d === undefined || d < 120 || d % 60 !== 0)
        problems.push(
          `${where}: absence duration ${String(a.duration)} must be at least 120s, in whole minutes`,
        );
    }
    const q = c.conditionPrometheusQueryLanguage;
    if (q) {
      const e = seconds(q.evaluationInterval ?? "30s");
      if (e === undefined || e === 0 || e % 30 !== 0)
        problems.push(
          `${where}: evaluationInterval ${String(q.evaluationInterval)} is not a multiple of 30s`,
        );
      const d = seconds(q.duration ?? "0s");
      if (d === undefined || d % 60 !== 0)
        problems.push(`${where}: duration ${String(q.duration)} is not a multiple of 60s`);
      if (!q.query) problems.push(`${where}: has no query`);
    }
    const l = c.conditionMatchedLog;
    if (l) {
      if (!l.filter) problems.push(`${where}: has no log filter`);
      // A log-match policy has exactly one condition and must limit how often it notifies.
      if (conditions.length !== 1) problems.push(`${where}: a log-match condition must be the only one`);
      if (seconds(p.alertStrategy?.notificationRateLimit?.period) === undefined)
        problems.push(`${where}: a log-match policy needs alertStrategy.notificationRateLimit.period`);
    }
    if (!t && !a && !q && !l)
      problems.push(`${where}: has no threshold, absence, PromQL or log-match condition`);
  });
  if (!["CRITICAL", "ERROR", "WARNING"].includes(String(p.severity)))
    problems.push(`severity ${String(p.severity)} is not CRITICAL, ERROR or WARNING`);
  if (!p.documentation?.content || p.documentation.mimeType !== "text/markdown")
    problems.push("has no markdown documentation");
  if (seconds(p.alertStrategy?.autoClose) === undefined) problems.push("has no auto-close");
  return problems;
}

export const UPTIME_PERIODS = [60, 300, 600, 900] as const;

export function checkUptimeCheck(u: { period?: string; timeout?: string }): string[] {
  const problems: string[] = [];
  const period = seconds(u.period);
  if (period === undefined || !(UPTIME_PERIODS as readonly number[]).includes(period))
    problems.push(`period ${String(u.period)} is not one of 60s, 300s, 600s, 900s`);
  const timeout = seconds(u.timeout);
  if (timeout === undefined || timeout < 1 || timeout > 60)
    problems.push(`timeout ${String(u.timeout)} is not 1-60s`);
  return problems;
}

export function checkSlo(s: { goal?: number; rollingPeriodDays?: number }): string[] {
  const problems: string[] = [];
  if (typeof s.goal !== "number" || !(s.goal > 0 && s.goal <= 0.9999))
    problems.push(`goal ${String(s.goal)} is not in (0, 0.9999]`);
  const d = s.rollingPeriodDays;
  if (typeof d !== "number" || !Number.isInteger(d) || d < 1 || d > 30)
    problems.push(`rollingPeriodDays ${String(d)} is not a whole number of days from 1 to 30`);
  return problems;
}
