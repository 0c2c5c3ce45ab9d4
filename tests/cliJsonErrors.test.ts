import { strict as assert } from "node:assert";
import { cleanupTempProjects, describeRun, makeTempProject, type TempProject } from "./support/cliHarness";
import { runInProcess } from "./support/inProcessCli";

/** A --json command that fails prints one JSON document on stdout, whatever stage it failed at. */
describe("--json failures: one JSON error document", () => {
  let project: TempProject;
  before(() => {
    project = makeTempProject({
      stacks: {
        dev: (text) => text.replace("  ai-orchestra:environment: dev", "  ai-orchestra:environment: dve"),
      },
    });
  });
  after(() => cleanupTempProjects());

  const errorDoc = (stdout: string, run: string) => {
    const doc = JSON.parse(stdout) as { ok: boolean; error: { kind: string; message: string } };
    assert.equal(doc.ok, false, run);
    return doc.error;
  };

  it("plan: a config error", async () => {
    const r = await runInProcess(project.dir, ["plan", "--stack", "dev", "--json"]);
    assert.equal(r.status, 1, describeRun(r));
    const error = errorDoc(r.stdout, describeRun(r));
    assert.equal(error.kind, "refused");
    assert.match(error.message, /ai-orchestra:environment = "dve"/);
  });

  it("diff: no git repository", async () => {
    const r = await runInProcess(project.dir, ["diff", "--stack", "prod", "--json"]);
    assert.equal(r.status, 1, describeRun(r));
    assert.match(errorDoc(r.stdout, describeRun(r)).message, /needs a git repository/);
  });

  it("cicd ids: no token", async () => {
    const r = await runInProcess(project.dir, ["cicd", "ids", "--stack", "prod", "--json"], {
      env: { GITHUB_TOKEN: undefined, GH_TOKEN: undefined, GITHUB_API_URL: "http://127.0.0.1:9" },
    });
    assert.equal(r.status, 1, describeRun(r));
    assert.match(errorDoc(r.stdout, describeRun(r)).message, /No GitHub token/);
  });

  it("a usage error: kind usage, exit 2", async () => {
    const r = await runInProcess(project.dir, ["plan", "--json"]);
    assert.equal(r.status, 2, describeRun(r));
    const error = errorDoc(r.stdout, describeRun(r));
    assert.deepEqual(error, { kind: "usage", message: "required option '-s, --stack <name>' not specified" });
  });

  it("without --json, stdout stays empty on failure", async () => {
    const r = await runInProcess(project.dir, ["plan", "--stack", "dev"]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
  });
});
