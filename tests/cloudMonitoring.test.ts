import { strict as assert } from "node:assert";
import { status } from "@grpc/grpc-js";
import { MetricServiceClient } from "@google-cloud/monitoring";
import type { Distribution, RegionSides } from "../model/judgment/input";
import { MONITORING_ENDPOINT_ENV, monitoringClientOptions } from "../cli/live/endpoint";
import {
  alignWindow,
  CloudMonitoringIntervalSource,
  LATE_POINTS_MS,
  llmSeriesFilter,
  responseClass,
  seriesFilter,
} from "../cli/rollout/cloudMonitoring";
import { llmMetricNames, TTFT_BUCKETS } from "../model/llm";
import { MetricsReadError } from "../cli/rollout/metricsRead";
import { parseJudgeInput } from "../cli/rollout/judgeInput";
import type { Clock, IntervalQuery } from "../cli/rollout/ports";
import { FakeMonitoring, type FakeSeries } from "./support/fakeMonitoring";

const SERVICE = "api";
const REVISIONS = { canary: "api-c0ffee-00abcd", stable: "api-5ab1e5", baseline: "api-5ab1e5-00abce" };
const REGIONS = ["europe-west1", "us-central1"];
// The look asked for 10:00:30 to 10:10:45; read 10 minutes after it ended.
const START = new Date("2026-03-01T10:00:30Z");
const END = new Date("2026-03-01T10:10:45Z");

const exponential: Distribution = {
  count: 6,
  bucketOptions: { exponentialBuckets: { numFiniteBuckets: 64, growthFactor: 1.4, scale: 1 } },
  bucketCounts: [0, 1, 2, 3], // trailing zeros left out, as Monitoring may
};
const linear: Distribution = {
  count: 5,
  bucketOptions: { linearBuckets: { numFiniteBuckets: 10, width: 50, offset: 0 } },
  bucketCounts: [0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
};
const explicit: Distribution = {
  count: 3,
  bucketOptions: { explicitBuckets: { bounds: [5, 10, 25.5, 100] } },
  bucketCounts: [1, 0, 2],
};

const count = (region: string, revision: string, responseClass: string, value: number): FakeSeries => ({
  metric: "request_count",
  service: SERVICE,
  region,
  revision,
  responseClass,
  value,
});
const latency = (region: string, revision: string, value: Distribution): FakeSeries => ({
  metric: "request_latencies",
  service: SERVICE,
  region,
  revision,
  value,
});

/** Time stands still at `now`; sleeps are recorded, not waited for. */
function fakeClock(now: number): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return { sleeps, now: () => now, sleep: async (ms) => void sleeps.push(ms) };
}

