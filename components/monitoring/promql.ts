/**
 * PromQL for Cloud Monitoring (MQL is deprecated). Cloud Monitoring exposes `run.googleapis.com/request_count`
 * as `run_googleapis_com:request_count`, with the resource labels as ordinary labels and the resource type
 * in `monitored_resource`.
 */

const REQUESTS = "run_googleapis_com:request_count";

export interface CanaryQueryArgs {
  readonly service: string;
  readonly canaryRevision: string;
  readonly stableRevision: string;
  /** How much higher, as a fraction of requests, the canary's 5xx ratio may be than stable's. */
  readonly margin: number;
  /** Below this canary request rate (per second) the comparison is not made: too little to judge. */
  readonly minRequestsPerSecond: number;
  /** Rate window in seconds. */
  readonly windowSeconds: number;
  /** Compare per region (`location`), for a service in several regions. Default: all regions together. */
  readonly byLocation?: boolean;
}

function selector(service: string, revision: string, errorsOnly: boolean): string {
  const labels = [
    `monitored_resource="cloud_run_revision"`,
    `service_name="${service}"`,
    `revision_name="${revision}"`,
    ...(errorsOnly ? [`response_code_class="5xx"`] : []),
  ];
  return `${REQUESTS}{${labels.join(",")}}`;
}

/**
 * True (a non-empty result) while the canary revision's 5xx ratio exceeds stable's by more than the
 * margin, and the canary serves enough requests to judge. `sum` drops the revision label so the two
 * sides compare; a side with no 5xx at all has no series, so it counts as 0 (`or vector(0)`).
 */
export function canaryWorseThanStableQuery(a: CanaryQueryArgs): string {
  const w = `${a.windowSeconds}s`;
  const sum = a.byLocation ? "sum by (location)" : "sum";
  const rate = (revision: string, errorsOnly: boolean) =>
    `${sum}(rate(${selector(a.service, revision, errorsOnly)}[${w}]))`;
  // Per region, `vector(0)` (no labels) would match no region: a region without 5xx counts as 0 through
  // its own request rate times 0 instead.
  const zero = (revision: string) => (a.byLocation ? `${rate(revision, false)} * 0` : "vector(0)");
  const ratio = (revision: string) =>
    `((${rate(revision, true)} or ${zero(revision)}) / ${rate(revision, false)})`;
  return [
    `${ratio(a.canaryRevision)}`,
    `> (${ratio(a.stableRevision)} + ${a.margin})`,
    `and ${rate(a.canaryRevision, false)} > ${a.minRequestsPerSecond}`,
  ].join("\n");
}
