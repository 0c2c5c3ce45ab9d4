import { strict as assert } from "node:assert";
import { cleanupTempProjects, describeRun, makeTempProject, stackTraceLines } from "../support/cliHarness";
import { runInProcess } from "../support/inProcessCli";
import { healthy, steps } from "../support/judgeInput";

/**
 * What only the real `orchestra` process (bin/orchestra.js) shows: the exit code `main` returns leaves
 * the process, a large `plan --json` arrives whole through a pipe, and stdin is read. The commands'
 * behaviour is checked in-process (cli.test.ts, rolloutJudge.test.ts).
 */
describe("the orchestra process", function () {
  this.timeout(300_000);
  after(() => cleanupTempProjects());

  it("exits 2 on a usage error, 1 on a config error, 0 on success, and prints no stack trace", async () => {
    const project = makeTempProject({ program: true });
    const broken = makeTempProject({
      program: true,
      stacks: { prod: (text) => text.replace("        percent: 10 #", "        percent: 150 #") },
    });
    const [typo, configError, ok] = await Promise.all([
      project.runAsync("plna"),
      broken.runAsync("plan", "--stack", "prod"),
      project.runAsync("plan", "--stack", "dev"),
    ]);
    assert.equal(typo.status, 2, describeRun(typo));
    assert.match(typo.stderr, /unknown command 'plna'/);
    assert.equal(configError.status, 1, describeRun(configError));
    assert.match(configError.stderr, /canary\.percent = 150/);
    assert.equal(ok.status, 0, describeRun(ok));
    for (const r of [typo, configError, ok]) assert.deepEqual(stackTraceLines(r.stderr), [], describeRun(r));
  });

  it("writes a large `plan --json` whole to a pipe: the same bytes as the command prints", async () => {
    const project = makeTempProject({ program: true });
    const piped = await project.runAsync("plan", "--stack", "prod", "--json");
    assert.equal(piped.status, 0, describeRun(piped));
    assert.ok(piped.stdout.length > 100_000, `${piped.stdout.length} bytes`);
    const printed = await runInProcess(project.dir, ["plan", "--stack", "prod", "--json"]);
    assert.equal(piped.stdout, printed.stdout);
  });

  it("reads the judge's input from stdin with --input -", async () => {
    const project = makeTempProject();
    const r = await project.runWith(
      { input: JSON.stringify({ scenarios: [{ name: "healthy", steps: steps(healthy) }] }) },
      "rollout",
      "judge",
      "--input",
      "-",
      "--interval",
      "5m",
    );
    assert.equal(r.status, 0, describeRun(r));
    assert.match(r.stdout, /^promote {2}healthy: at 100%, look 1, after \d+m\. Every step passed/);
    assert.match(r.stdout, /\n1 scenario: 1 promoted, 0 rolled back\.\n$/);
  });
});