describe("rollout metric reads: Cloud Monitoring's real client against a local MetricService", () => {
  const fake = new FakeMonitoring();
  let client: MetricServiceClient;
  let clock: ReturnType<typeof fakeClock>;
  const source = () =>
    new CloudMonitoringIntervalSource("proj-test", {
      client,
      clock,
      retry: { attempts: 3, initialBackoffMs: 1_000 },
    });
  const query: IntervalQuery = {
    service: SERVICE,
    regions: REGIONS,
    revisions: REVISIONS,
    start: START,
    end: END,
  };

  before(async () => {
    const address = await fake.start();
    const options = monitoringClientOptions({ [MONITORING_ENDPOINT_ENV]: address });
    assert.ok(options);
    client = new MetricServiceClient(options);
  });
  after(async () => {
    await client.close();
    await fake.stop();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.series = [];
    fake.executionErrors = [];
    fake.pageSize = 0;
    clock = fakeClock(END.getTime() + 10 * 60_000);
  });

  it("reads each region and each revision on its own, in one call per metric, over whole minutes", async () => {
    fake.series = [
      count("europe-west1", REVISIONS.canary, "2xx", 90),
      count("europe-west1", REVISIONS.canary, "5xx", 10),
      count("europe-west1", REVISIONS.stable, "2xx", 800),
      count("europe-west1", REVISIONS.stable, "4xx", 20),
      count("europe-west1", REVISIONS.baseline, "2xx", 100),
      count("us-central1", REVISIONS.canary, "3xx", 7),
      count("us-central1", REVISIONS.stable, "2xx", 500),
      latency("europe-west1", REVISIONS.canary, exponential),
      latency("europe-west1", REVISIONS.stable, exponential),
      latency("us-central1", REVISIONS.canary, exponential),
      // Another service's revision and another region: the filter must leave them out.
      { ...count("europe-west1", "web-1", "5xx", 1000), service: "web" },
      count("asia-east1", REVISIONS.canary, "5xx", 1000),
    ];
    const read = await source().read(query);

    assert.deepEqual(read.window, {
      start: new Date("2026-03-01T10:01:00Z"),
      end: new Date("2026-03-01T10:10:00Z"),
    });
    assert.deepEqual(read.incomplete, []);
    assert.ok("regions" in read.interval);
    const eu = read.interval.regions["europe-west1"];
    const us = read.interval.regions["us-central1"];
    assert.deepEqual(Object.keys(read.interval.regions).sort(), REGIONS);
    assert.deepEqual(eu.canary.requests, { "2xx": 90, "3xx": 0, "4xx": 0, "5xx": 10 });
    assert.deepEqual(eu.stable.requests, { "2xx": 800, "3xx": 0, "4xx": 20, "5xx": 0 });
    assert.deepEqual(eu.baseline?.requests, { "2xx": 100, "3xx": 0, "4xx": 0, "5xx": 0 });
    assert.deepEqual(us.canary.requests, { "2xx": 0, "3xx": 7, "4xx": 0, "5xx": 0 });
    assert.deepEqual(us.stable.requests, { "2xx": 500, "3xx": 0, "4xx": 0, "5xx": 0 });
    assert.deepEqual(eu.canary.latencies, exponential);

    // Two calls: one per metric, every region and revision in each.
    assert.equal(fake.requests.length, 2);
    const [counts, latencies] = fake.requests;
    assert.equal(counts.name, "projects/proj-test");
    assert.equal(counts.filter, seriesFilter("request_count", SERVICE, Object.values(REVISIONS), REGIONS));
    assert.equal(
      counts.filter,
      'metric.type = "run.googleapis.com/request_count" AND resource.type = "cloud_run_revision" AND ' +
        'resource.labels.service_name = "api" AND (resource.labels.revision_name = "api-c0ffee-00abcd" OR ' +
        'resource.labels.revision_name = "api-5ab1e5" OR resource.labels.revision_name = "api-5ab1e5-00abce") AND ' +
        '(resource.labels.location = "europe-west1" OR resource.labels.location = "us-central1")',
    );
    assert.match(latencies.filter, /^metric\.type = "run\.googleapis\.com\/request_latencies" AND /);
    assert.deepEqual(counts.interval, {
      startTime: { seconds: String(Date.parse("2026-03-01T10:01:00Z") / 1000) },
      endTime: { seconds: String(Date.parse("2026-03-01T10:10:00Z") / 1000) },
    });
    for (const r of fake.requests) {
      assert.equal(r.aggregation.alignmentPeriod.seconds, "540", "one period: the whole aligned window");
      assert.equal(r.aggregation.perSeriesAligner, "ALIGN_DELTA");
      assert.equal(r.aggregation.crossSeriesReducer, "REDUCE_SUM");
    }
    assert.deepEqual(counts.aggregation.groupByFields, [
      "resource.labels.location",
      "resource.labels.revision_name",
      "metric.labels.response_code_class",
    ]);
    assert.deepEqual(latencies.aggregation.groupByFields, [
      "resource.labels.location",
      "resource.labels.revision_name",
    ]);
  });

  it("passes every bucket layout through as Monitoring sent it: exponential, linear, explicit", async () => {
    fake.series = [
      latency("europe-west1", REVISIONS.canary, exponential),
      latency("europe-west1", REVISIONS.stable, linear),
      latency("europe-west1", REVISIONS.baseline, explicit),
      latency("us-central1", REVISIONS.canary, linear),
      latency("us-central1", REVISIONS.stable, explicit),
      latency("us-central1", REVISIONS.baseline, exponential),
    ];
    const read = await source().read(query);
    assert.ok("regions" in read.interval);
    const { regions } = read.interval;
    assert.deepEqual(regions["europe-west1"].canary.latencies, exponential);
    assert.deepEqual(regions["europe-west1"].stable.latencies, linear);
    assert.deepEqual(regions["europe-west1"].baseline?.latencies, explicit);
    assert.deepEqual(regions["us-central1"].canary.latencies, linear);
    assert.deepEqual(regions["us-central1"].stable.latencies, explicit);
    assert.deepEqual(regions["us-central1"].baseline?.latencies, exponential);
  });

  it("a revision with no series served no requests: zero, not an error", async () => {
    fake.series = [count("europe-west1", REVISIONS.stable, "2xx", 50)];
    const read = await source().read({
      ...query,
      revisions: { canary: REVISIONS.canary, stable: REVISIONS.stable },
    });
    assert.deepEqual(read.incomplete, []);
    assert.ok("regions" in read.interval);
    const zero = { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 };
    const eu: RegionSides = read.interval.regions["europe-west1"];
    assert.deepEqual(eu.canary.requests, zero);
    assert.equal(eu.canary.latencies.count, 0);
    assert.deepEqual(eu.canary.latencies.bucketCounts, []);
    assert.equal(eu.stable.requests["2xx"], 50);
    assert.equal("baseline" in eu, false, "no baseline side when no baseline revision is named");
    assert.deepEqual(read.interval.regions["us-central1"].stable.requests, zero);
    // Recorded in a report, the empty side replays: `rollout judge` reads it as a valid distribution.
    const replay = { scenarios: [{ name: "empty", steps: [{ percent: 5, intervals: [read.interval] }] }] };
    assert.doesNotThrow(() => parseJudgeInput(JSON.stringify(replay), "report"));
  });

  it("execution_errors in a response make the read incomplete, with Monitoring's words", async () => {
    fake.series = [count("europe-west1", REVISIONS.canary, "2xx", 5)];
    fake.executionErrors = [{ code: 14, message: "some data in europe-west1 could not be read" }];
    const read = await source().read(query);
    assert.deepEqual(read.incomplete, [
      "Cloud Monitoring reported for request_count: some data in europe-west1 could not be read (code 14)",
      "Cloud Monitoring reported for request_latencies: some data in europe-west1 could not be read (code 14)",
    ]);
  });

  it("reads every page", async () => {
    fake.pageSize = 1;
    fake.series = [
      count("europe-west1", REVISIONS.canary, "2xx", 1),
      count("europe-west1", REVISIONS.canary, "5xx", 2),
      count("us-central1", REVISIONS.canary, "2xx", 3),
    ];
    const read = await source().read(query);
    assert.ok("regions" in read.interval);
    assert.deepEqual(read.interval.regions["europe-west1"].canary.requests, {
      "2xx": 1,
      "3xx": 0,
      "4xx": 0,
      "5xx": 2,
    });
    assert.equal(read.interval.regions["us-central1"].canary.requests["2xx"], 3);
    assert.deepEqual(
      fake.requests.map((r) => r.pageToken ?? ""),
      ["", "1", "2", ""],
      "three pages of counts, then one (empty) of latencies",
    );
  });

  it("retries transient errors with backoff, then succeeds", async () => {
    fake.series = [count("europe-west1", REVISIONS.canary, "2xx", 9)];
    fake.fail(status.RESOURCE_EXHAUSTED, "Quota exceeded for quota metric 'Time series queries'");
    fake.fail(status.INTERNAL, "internal error");
    const read = await source().read(query);
    assert.ok("regions" in read.interval);
    assert.equal(read.interval.regions["europe-west1"].canary.requests["2xx"], 9);
    assert.equal(fake.requests.length, 4, "two failed attempts, then one call per metric");
    assert.deepEqual(clock.sleeps, [1_000, 2_000]);
  });

  it("gives up on transient errors after its attempts, saying how many", async () => {
    fake.fail(status.RESOURCE_EXHAUSTED, "Quota exceeded", 3);
    await assert.rejects(source().read(query), (e: unknown) => {
      assert.ok(e instanceof MetricsReadError);
      assert.equal(e.attempts, 3);
      assert.equal(e.message, "RESOURCE_EXHAUSTED: Quota exceeded (3 attempts)");
      return true;
    });
    assert.equal(fake.requests.length, 3);
  });

  it("a permission error is not retried, and says which role to grant", async () => {
    fake.fail(
      status.PERMISSION_DENIED,
      "Permission monitoring.timeSeries.list denied (or the resource may not exist).",
    );
    await assert.rejects(source().read(query), (e: unknown) => {
      assert.ok(e instanceof MetricsReadError);
      assert.equal(e.status, "PERMISSION_DENIED");
      assert.match(e.message, /^PERMISSION_DENIED: Permission monitoring\.timeSeries\.list denied/);
      assert.match(
        e.message,
        /grant the identity the rollout runs as roles\/monitoring\.viewer on project proj-test/,
      );
      assert.match(e.message, /\(1 attempt\)$/);
      return true;
    });
    assert.equal(fake.requests.length, 1);
    assert.deepEqual(clock.sleeps, []);
  });

  it("an invalid argument is not retried either, and names the project to check", async () => {
    fake.fail(status.INVALID_ARGUMENT, "Field name had an invalid value");
    await assert.rejects(
      source().read(query),
      /INVALID_ARGUMENT: .*Fix: check that `gcp:project` \(proj-test\)/,
    );
    assert.equal(fake.requests.length, 1);
  });

  it("for a service that logs model calls, reads calls by provider status, output tokens and time to first token per region and revision", async () => {
    const names = llmMetricNames(SERVICE);
    const calls = (
      region: string,
      revision: string,
      status: string,
      value: number,
    ): Extract<FakeSeries, { metric: "log" }> => ({
      metric: "log",
      name: names.calls,
      service: SERVICE,
      region,
      revision,
      labels: { status },
      value,
    });
    const logged = (name: string, region: string, revision: string, value: Distribution): FakeSeries => ({
      metric: "log",
      name,
      service: SERVICE,
      region,
      revision,
      value,
    });
    fake.series = [
      count("europe-west1", REVISIONS.canary, "2xx", 100),
      count("europe-west1", REVISIONS.stable, "2xx", 900),
      calls("europe-west1", REVISIONS.canary, "200", 90),
      calls("europe-west1", REVISIONS.canary, "429", 6),
      calls("europe-west1", REVISIONS.canary, "503", 4),
      calls("europe-west1", REVISIONS.canary, "400", 3),
      calls("europe-west1", REVISIONS.stable, "200", 880),
      calls("europe-west1", REVISIONS.stable, "500", 9),
      calls("us-central1", REVISIONS.canary, "200", 40),
      logged(names.outputTokens, "europe-west1", REVISIONS.canary, exponential),
      logged(names.outputTokens, "europe-west1", REVISIONS.stable, linear),
      logged(names.timeToFirstToken, "europe-west1", REVISIONS.canary, explicit),
      // Another service's model calls: the filter must leave them out.
      { ...calls("europe-west1", "web-1", "500", 1000), service: "web", name: llmMetricNames("web").calls },
    ];
    const streaming = await source().read({ ...query, llm: { streams: true } });
    assert.deepEqual(streaming.incomplete, []);
    assert.ok("regions" in streaming.interval);
    const eu = streaming.interval.regions["europe-west1"];
    const us = streaming.interval.regions["us-central1"];
    assert.deepEqual(
      { calls: eu.canary.llm?.calls, providerErrors: eu.canary.llm?.providerErrors },
      { calls: 103, providerErrors: 10 },
      "429 and 5xx are provider errors; a 400 is a call, not a provider error",
    );
    assert.deepEqual(eu.canary.llm?.outputTokens, exponential);
    assert.deepEqual(eu.canary.llm?.timeToFirstToken, explicit);
    assert.deepEqual([eu.stable.llm?.calls, eu.stable.llm?.providerErrors], [889, 9]);
    assert.deepEqual(eu.stable.llm?.outputTokens, linear);
    // No series: no calls, an empty distribution in the metric's own layout (a replay reads it as valid).
    assert.deepEqual(eu.stable.llm?.timeToFirstToken, {
      count: 0,
      bucketOptions: { exponentialBuckets: TTFT_BUCKETS },
      bucketCounts: [],
    });
    assert.deepEqual([us.canary.llm?.calls, us.canary.llm?.outputTokens?.count], [40, 0]);
    assert.deepEqual(eu.baseline?.llm?.calls, 0);

    // Two Cloud Run metrics, then the three log-based ones, each in one call over every region and revision.
    assert.deepEqual(
      fake.requests.map((r) => r.filter.match(/metric\.type = "([^"]+)"/)?.[1]),
      [
        "run.googleapis.com/request_count",
        "run.googleapis.com/request_latencies",
        `logging.googleapis.com/user/${names.calls}`,
        `logging.googleapis.com/user/${names.outputTokens}`,
        `logging.googleapis.com/user/${names.timeToFirstToken}`,
      ],
    );
    const [, , callsRequest, tokensRequest] = fake.requests;
    assert.equal(
      callsRequest.filter,
      llmSeriesFilter(names.calls, SERVICE, Object.values(REVISIONS), REGIONS),
    );
    assert.match(callsRequest.filter, /resource\.labels\.revision_name = "api-c0ffee-00abcd" OR /);
    assert.deepEqual(callsRequest.aggregation.groupByFields, [
      "resource.labels.location",
      "resource.labels.revision_name",
      "metric.labels.status",
    ]);
    assert.deepEqual(tokensRequest.aggregation.groupByFields, [
      "resource.labels.location",
      "resource.labels.revision_name",
    ]);
    assert.equal(tokensRequest.aggregation.perSeriesAligner, "ALIGN_DELTA");

    // Not streaming: no time to first token is read or reported.
    fake.requests.length = 0;
    const plain = await source().read({ ...query, llm: { streams: false } });
    assert.equal(fake.requests.length, 4);
    assert.ok("regions" in plain.interval);
    assert.equal(plain.interval.regions["europe-west1"].canary.llm?.timeToFirstToken, undefined);
    // A service without `llm`: two calls, no llm object.
    fake.requests.length = 0;
    const none = await source().read(query);
    assert.equal(fake.requests.length, 2);
    assert.ok("regions" in none.interval);
    assert.equal(none.interval.regions["europe-west1"].canary.llm, undefined);
  });

  it("a window read before its late points can have arrived is marked incomplete", async () => {
    clock = fakeClock(Date.parse("2026-03-01T10:11:00Z"));
    const read = await source().read(query);
    assert.deepEqual(read.incomplete, [
      `the window ended 60 s before it was read, and Cloud Monitoring's points can arrive up to ${LATE_POINTS_MS / 1000} s late: its last minutes may be missing points`,
    ]);
  });
});

