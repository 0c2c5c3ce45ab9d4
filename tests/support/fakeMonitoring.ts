import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { Distribution } from "../../model/judgment/input";
import { ListServiceFake } from "./grpcFake";

/**
 * A local stand-in for Cloud Monitoring's MetricService over gRPC on 127.0.0.1, loaded from the
 * client's own `metric_service.proto`, answering ListTimeSeries as Monitoring does after an
 * ALIGN_DELTA + REDUCE_SUM aggregation: one point per series. It keeps every request it received, and
 * answers only the series its filter selects (metric type, and each `resource.labels.X = "v"` term,
 * OR-ed terms of one label as a set), so a wrong filter reads wrong data.
 *
 * `fail(...)` answers the next calls with gRPC errors; `executionErrors` go into every response;
 * `pageSize` splits answers into pages linked by `nextPageToken`.
 */

const PROTOS = path.dirname(require.resolve("@google-cloud/monitoring/build/protos/protos.json"));

type Json = Record<string, unknown>;

/** One series as Monitoring would return it, grouped by location and revision (and class, for counts). */
export type FakeSeries =
  | {
      readonly metric: "request_count";
      readonly service: string;
      readonly region: string;
      readonly revision: string;
      readonly responseClass: string;
      readonly value: number;
    }
  | {
      readonly metric: "request_latencies";
      readonly service: string;
      readonly region: string;
      readonly revision: string;
      readonly value: Distribution;
    }
  | {
      /** A log-based metric (`logging.googleapis.com/user/<name>`) on the log entries' Cloud Run revision. */
      readonly metric: "log";
      readonly name: string;
      readonly service: string;
      readonly region: string;
      readonly revision: string;
      /** Its own labels (a counter's `status`, say). */
      readonly labels?: Readonly<Record<string, string>>;
      /** A counter's count, or a distribution. */
      readonly value: number | Distribution;
    };

const metricType = (s: FakeSeries) =>
  s.metric === "log" ? `logging.googleapis.com/user/${s.name}` : `run.googleapis.com/${s.metric}`;

export interface ReceivedRequest {
  readonly name: string;
  readonly filter: string;
  readonly interval: { readonly startTime: { seconds: string }; readonly endTime: { seconds: string } };
  readonly aggregation: {
    readonly alignmentPeriod: { seconds: string };
    readonly perSeriesAligner: string;
    readonly crossSeriesReducer: string;
    readonly groupByFields: string[];
  };
  readonly pageToken?: string;
}

/** Whether a series passes the filter's equality terms (`metric.type`, `resource.labels.*`). */
function selects(filter: string, s: FakeSeries): boolean {
  const wanted = new Map<string, Set<string>>();
  for (const m of filter.matchAll(/([a-z_.]+) = ("(?:[^"\\]|\\.)*")/g)) {
    const set = wanted.get(m[1]) ?? new Set<string>();
    set.add(JSON.parse(m[2]) as string);
    wanted.set(m[1], set);
  }
  const has: Record<string, string> = {
    "metric.type": metricType(s),
    "resource.type": "cloud_run_revision",
    "resource.labels.service_name": s.service,
    "resource.labels.revision_name": s.revision,
    "resource.labels.location": s.region,
  };
  return [...wanted].every(([label, values]) => has[label] !== undefined && values.has(has[label]));
}

function seriesJson(s: FakeSeries, interval: Json): Json {
  const value = s.value;
  return {
    metric: {
      type: metricType(s),
      labels:
        s.metric === "request_count"
          ? { response_code_class: s.responseClass }
          : s.metric === "log"
            ? { ...s.labels }
            : {},
    },
    resource: {
      type: "cloud_run_revision",
      labels: { project_id: "proj-test", location: s.region, revision_name: s.revision },
    },
    metricKind: "DELTA",
    valueType: typeof value === "number" ? "INT64" : "DISTRIBUTION",
    points: [
      {
        interval,
        value:
          typeof value === "number"
            ? { int64Value: String(value) }
            : { distributionValue: { ...value, count: String(value.count) } },
      },
    ],
  };
}

export class FakeMonitoring extends ListServiceFake {
  readonly requests: ReceivedRequest[] = [];
  series: FakeSeries[] = [];
  executionErrors: { code: number; message: string }[] = [];

  /** Starts on a free port; returns the address to put in ORCHESTRA_MONITORING_ENDPOINT. */
  start(): Promise<string> {
    return this.listen(
      "google/monitoring/v3/metric_service.proto",
      [PROTOS],
      "google.monitoring.v3.MetricService",
      {
        ListTimeSeries: (
          call: grpc.ServerUnaryCall<ReceivedRequest, Json>,
          callback: grpc.sendUnaryData<Json>,
        ) => this.listTimeSeries(call.request, callback),
      },
    );
  }

  private listTimeSeries(request: ReceivedRequest, callback: grpc.sendUnaryData<Json>): void {
    this.requests.push(request);
    const failure = this.nextFailure();
    if (failure) return callback({ code: failure.code, details: failure.details });
    const interval = { startTime: request.interval.startTime, endTime: request.interval.endTime };
    const all = this.series.filter((s) => selects(request.filter, s)).map((s) => seriesJson(s, interval));
    const { items, nextPageToken } = this.page(all, request.pageToken);
    callback(null, { timeSeries: items, nextPageToken, executionErrors: this.executionErrors });
  }
}
