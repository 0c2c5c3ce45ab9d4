import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import {
  cleanupTempProjects,
  describeRun,
  makeTempProject,
  runCliAsync,
  stackTraceLines,
} from "../support/cliHarness";
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

  it("leaves once its work is done: the loader's transpile cache is written whole, and read by the next run from any folder", async () => {
    const project = makeTempProject({ program: true });
    // A folder of the project with other compiler options, which must not change how the CLI runs.
    const sub = path.join(project.dir, "sub");
    fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, "tsconfig.json"), '{ "compilerOptions": { "target": "es2015" } }\n');
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-swc-cache-"));
    const env = { SWC_NODE_CACHE_DIR: cache };
    try {
      const first = await project.runWith({ env }, "plan", "--stack", "dev");
      assert.equal(first.status, 0, describeRun(first));
      const written = fs.readdirSync(cache);
      // A write cut off by the exit leaves an empty `<key>.json.<pid>.<n>.tmp` instead.
      assert.deepEqual(
        written.filter((f) => !f.endsWith(".json")),
        [],
        "writes left unfinished",
      );
      assert.ok(written.length > 50, `${written.length} modules cached`);
      const second = await runCliAsync(sub, ["plan", "--stack", "dev"], { env });
      assert.equal(second.status, 0, describeRun(second));
      assert.equal(second.stdout, first.stdout);
      assert.deepEqual(fs.readdirSync(cache).sort(), written.sort(), "the second run transpiled again");
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });

  it("a handle left open does not keep it from exiting, with the command's exit code", async () => {
    const project = makeTempProject({ program: true });
    const hold = path.join(project.dir, "hold.js");
    fs.writeFileSync(hold, 'require("node:net").createServer().listen(0, "127.0.0.1");\n');
    const env = { NODE_OPTIONS: `--require ${hold}` };
    const [ok, failed] = await Promise.all([
      project.runWith({ env }, "plan", "--stack", "dev"),
      project.runWith({ env }, "plan", "--stack", "nope"),
    ]);
    assert.equal(ok.status, 0, describeRun(ok));
    assert.match(ok.stdout, /dev/);
    assert.equal(failed.status, 1, describeRun(failed));
    assert.match(failed.stderr, /There is no stack "nope"/);
  });

  it("prints no MetadataLookupWarning off Google Cloud without credentials, and other warnings as Node does", async () => {
    const project = makeTempProject();
    // Something answers at the metadata address, but not Google's metadata server (its header missing),
    // as on a machine off Google Cloud: the probe that warns.
    const notGoogle = http.createServer((_, res) => res.end("not the metadata server"));
    await new Promise<void>((resolve) => notGoogle.listen(0, "127.0.0.1", resolve));
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-home-"));
    const warn = path.join(home, "warn.js");
    fs.writeFileSync(warn, 'process.nextTick(() => process.emitWarning("still printed", "OtherWarning"));\n');
    try {
      const r = await project.runWith(
        {
          env: {
            HOME: home,
            GOOGLE_APPLICATION_CREDENTIALS: undefined,
            GCE_METADATA_HOST: `127.0.0.1:${(notGoogle.address() as AddressInfo).port}`,
            NODE_OPTIONS: `--require ${warn}`,
          },
        },
        "canary",
        "status",
        "--stack",
        "prod",
        "--live",
      );
      assert.equal(r.status, 1, describeRun(r));
      assert.match(r.stdout, /not read \(unauthenticated\)/);
      assert.doesNotMatch(r.stderr, /MetadataLookupWarning/);
      assert.match(r.stderr, /OtherWarning: still printed/);
    } finally {
      notGoogle.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
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
