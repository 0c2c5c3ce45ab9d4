import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { perfTargetScript } from "../components/github/workflows/infrastructure";
import { renderRepoStack } from "./support/render";

/** Runs the deploy workflow's "Load test target" lines with bash and jq, as the runner does. */
function pickTarget(target: "url" | "canaryUrl", endpoints: unknown, service: string) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "perf-target-")), "output");
  const script = [
    "set -euo pipefail",
    ...perfTargetScript(target),
    'echo "url=$url" >> "$GITHUB_OUTPUT"',
    'echo "header=$header" >> "$GITHUB_OUTPUT"',
  ].join("\n");
  // --noprofile --norc: the step's lines alone. Without them, bash with a socket for stdin (Node's
  // pipes are sockets) and no SHLVL takes itself for a remote shell and reads ~/.bashrc: seconds per
  // run on a machine whose .bashrc sets up a shell (pyenv, say).
  const r = spawnSync("bash", ["--noprofile", "--norc", "-c", script], {
    env: {
      PATH: process.env.PATH,
      ENDPOINTS: JSON.stringify(endpoints),
      SERVICE: service,
      GITHUB_OUTPUT: out,
    },
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  const lines = fs.readFileSync(out, "utf8").trim().split("\n");
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

describe("the k6 target after each deploy", function () {
  before(function () {
    if (spawnSync("jq", ["--version"]).status !== 0) this.skip(); // GitHub's runners have jq; see docs/development.md
  });

  it("prod: the canary through the balancer, with its canary header (run.app URLs refuse outside requests)", async () => {
    const endpoints = (await renderRepoStack("prod")).outputs.serviceEndpoints;
    assert.deepEqual(pickTarget("canaryUrl", endpoints, "api"), {
      url: "https://api.ai-orchestra.example",
      header: "X-Orchestra-Release: canary",
    });
  });

  it("without a balancer: the canary tag URL, or the service URL; nothing when there is no canary", async () => {
    const endpoints = (await renderRepoStack("dev")).outputs.serviceEndpoints as Record<
      string,
      { url: string; canaryUrl?: string }
    >;
    assert.deepEqual(pickTarget("url", endpoints, "api"), { url: endpoints.api.url, header: "" });
    assert.deepEqual(pickTarget("canaryUrl", endpoints, "worker"), {
      url: endpoints.worker.canaryUrl,
      header: "",
    });
    assert.deepEqual(pickTarget("canaryUrl", endpoints, "api"), { url: "", header: "" });
  });
});
