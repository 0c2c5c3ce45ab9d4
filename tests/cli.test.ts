import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import {
  cleanupTempProjects,
  describeRun,
  makeTempProject,
  REPO_ROOT,
  stackTraceLines,
  type CliResult,
  type TempProject,
} from "./support/cliHarness";
import { FakeCloudRunAdmin, type DeployOutcome } from "./support/fakeCloudRunAdmin";
import { runInProcess } from "./support/inProcessCli";

/**
 * End to end against temporary copies of the stack files, through the CLI's `main` inside this process
 * (support/inProcessCli.ts), without a process start-up per run: help, plan, the canary lifecycle,
 * refusals. What only the real `orchestra` process shows (its exit codes, a large `plan --json` through
 * a pipe, stdin) is checked on spawned runs in e2e/cliProcess.test.ts.
 */

/** `orchestra ...args` in `project`, inside this process. */
const runHere = (project: TempProject, ...args: string[]) => runInProcess(project.dir, args);

const REGISTRY = "europe-west1-docker.pkg.dev";
const repoOf = (stack: string, service: string) => `${REGISTRY}/ai-orchestra-${stack}/orchestra/${service}`;
const digest = (seed: string) => `sha256:${createHash("sha256").update(seed).digest("hex")}`;
const CANARY_IMAGE = `${repoOf("staging", "api")}@${digest("api v2")}`;

const STACK_FILES = ["Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml"];
const repoText = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), "utf8");

function expectExit(r: CliResult, code: number | readonly number[]): void {
  const codes = typeof code === "number" ? [code] : code;
  assert.ok(
    r.status !== null && codes.includes(r.status),
    `expected exit ${codes.join(" or ")}\n${describeRun(r)}`,
  );
}

function expectNoStackTrace(r: CliResult): void {
  assert.deepEqual(stackTraceLines(r.stderr), [], `stack trace printed\n${describeRun(r)}`);
  assert.deepEqual(stackTraceLines(r.stdout), [], `stack trace printed\n${describeRun(r)}`);
}

interface TrafficRow {
  readonly tag: string;
  readonly revision: string;
  readonly percent: number;
}

/** The TAG/REVISION/PERCENT table `plan` and `canary` print under a service's name. */
function trafficTable(text: string, service: string): TrafficRow[] {
  const lines = text.split("\n");
  const head = lines.findIndex((l) => l.startsWith(`${service}  `));
  assert.ok(head >= 0, `no traffic table for ${service} in:\n${text}`);
  assert.match(lines[head + 1], /^\s+TAG\s+REVISION\s+PERCENT\s+IMAGE\s*$/);
  const rows: TrafficRow[] = [];
  for (const line of lines.slice(head + 2)) {
    const m = /^\s+(\S+)\s+(\S+)\s+(\d+)%\s+\S+/.exec(line);
    if (!m) break;
    rows.push({ tag: m[1], revision: m[2], percent: Number(m[3]) });
  }
  return rows;
}

const tagsAndPercents = (rows: readonly TrafficRow[]) => rows.map((r) => `${r.tag} ${r.percent}%`);

