import { CLOUD_RUN_INVOKER_TYPES, CLOUD_RUN_SERVICE, serviceName } from "./cloudrun";
import type { Finding, PolicyResource, StackRule } from "./types";
import { known, strings } from "./values";
import { balancedServices, serviceKey } from "./loadBalancer";

const DASHBOARD = "gcp:monitoring/dashboard:Dashboard";
const UPTIME_CHECK = "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig";
const ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy";

/**
 * How a service is tied to what watches it:
 * - a dashboard: one whose filters select this service alone (`resource.label."service_name"="api"`);
 *   the stack overview, which selects several with `one_of(...)`, does not count;
 * - an uptime check and alert policies: by their `service` user label, which the program puts on
 *   everything it declares for a service.
 * An uptime check is required only where checkers can reach the service: ingress `all` and an
 * `allUsers` invoker. A paging alert (severity CRITICAL) is required where the stack pages: prod; dev
 * and staging open tickets by design, so there any alert policy will do.
 */
export function dashboardSelects(dashboardJson: string, service: string): boolean {
  return textSelects(dashboardStrings(dashboardJson), service);
}

/** The strings inside a dashboard's JSON; none when it is not JSON. */
function dashboardStrings(dashboardJson: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(dashboardJson);
  } catch {
    return [];
  }
  return strings(parsed).map((s) => s.value);
}

function textSelects(texts: readonly string[], service: string): boolean {
  const clause = `resource.label."service_name"=${JSON.stringify(service)}`;
  return texts.some((t) => t.includes(clause));
}

const labelOf = (r: PolicyResource) => known(r.props, "userLabels.service");

export const serviceObservability: StackRule = {
  id: "service-observability",
  kind: "stack",
  description:
    "Every Cloud Run service has a dashboard, an uptime check (when reachable from the internet) and an alert that pages (prod).",
  check(resources, ctx) {
    const ofType = (type: string) => resources.filter((r) => r.type === type);
    const findings: Finding[] = [];
    const balanced = balancedServices(resources);
    // Each dashboard is parsed once, not once per service: a stack has about as many dashboards as
    // services, so parsing per pair grew with the square of the stack. Read on the first service only,
    // so a stack without one never reads them.
    let dashboards: string[][] | undefined;
    const dashboardTexts = () =>
      (dashboards ??= ofType(DASHBOARD).map((d) => {
        const json = known(d.props, "dashboardJson", true);
        return typeof json === "string" ? dashboardStrings(json) : [];
      }));
    for (const svc of ofType(CLOUD_RUN_SERVICE)) {
      const name = serviceName(svc.props, svc.name);
      const missing: string[] = [];
      const fixes: string[] = [];

      if (!dashboardTexts().some((texts) => textSelects(texts, name))) {
        missing.push("a dashboard");
        fixes.push("declare a ServiceDashboard for it (index.ts does so for every configured service)");
      }

      const publicInvoker = resources.some(
        (r) =>
          CLOUD_RUN_INVOKER_TYPES.includes(r.type) &&
          known(r.props, "name", true) === name &&
          [known(r.props, "member"), ...((known(r.props, "members") as unknown[]) ?? [])].includes(
            "allUsers",
          ),
      );
      // Reachable from the internet: directly, or through the load balancer.
      const reachable =
        publicInvoker &&
        (known(svc.props, "ingress") === "INGRESS_TRAFFIC_ALL" || balanced.has(serviceKey(svc)));
      if (reachable && !ofType(UPTIME_CHECK).some((u) => labelOf(u) === name)) {
        missing.push("an uptime check");
        fixes.push(`set \`ai-orchestra:services.${name}.healthCheckPath\` (the check calls it)`);
      }

      const alerts = ofType(ALERT_POLICY).filter((a) => labelOf(a) === name);
      const pages = ctx.environment === "prod";
      if (!alerts.some((a) => !pages || known(a.props, "severity", true) === "CRITICAL")) {
        missing.push(pages ? "an alert policy that pages (severity CRITICAL)" : "an alert policy");
        fixes.push(
          pages
            ? `route at least one of its alerts to \`page\` (\`ai-orchestra:monitoring.alerts.<kind>.notify: page\`)`
            : "declare ServiceAlerts for it",
        );
      }
      if (missing.length > 0) {
        findings.push({
          resource: svc,
          message: `${name} is missing ${missing.join(", ")}.`,
          fix: `${fixes.join("; ")}.`,
        });
      }
    }
    return findings;
  },
};
