import { strict as assert } from "node:assert";
import type * as http from "node:http";
import { cleanupTempProjects, describeRun, makeTempProject, type TempProject } from "./support/cliHarness";
import { runInProcess } from "./support/inProcessCli";
import { serve } from "./support/localServer";

/**
 * `orchestra auth check` against answers that are not the GitHub API's JSON, served on 127.0.0.1 and
 * read by the real Octokit client: each is an error that says what came back, never the body itself.
 */

// Built at run time: a fake token that the server will echo back.
const TOKEN = `ghp_FAKE${"echo".repeat(5)}`;

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const ANSWERS: Record<string, Handler> = {
  "/html/user": (_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(
      "<!DOCTYPE html><html><head><title>Sign in to Example Proxy</title></head><body>login</body></html>",
    );
  },
  "/stall/user": (_req, res) => {
    // Headers, then a body that never ends.
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "x-oauth-scopes": "repo" });
    res.write('{"login": "oc');
  },
  "/echo/user": (req, res) => {
    res.writeHead(500, { "content-type": "text/plain" });
    res.end(`upstream refused ${req.headers.authorization ?? ""} at gateway`);
  },
  "/echojson/user": (req, res) => {
    res.writeHead(502, { "content-type": "application/json" });
    res.end(JSON.stringify({ message: `bad header: ${req.headers.authorization ?? ""}` }));
  },
};

describe("auth check: answers that are not GitHub's JSON", () => {
  let project: TempProject;
  let url: string;
  let close: () => Promise<void>;
  const open = new Set<http.ServerResponse>();
  before(async () => {
    project = makeTempProject();
    ({ url, close } = await serve((req, res) => {
      open.add(res);
      const handler = ANSWERS[(req.url ?? "").split("?")[0]];
      if (handler) return handler(req, res);
      res.writeHead(404, { "content-type": "application/json" });
      res.end('{"message":"Not Found"}');
    }));
  });
  after(async () => {
    for (const res of open) res.destroy();
    await close();
    cleanupTempProjects();
  });

  const check = (prefix: string, extra: Record<string, string> = {}) =>
    runInProcess(project.dir, ["auth", "check", "--repo", "acme/infra", "--json"], {
      env: { GITHUB_TOKEN: TOKEN, GH_TOKEN: undefined, GITHUB_API_URL: `${url}${prefix}`, ...extra },
    });

  const errorOf = (stdout: string) =>
    (JSON.parse(stdout) as { ok: boolean; error: { kind: string; message: string } }).error;

  it("an HTML 200 is an error naming the page, not a token with invented missing scopes", async () => {
    const r = await check("/html");
    assert.equal(r.status, 1, describeRun(r));
    const error = errorOf(r.stdout);
    assert.equal(error.kind, "not-json");
    assert.match(
      error.message,
      /GET \/user at .* did not answer with GitHub's JSON but with an HTML page \(text\/html, \d+ bytes, title "Sign in to Example Proxy"\)/,
    );
    assert.doesNotMatch(r.stdout + r.stderr, /missing|as undefined/);
  });

  it("a body that never completes is an error after the timeout, not 'ok as undefined'", async () => {
    const r = await check("/stall", { ORCHESTRA_GITHUB_TIMEOUT: "1s" });
    assert.equal(r.status, 1, describeRun(r));
    assert.match(errorOf(r.stdout).message, /a body that did not complete within 1 s \(application\/json\)/);
    assert.doesNotMatch(r.stdout + r.stderr, /undefined/);
  });

  it("an error body that echoes the token is described or redacted, never printed verbatim", async () => {
    const plain = await check("/echo");
    assert.equal(plain.status, 1, describeRun(plain));
    assert.match(
      errorOf(plain.stdout).message,
      /GitHub answered 500: not GitHub's JSON but text \(text\/plain, \d+ bytes\)/,
    );
    const json = await check("/echojson");
    assert.equal(json.status, 1, describeRun(json));
    assert.match(errorOf(json.stdout).message, /GitHub answered 502: bad header: token \[redacted\]\./);
    for (const r of [plain, json]) assert.ok(!(r.stdout + r.stderr).includes(TOKEN), describeRun(r));
  });

  it("a duration that is not one is a usage error", async () => {
    const r = await check("/html", { ORCHESTRA_GITHUB_TIMEOUT: "soon" });
    assert.equal(r.status, 2, describeRun(r));
    assert.match(r.stderr, /ORCHESTRA_GITHUB_TIMEOUT=soon is not a duration/);
  });
});
