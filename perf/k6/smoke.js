// k6 smoke test run after each `pulumi up` (.github/workflows/deploy.yml): constant load on one URL,
// failing the job when p95 latency or the error rate crosses the stack's thresholds. Settings come
// from the environment, which the workflow fills from the stack's repository variables (PERF_*_STACK).
import http from "k6/http";
import { check } from "k6";

const env = (name, fallback) => (__ENV[name] ? __ENV[name] : fallback);
const BASE_URL = env("BASE_URL", "");
const PATH = env("PERF_PATH", "/");
const P95_MS = Number(env("P95_MS", "500"));
const ERROR_RATE = Number(env("ERROR_RATE", "0.01"));
// "Name: value", e.g. the load balancer's canary header; empty: none.
const HEADER = env("HEADER", "");
const headers = HEADER.includes(":")
  ? { [HEADER.slice(0, HEADER.indexOf(":")).trim()]: HEADER.slice(HEADER.indexOf(":") + 1).trim() }
  : {};

export const options = {
  vus: Number(env("VUS", "5")),
  duration: env("DURATION", "30s"),
  thresholds: {
    http_req_duration: [`p(95)<${P95_MS}`],
    http_req_failed: [`rate<${ERROR_RATE}`],
  },
  summaryTrendStats: ["avg", "med", "p(90)", "p(95)", "max"],
};

export function setup() {
  if (!BASE_URL) throw new Error("BASE_URL is not set");
}

export default function () {
  const res = http.get(`${BASE_URL}${PATH}`, { headers, tags: { name: PATH } });
  check(res, { "status is 2xx": (r) => r.status >= 200 && r.status < 300 });
}

/** Writes a Markdown summary the workflow appends to the job summary, and the usual text to stdout. */
export function handleSummary(data) {
  const m = data.metrics;
  const p95 = m.http_req_duration ? m.http_req_duration.values["p(95)"] : NaN;
  const failed = m.http_req_failed ? m.http_req_failed.values.rate : NaN;
  const requests = m.http_reqs ? m.http_reqs.values.count : 0;
  const ok = (name) =>
    Object.values((m[name] && m[name].thresholds) || {}).every((t) => t.ok) ? "pass" : "FAIL";
  const title = env("SUMMARY_TITLE", "k6");
  const lines = [
    `### ${title}`,
    "",
    `\`GET ${BASE_URL}${PATH}\`${HEADER ? ` with \`${HEADER}\`` : ""}, ${options.vus} VUs for ${options.duration}, ${requests} requests`,
    "",
    "| metric | value | threshold | result |",
    "| --- | --- | --- | --- |",
    `| p95 latency | ${p95.toFixed(1)} ms | < ${P95_MS} ms | ${ok("http_req_duration")} |`,
    `| error rate | ${(failed * 100).toFixed(2)}% | < ${(ERROR_RATE * 100).toFixed(2)}% | ${ok("http_req_failed")} |`,
    "",
  ];
  return { "k6-summary.md": lines.join("\n"), stdout: `${lines.join("\n")}\n` };
}