/** Every YAML comment in a file, in order. */
function comments(yamlText: string): string[] {
  return yamlText
    .split("\n")
    .map((l) => /(?:^|\s)(#.*)$/.exec(l)?.[1].trimEnd())
    .filter((c): c is string => c !== undefined);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function services(yamlText: string): Json {
  return (parseYaml(yamlText) as Json).config["ai-orchestra:services"];
}

/** True when every line of `before` is still in `after`, in order (lines may only have been added). */
function onlyAddedLines(before: string, after: string): { ok: boolean; added: string[] } {
  const a = after.split("\n");
  const added: string[] = [];
  let i = 0;
  for (const line of before.split("\n")) {
    while (i < a.length && a[i] !== line) added.push(a[i++]);
    if (i === a.length) return { ok: false, added };
    i++;
  }
  return { ok: true, added: [...added, ...a.slice(i)] };
}

/** Runs that must not touch any stack file: snapshot, run, compare byte for byte. */
async function expectUntouched(project: TempProject, args: string[]): Promise<CliResult> {
  const before = STACK_FILES.map((f) => fs.readFileSync(path.join(project.dir, f)));
  const r = await runHere(project, ...args);
  STACK_FILES.forEach((f, i) =>
    assert.ok(
      fs.readFileSync(path.join(project.dir, f)).equals(before[i]),
      `${f} changed by \`orchestra ${args.join(" ")}\`\n${describeRun(r)}`,
    ),
  );
  return r;
}

// Comments everywhere a reviewer might put them, including inside the api service block.
const commented = (text: string) => {
  const out = text
    .replace("  gcp:region: europe-west1\n", "  gcp:region: europe-west1 # region of every service\n")
    .replace("    api:\n", "    # The public HTTP API.\n    api:\n")
    .replace("      stable:\n", "      # Releases: edited by `orchestra canary`.\n      stable:\n")
    .replace(
      "      allowUnauthenticated: true\n",
      "      # The API authenticates its callers itself.\n      allowUnauthenticated: true\n",
    )
    .replace("    worker:\n", "    # Long model jobs, pushed by Pub/Sub.\n    worker:\n")
    .concat("# End of the staging stack.\n");
  assert.equal(comments(out).length, 7, "fixture comments applied");
  return out;
};

interface Step {
  readonly r: CliResult;
  /** Pulumi.staging.yaml after the step. */
  readonly file: string;
}
type Steps = Record<string, Step>;

/**
 * The staging canary lifecycle, one step after another, recording the output and the file after each.
 * Cloud Run is a local fake of its Admin API: the canary revision is created (as `pulumi up` would)
 * between the steps, not ready at first, then ready.
 */
async function runLifecycle(): Promise<Steps> {
  const project = makeTempProject({ stacks: { staging: commented } });
  const cloudRun = await FakeCloudRunAdmin.start();
  try {
    const steps: Steps = {
      original: { r: { status: 0, stdout: "", stderr: "" }, file: project.read("staging") },
    };
    const env = { ORCHESTRA_CLOUD_RUN_ENDPOINT: cloudRun.url };
    const run = async (step: string, ...args: string[]) => {
      steps[step] = { r: await runInProcess(project.dir, args, { env }), file: project.read("staging") };
    };
    // What `pulumi up` of the file as it is now makes Cloud Run do, ending as `outcome` says.
    const deploy = (outcome: DeployOutcome) => {
      const api = services(project.read("staging")).api;
      const revision = api.canary?.phase === "staged" ? api.canary.revision : api.stable.revision;
      cloudRun.deploy("ai-orchestra-staging", "europe-west1", "api", {
        revision,
        traffic: [{ revision: api.stable.revision, percent: 100, tag: "stable" }],
        outcome,
      });
    };
    const st = ["--stack", "staging"];
    await run("statusAll", "canary", "status", "--json");
    await run("start", "canary", "start", "api", "--image", CANARY_IMAGE, "--percent", "5", ...st);
    await run("statusStarted", "canary", "status", ...st, "--json");
    // The service as it ran before the canary: its stable revision serving 100%.
    const stable = services(project.read("staging")).api.stable.revision;
    cloudRun.deploy("ai-orchestra-staging", "europe-west1", "api", {
      revision: stable,
      traffic: [{ revision: stable, percent: 100, tag: "stable" }],
      outcome: "ready",
    });
    await run("setBeforeUp", "canary", "set", "api", "30", ...st);
    deploy("pending");
    await run("setPending", "canary", "set", "api", "30", ...st);
    cloudRun.settle("ai-orchestra-staging", "europe-west1", "api", "ready");
    await run("set30", "canary", "set", "api", "30", ...st);
    await run("rollback", "canary", "rollback", "api", ...st);
    await run("statusRolledBack", "canary", "status", ...st, "--json");
    await run("rollbackAgain", "canary", "rollback", "api", ...st);
    await run("setAfterRollback", "canary", "set", "api", "10", ...st);
    await run("restart", "canary", "start", "api", "--image", CANARY_IMAGE, "--percent", "10", ...st);
    deploy("ready");
    await run("set10", "canary", "set", "api", "10", ...st);
    await run("promote", "canary", "promote", "api", ...st);
    await run("statusPromoted", "canary", "status", ...st, "--json");
    return steps;
  } finally {
    await cloudRun.close();
  }
}

describe("orchestra CLI (end to end)", function () {
  this.timeout(300_000);

  after(cleanupTempProjects);

  describe("--help", () => {
    const commands = [
      { args: [], mentions: ["plan", "canary"] },
      { args: ["plan"], mentions: ["--stack", "--json", "orchestra plan --stack prod"] },
      { args: ["canary"], mentions: ["start", "set", "promote", "rollback", "status", "comments kept"] },
      { args: ["canary", "start"], mentions: ["<service>", "--image <ref>", "--percent <n>", "--stack"] },
      { args: ["canary", "set"], mentions: ["<service> <percent>", "--stack"] },
      { args: ["canary", "promote"], mentions: ["<service>", "--stack"] },
      { args: ["canary", "rollback"], mentions: ["<service>", "--stack"] },
      { args: ["canary", "status"], mentions: ["--stack", "--json"] },
    ];
    let results: CliResult[];

    before(async () => {
      const project = makeTempProject();
      results = await Promise.all(commands.map((c) => runHere(project, ...c.args, "--help")));
    });

    commands.forEach(({ args, mentions }, i) => {
      const command = ["orchestra", ...args].join(" ");
      it(`${command} --help prints usage and exits 0`, () => {
        const r = results[i];
        expectExit(r, 0);
        assert.ok(r.stdout.startsWith(`Usage: ${command} `), describeRun(r));
        for (const m of mentions) assert.ok(r.stdout.includes(m), `help should mention ${m}\n${r.stdout}`);
        assert.equal(r.stderr, "");
      });
    });
  });

  describe("usage errors", () => {
    let project: TempProject;
    let typo: CliResult;
    let missingStack: CliResult;

    before(async () => {
      project = makeTempProject();
      [typo, missingStack] = await Promise.all([
        runHere(project, "plna"),
        expectUntouched(project, ["canary", "set", "api", "10"]),
      ]);
    });

    it("an unknown command exits 2 and suggests the closest one", () => {
      expectExit(typo, 2);
      assert.match(typo.stderr, /unknown command 'plna'/);
      assert.match(typo.stderr, /Did you mean plan\?/);
      assert.equal(typo.stdout, "");
    });

    it("a missing required option exits 2 and names it", () => {
      expectExit(missingStack, 2);
      assert.match(missingStack.stderr, /required option '-s, --stack <name>' not specified/);
      assert.equal(missingStack.stdout, "");
    });
  });

  describe("plan", () => {
    const CIPHERTEXT = "v1:abc";
    // A key in a namespace the program ignores: the offline render must never print its ciphertext.
    const withSecret = (text: string) => `${text.trimEnd()}\n  github:token:\n    secure: ${CIPHERTEXT}\n`;
    // A Slack channel whose token is a secure value the program does read.
    const withSlack = (text: string) => {
      const out = withSecret(text).replace(
        "    channels:\n",
        '    channels:\n      chat:\n        type: slack\n        channel: "#orchestra-alerts"\n',
      );
      assert.ok(out.includes("type: slack"), "fixture edit applied");
      return `${out}  ai-orchestra:slackToken:\n    secure: ${CIPHERTEXT}\n`;
    };
    const breakProd = (text: string) => {
      const broken = text
        .replace("        percent: 10 #", "        percent: 150 #")
        .replace("      memory: 1Gi\n", "      memroy: 1Gi\n");
      assert.ok(broken.includes("percent: 150") && broken.includes("memroy: 1Gi"), "fixture edit applied");
      return broken;
    };
    let dev: CliResult;
    let prodJson: CliResult;
    let configError: CliResult;
    let unknownStack: CliResult;

    before(async () => {
      const project = makeTempProject({ program: true, stacks: { dev: withSecret, prod: withSlack } });
      const broken = makeTempProject({ program: true, stacks: { prod: breakProd } });
      [dev, prodJson, configError, unknownStack] = await Promise.all([
        runHere(project, "plan", "--stack", "dev"),
        runHere(project, "plan", "--stack", "prod", "--json"),
        runHere(broken, "plan", "--stack", "prod"),
        runHere(project, "plan", "--stack", "nope"),
      ]);
    });

    it("plan --stack dev prints every service with its traffic table", () => {
      expectExit(dev, 0);
      assert.match(
        dev.stdout,
        /^Stack dev {2}dev, project ai-orchestra-dev, region europe-west1: \d+ resources/,
      );
      const api = trafficTable(dev.stdout, "api");
      const worker = trafficTable(dev.stdout, "worker");
      assert.deepEqual(tagsAndPercents(api), ["stable 100%"]);
      assert.deepEqual(tagsAndPercents(worker), ["stable 80%", "canary 20%"]);
      for (const r of api) assert.match(r.revision, /^api-[0-9a-f]{10}$/);
      assert.match(worker[0].revision, /^worker-[0-9a-f]{10}$/);
      // A canary's revision name carries its attempt, so a retried release is a new revision.
      assert.match(worker[1].revision, /^worker-[0-9a-f]{10}-[0-9a-z]{6}$/);
      assert.notEqual(worker[0].revision, worker[1].revision, "stable and canary are different revisions");
      assert.match(dev.stdout, /^ {4}api-service +gcp:cloudrunv2\/service:Service$/m);
      assert.match(dev.stdout, /^ {4}worker-service +gcp:cloudrunv2\/service:Service$/m);
      assert.match(dev.stdout, /Next: pulumi preview -s dev /);
      expectNoStackTrace(dev);
    });

    it("plan --stack prod --json prints the resources with type, name, parent and inputs", () => {
      expectExit(prodJson, 0);
      const out = JSON.parse(prodJson.stdout) as Json;
      assert.equal(out.stack, "prod");
      assert.ok(Array.isArray(out.resources) && out.resources.length > 0);
      const names = new Set<string>(out.resources.map((r: Json) => r.name));
      for (const r of out.resources) {
        assert.equal(typeof r.type, "string");
        assert.equal(typeof r.name, "string");
        assert.equal(typeof r.inputs, "object");
        // Top-level resources are the program's own components; everything else has a declared parent.
        if (r.parent === undefined) assert.match(r.type, /^ai-orchestra:[a-z]+:[A-Za-z]+$/, r.name);
        else assert.ok(names.has(r.parent), `${r.name} has parent ${r.parent}, which is declared`);
      }
      const byName = (name: string) => out.resources.find((r: Json) => r.name === name);
      assert.equal(byName("api").type, "ai-orchestra:cloudrun:CanaryService");
      assert.equal(byName("api-service").type, "gcp:cloudrunv2/service:Service");
      assert.equal(byName("api-service").parent, "api");
      assert.equal(byName("worker-service").parent, "worker");

      const cloudRun = out.resources.filter((r: Json) => r.type === "gcp:cloudrunv2/service:Service");
      // api runs in europe-west1 and europe-west4, worker in europe-west1 only.
      assert.deepEqual(cloudRun.map((r: Json) => `${r.name} ${r.inputs.location}`).sort(), [
        "api-europe-west4-service europe-west4",
        "api-service europe-west1",
        "worker-service europe-west1",
      ]);
      assert.deepEqual(
        byName("api-europe-west4-service").inputs.traffics,
        byName("api-service").inputs.traffics,
      );
      for (const svc of cloudRun) {
        const sum = svc.inputs.traffics.reduce((n: number, t: Json) => n + t.percent, 0);
        assert.equal(sum, 100, `${svc.name} traffic sums to 100`);
      }
      const apiTraffic = byName("api-service").inputs.traffics as Json[];
      assert.deepEqual(
        apiTraffic.map((t) => `${t.tag} ${t.percent}%`),
        ["stable 90%", "canary 10%"],
      );
      assert.equal(apiTraffic[0].revision, "api-b00b800f56", "stable stays on the pinned revision");
    });

    it("never prints a secure: value, in text or JSON", () => {
      for (const r of [dev, prodJson]) {
        expectExit(r, 0);
        assert.ok(!r.stdout.includes(CIPHERTEXT) && !r.stderr.includes(CIPHERTEXT), describeRun(r));
      }
    });

    it("keeps the Slack token a secret: the channel's sensitive labels print as [secret]", () => {
      expectExit(prodJson, 0);
      const chat = (JSON.parse(prodJson.stdout) as Json).resources.find(
        (r: Json) => r.name === "notifications-chat",
      );
      assert.equal(chat.inputs.type, "slack");
      assert.equal(chat.inputs.sensitiveLabels, "[secret]");
      assert.ok(!prodJson.stdout.includes("decrypted only"), "the offline stand-in is never printed either");
    });

    it("a config error exits 1 naming the key path, the bad value and a fix, without a stack trace", () => {
      expectExit(configError, 1);
      const err = configError.stderr;
      assert.match(err, /Stack "prod" has 2 config errors; nothing was declared\./);
      assert.match(
        err,
        /ai-orchestra:services\.api\.canary\.percent = 150\n\s+must be at most 100\.\n\s+Fix: /,
      );
      assert.match(err, /ai-orchestra:services\.api\.memroy = "1Gi"\n\s+is not a known key\.\n\s+Fix: /);
      assert.match(err, /did you mean `memory`\?/);
      assert.equal(configError.stdout, "");
      expectNoStackTrace(configError);
    });

    it("an unknown stack exits 1 and lists the stacks there are", () => {
      expectExit(unknownStack, 1);
      assert.match(unknownStack.stderr, /There is no stack "nope"/);
      assert.match(unknownStack.stderr, /Stacks here: dev, prod, staging\./);
      assert.equal(unknownStack.stdout, "");
      expectNoStackTrace(unknownStack);
    });
  });

  describe("canary lifecycle on staging (start, set, rollback, set, promote)", () => {
    let steps: Steps;
    const status = (step: string): Json => JSON.parse(steps[step].r.stdout);
    const stagingApi = (step: string): Json =>
      status(step)
        .stacks.find((s: Json) => s.stack === "staging")
        .services.find((s: Json) => s.name === "api");

    before(async () => {
      steps = await runLifecycle();
    });

    it("canary status without --stack reports all three stacks", () => {
      expectExit(steps.statusAll.r, 0);
      const all = status("statusAll").stacks as Json[];
      assert.deepEqual(
        all.map((s) => s.stack),
        ["dev", "prod", "staging"],
      );
      const summary = Object.fromEntries(
        all.map((s) => [
          s.stack,
          s.services.map((v: Json) => `${v.name}: ${v.state} ${tagsAndPercents(v.traffic).join(" / ")}`),
        ]),
      );
      assert.deepEqual(summary, {
        dev: ["api: stable stable 100%", "worker: canary stable 80% / canary 20%"],
        prod: ["api: canary stable 90% / canary 10%", "worker: stable stable 100%"],
        staging: ["api: stable stable 100%", "worker: stable stable 100%"],
      });
      assert.equal(all[1].services[0].stable.revision, "api-b00b800f56");
    });

    it("start: stages the canary after stable (no traffic yet), names a new revision, pins stable, keeps every comment", () => {
      const { r, file } = steps.start;
      expectExit(r, 0);
      const api = services(file).api;
      const stableRevision = stagingApi("statusAll").stable.revision;
      assert.match(stableRevision, /^api-[0-9a-f]{10}$/);
      assert.match(api.canary.revision, /^api-[0-9a-f]{10}-[0-9a-z]{6}$/);
      assert.deepEqual(api.canary, {
        image: CANARY_IMAGE,
        revision: api.canary.revision,
        percent: 5,
        phase: "staged",
      });
      assert.deepEqual(api.stable, {
        image: services(steps.original.file).api.stable.image,
        revision: stableRevision,
      });

      // Nothing of the original file was removed or changed; only the pin and the canary block were added.
      assert.deepEqual(comments(file), comments(steps.original.file));
      const diff = onlyAddedLines(steps.original.file, file);
      assert.ok(diff.ok, `original lines were changed or removed:\n${file}`);
      assert.deepEqual(diff.added, [
        `        revision: ${stableRevision}`,
        "      canary:",
        `        image: ${CANARY_IMAGE}`,
        `        revision: ${api.canary.revision}`,
        "        percent: 5",
        "        phase: staged",
      ]);
      // ...and the canary block sits directly after the stable block.
      const lines = file.split("\n");
      const stable = lines.indexOf("      stable:", lines.indexOf("    api:"));
      let next = stable + 1;
      while (lines[next].startsWith("        ")) next++;
      assert.equal(lines[next], "      canary:", file);

      // Staged: the traffic list does not name the canary; the template creates it.
      const rows = trafficTable(r.stdout, "api");
      assert.deepEqual(tagsAndPercents(rows), ["stable 100%"]);
      assert.equal(rows[0].revision, stableRevision, "stable traffic stays on the revision it was on");
      assert.match(
        r.stdout,
        new RegExp(`template revision: ${api.canary.revision} \\(the canary release\\)`),
      );
      assert.match(r.stdout, /canary of api staged; it takes 5% once/);
      assert.match(r.stdout, /Next: `orchestra preview --stack staging` /);
    });

    it("status after start: staged, stable keeps 100%", () => {
      expectExit(steps.statusStarted.r, 0);
      const api = stagingApi("statusStarted");
      assert.equal(api.state, "staged");
      assert.deepEqual(api.canary, {
        image: CANARY_IMAGE,
        percent: 5,
        phase: "staged",
        revision: services(steps.start.file).api.canary.revision,
      });
      assert.equal(api.stable.revision, stagingApi("statusAll").stable.revision);
      assert.deepEqual(tagsAndPercents(api.traffic), ["stable 100%"]);
    });

    it("set before the revision exists, and while it is not ready yet: refused, file unchanged", () => {
      for (const [step, why] of [
        ["setBeforeUp", /does not exist yet \(run `pulumi up --refresh`\)/],
        ["setPending", /is not ready yet/],
      ] as const) {
        const { r, file } = steps[step];
        expectExit(r, 1);
        assert.match(r.stderr, why);
        assert.match(r.stderr, /europe-west1: revision api-[0-9a-f]{10}-[0-9a-z]{6}/);
        assert.equal(file, steps.start.file);
        assert.deepEqual(stackTraceLines(r.stderr), []);
      }
    });

    it("set 30 once Cloud Run reports the revision ready: serving at 30%", () => {
      const { r, file } = steps.set30;
      expectExit(r, 0);
      const canary = services(steps.start.file).api.canary;
      assert.deepEqual(services(file).api.canary, { ...canary, percent: 30, phase: "serving" });
      assert.deepEqual(comments(file), comments(steps.original.file));
      assert.deepEqual(tagsAndPercents(trafficTable(r.stdout, "api")), ["stable 70%", "canary 30%"]);
    });

    it("rollback: the exact stable revision at 100%, the canary no longer named", () => {
      const { r, file } = steps.rollback;
      expectExit(r, 0);
      const canary = services(steps.set30.file).api.canary;
      assert.deepEqual(services(file).api.canary, { ...canary, phase: "rolled-back" });
      const rows = trafficTable(r.stdout, "api");
      assert.deepEqual(rows, [
        { tag: "stable", revision: stagingApi("statusAll").stable.revision, percent: 100 },
      ]);
      assert.match(r.stdout, new RegExp(`template revision: ${rows[0].revision} \\(the stable release\\)`));
      const api = stagingApi("statusRolledBack");
      assert.equal(api.state, "rolled-back");
      assert.deepEqual(tagsAndPercents(api.traffic), ["stable 100%"]);
    });

    it("a second rollback exits 0 and leaves the file byte for byte as it was", () => {
      const { r, file } = steps.rollbackAgain;
      expectExit(r, 0);
      assert.equal(file, steps.rollback.file);
      assert.match(r.stdout, /Nothing to change/);
    });

    it("set after a rollback is refused: the release is retried by starting it again", () => {
      const { r, file } = steps.setAfterRollback;
      expectExit(r, 1);
      assert.match(r.stderr, /was rolled back.*orchestra canary start api --image/s);
      assert.equal(file, steps.rollback.file);
    });

    it("starting the same image again names a revision never used, so Cloud Run creates it afresh", () => {
      const { r, file } = steps.restart;
      expectExit(r, 0);
      const before = services(steps.rollback.file).api.canary.revision;
      const after = services(file).api.canary;
      assert.equal(after.phase, "staged");
      assert.notEqual(after.revision, before);
      // Same template, so the same content hash; only the attempt differs.
      assert.equal(after.revision.slice(0, -7), before.slice(0, -7));
      const { r: r10, file: f10 } = steps.set10;
      expectExit(r10, 0);
      assert.deepEqual(services(f10).api.canary, { ...after, percent: 10, phase: "serving" });
    });

    it("promote: the canary's image and revision become stable's, no canary block, no new revision", () => {
      const { r, file } = steps.promote;
      expectExit(r, 0);
      const canary = services(steps.set10.file).api.canary;
      const api = services(file).api;
      assert.deepEqual(api.stable, { image: CANARY_IMAGE, revision: canary.revision });
      assert.equal(api.canary, undefined);
      assert.deepEqual(comments(file), comments(steps.original.file));
      // The canary's revision already exists: promoting moves traffic to it instead of creating one.
      const rows = trafficTable(r.stdout, "api");
      assert.deepEqual(rows, [{ tag: "stable", revision: canary.revision, percent: 100 }]);

      const after = stagingApi("statusPromoted");
      assert.equal(after.state, "stable");
      assert.equal(after.canary, null);
      assert.equal(after.stable.image, CANARY_IMAGE);
      assert.deepEqual(tagsAndPercents(after.traffic), ["stable 100%"]);
    });
  });

  describe("refusals leave every stack file byte for byte unchanged", () => {
    const otherDigest = digest("another release");
    const cases: {
      title: string;
      args: string[];
      exit: number | number[];
      stderr: RegExp[];
      stacks?: Record<string, (text: string) => string>;
    }[] = [
      {
        title: "start while a canary is already running (prod api)",
        args: [
          "canary",
          "start",
          "api",
          "--image",
          `${repoOf("prod", "api")}@${otherDigest}`,
          "--stack",
          "prod",
        ],
        exit: 1,
        stderr: [/Service "api" already has a canary/, /orchestra canary promote api --stack prod/],
      },
      {
        title: "start with a tag instead of a digest in prod",
        args: ["canary", "start", "worker", "--image", `${repoOf("prod", "worker")}:v2`, "--stack", "prod"],
        exit: 1,
        stderr: [
          /was not changed: it would make the stack invalid/,
          /ai-orchestra:services\.worker\.canary\.image = ".*:v2"/,
          /must be pinned by digest in prod/,
          /Fix: /,
        ],
      },
      {
        title: "start with an image from another repository",
        args: [
          "canary",
          "start",
          "api",
          "--image",
          `${repoOf("staging", "worker")}@${otherDigest}`,
          "--stack",
          "staging",
        ],
        exit: 1,
        stderr: [/was not changed: it would make the stack invalid/, /is not in this service's repository/],
      },
      {
        title: "set 101",
        args: ["canary", "set", "api", "101", "--stack", "prod"],
        exit: 2,
        stderr: [/Percent must be a whole number from 0 to 100, without %; got "101"/],
      },
      {
        title: "set -5",
        args: ["canary", "set", "api", "-5", "--stack", "prod"],
        exit: 2,
        stderr: [/Percent must be a whole number from 0 to 100/, /-5/],
      },
      {
        title: "set 2.5",
        args: ["canary", "set", "api", "2.5", "--stack", "prod"],
        exit: 2,
        stderr: [/Percent must be a whole number from 0 to 100/, /2\.5/],
      },
      {
        title: "set abc",
        args: ["canary", "set", "api", "abc", "--stack", "prod"],
        exit: 2,
        stderr: [/Percent must be a whole number from 0 to 100/, /abc/],
      },
      {
        title: "promote without a canary",
        args: ["canary", "promote", "worker", "--stack", "prod"],
        exit: 1,
        stderr: [/Service "worker" has no canary to promote/],
      },
      {
        title: "rollback without a canary",
        args: ["canary", "rollback", "worker", "--stack", "prod"],
        exit: 1,
        stderr: [/Service "worker" has no canary to roll back/],
      },
      {
        title: "an unknown service",
        args: ["canary", "set", "web", "10", "--stack", "prod"],
        exit: 1,
        stderr: [/Stack "prod" has no service "web"\. Services: api, worker\./],
      },
      {
        title: "any edit of a stack file that is already invalid",
        stacks: { prod: (t) => t.replace("        percent: 10 #", "        percent: 150 #") },
        args: ["canary", "set", "api", "20", "--stack", "prod"],
        exit: 1,
        stderr: [
          /Pulumi\.prod\.yaml was not changed: fix its errors first/,
          /ai-orchestra:services\.api\.canary\.percent = 150/,
          /must be at most 100/,
        ],
      },
    ];
    const results: CliResult[] = [];
    let brokenProject: TempProject;
    let brokenStatus: CliResult;

    before(async () => {
      const runs = cases.map((c) => {
        const project = makeTempProject({ stacks: c.stacks });
        if (c.stacks) brokenProject = project;
        return expectUntouched(project, c.args);
      });
      results.push(...(await Promise.all(runs)));
      brokenStatus = await expectUntouched(brokenProject, ["canary", "status"]);
    });

    cases.forEach((c, i) => {
      it(`refuses ${c.title}`, () => {
        const r = results[i];
        expectExit(r, c.exit);
        for (const re of c.stderr) assert.match(r.stderr, re);
        assert.equal(r.stdout, "", "nothing printed as if it had worked");
        expectNoStackTrace(r);
      });
    });

    it("canary status with one broken stack file still reports the others and exits 1", () => {
      expectExit(brokenStatus, 1);
      const out = brokenStatus.stdout;
      assert.match(
        out,
        /^Stack dev\n {2}api +stable 100% +stable\n {2}worker +stable 80% \/ canary 20% +canary\n/m,
      );
      assert.match(out, /^Stack staging\n {2}api +stable 100% +stable\n {2}worker +stable 100% +stable\n/m);
      assert.match(out, /^Stack prod\nStack "prod" has 1 config error/m);
      assert.match(out, /ai-orchestra:services\.api\.canary\.percent = 150/);
      expectNoStackTrace(brokenStatus);
    });
  });

  describe("comments beside edited values", () => {
    let r: CliResult;
    let file: string;

    before(async () => {
      const project = makeTempProject();
      r = await runHere(project, "canary", "set", "api", "30", "--stack", "prod");
      file = project.read("prod");
    });

    it("canary set keeps every comment of the prod stack file, including the one beside `percent`", () => {
      expectExit(r, 0);
      assert.equal(services(file).api.canary.percent, 30);
      const lost = comments(repoText("Pulumi.prod.yaml")).filter((c) => !comments(file).includes(c));
      assert.deepEqual(
        lost,
        [],
        "PRODUCT BUG: `orchestra canary set api 30 --stack prod` dropped these comments " +
          "(the canary help promises `comments kept`; the edit replaces the scalar node and its inline comment with it)",
      );
    });
  });
});