describe("rollout metric reads: pure parts", () => {
  it("aligns a window inward to whole minutes and refuses one with none", () => {
    assert.deepEqual(alignWindow(new Date("2026-03-01T10:00:00Z"), new Date("2026-03-01T10:05:00Z")), {
      start: new Date("2026-03-01T10:00:00Z"),
      end: new Date("2026-03-01T10:05:00Z"),
    });
    assert.deepEqual(alignWindow(new Date("2026-03-01T10:00:00.001Z"), new Date("2026-03-01T10:04:59Z")), {
      start: new Date("2026-03-01T10:01:00Z"),
      end: new Date("2026-03-01T10:04:00Z"),
    });
    assert.throws(
      () => alignWindow(new Date("2026-03-01T10:00:10Z"), new Date("2026-03-01T10:01:50Z")),
      /holds no whole minute/,
    );
  });

  it("counts 1xx as 2xx and any other class as 5xx", () => {
    assert.equal(responseClass("1xx"), "2xx");
    assert.equal(responseClass("4xx"), "4xx");
    assert.equal(responseClass(""), "5xx");
    assert.equal(responseClass(undefined), "5xx");
  });

  it("escapes names in the filter", () => {
    assert.match(seriesFilter("request_count", 'a"b', ["r"], ["x"]), /service_name = "a\\"b"/);
  });

  it("speaks plain-text gRPC only to this machine", () => {
    const options = monitoringClientOptions({ [MONITORING_ENDPOINT_ENV]: "http://localhost:8085" });
    assert.equal(options?.apiEndpoint, "localhost");
    assert.equal(options?.port, 8085);
    assert.equal(monitoringClientOptions({}), undefined);
    assert.throws(
      () => monitoringClientOptions({ [MONITORING_ENDPOINT_ENV]: "monitoring.example.com:443" }),
      /must name an emulator on this machine.*without TLS/,
    );
    assert.throws(
      () => monitoringClientOptions({ [MONITORING_ENDPOINT_ENV]: "127.0.0.1" }),
      /127\.0\.0\.1:PORT/,
    );
    assert.throws(
      () => monitoringClientOptions({ [MONITORING_ENDPOINT_ENV]: "https://127.0.0.1:1" }),
      /without TLS/,
    );
  });
});
