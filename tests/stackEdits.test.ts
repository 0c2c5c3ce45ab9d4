import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import fc from "fast-check";
import { editStack } from "../cli/stackEditor";
import { setCanaryPercent, stablePin } from "../model/canary/lifecycle";
import { readStackConfig, StackFileError } from "../render/stackFile";
import { FakeCloudRunAdmin } from "./support/fakeCloudRunAdmin";
import { pinProblems, servedStableRevision } from "../model/canary/pin";
import type { LiveServicePresent, LiveTrafficStatus } from "../model/live";
import { validate } from "./support/render";
import { makeGitProject } from "./support/toolsHarness";
import { cleanupTempProjects, describeRun, makeTempProject, type TempProject } from "./support/cliHarness";
import { runInProcess } from "./support/inProcessCli";

/**
 * The canary verbs' edits of a stack file: nothing lost when something else edits the file meanwhile
 * (two processes at once: e2e/concurrentEdits.test.ts), nothing written past a guardrail or into a file that cannot take it, and every byte the
 * edit does not change kept (line endings, byte order mark, comments).
 */

const WORKER_IMAGE = `europe-west1-docker.pkg.dev/ai-orchestra-prod/orchestra/worker@sha256:${"1".repeat(64)}`;
const API_IMAGE = `europe-west1-docker.pkg.dev/ai-orchestra-prod/orchestra/api@sha256:${"2".repeat(64)}`;

const inProcess = (project: TempProject, ...args: string[]) => runInProcess(project.dir, args);

describe("stack file edits", function () {
  this.timeout(600_000);
  after(() => cleanupTempProjects());

  describe("edited meanwhile", () => {
    it("a change made by something that takes no lock, between the read and the write, refuses the edit", () => {
      const project = makeTempProject();
      const file = project.stackFile("prod");
      const edited = `${project.read("prod")}# edited in an editor meanwhile\n`;
      assert.throws(
        () =>
          editStack(project.dir, "prod", (c) => {
            fs.writeFileSync(file, edited);
            return setCanaryPercent(c, "api", 30);
          }),
        (e: Error) =>
          e instanceof StackFileError &&
          e.message ===
            "Pulumi.prod.yaml was not changed: the file changed meanwhile (edited by something else). Run the command again.",
      );
      assert.equal(project.read("prod"), edited);
    });
  });

  describe("guardrails", () => {
    it("a mandatory canary-percent rule refuses `canary set` and `canary start` above it; nothing is written", async () => {
      const project = makeTempProject();
      const before = project.read("prod");
      const set = await inProcess(project, "canary", "set", "api", "100", "--stack", "prod");
      assert.equal(set.status, 1, describeRun(set));
      assert.equal(
        set.stderr,
        "error: api's canary takes 100% of traffic; this stack allows at most 80%. The canary-percent guardrail is " +
          'mandatory on stack "prod", so nothing was changed. Fix: `orchestra canary promote api --stack prod`, ' +
          "or `orchestra canary set api 80 --stack prod`.\n",
      );
      const start = await inProcess(
        project,
        "canary",
        "start",
        "worker",
        "--image",
        WORKER_IMAGE,
        "--percent",
        "90",
        "--stack",
        "prod",
      );
      assert.equal(start.status, 1, describeRun(start));
      assert.match(
        start.stderr,
        /worker's canary takes 90% of traffic; this stack allows at most 80%\. .* Fix: start it with `--percent 80` or less\./,
      );
      assert.equal(project.read("prod"), before);
      const edge = await inProcess(project, "canary", "set", "api", "80", "--stack", "prod");
      assert.equal(edge.status, 0, describeRun(edge));
    });

    it("an advisory one warns and edits; a disabled one says nothing", async () => {
      const policy = (level: string) => (t: string) =>
        t.replace(
          "  ai-orchestra:services:\n",
          `  ai-orchestra:policy:\n    maxCanaryPercent: 50\n    rules:\n      canary-percent: ${level}\n  ai-orchestra:services:\n`,
        );
      const advisory = makeTempProject({ stacks: { prod: policy("advisory") } });
      const r = await inProcess(advisory, "canary", "set", "api", "60", "--stack", "prod");
      assert.equal(r.status, 0, describeRun(r));
      assert.match(
        r.stderr,
        /^warning: api's canary takes 60% of traffic; this stack allows at most 50%\. \(canary-percent is advisory on stack "prod": changed anyway\)$/m,
      );
      assert.match(advisory.read("prod"), /percent: 60 # raise/);
      const disabled = makeTempProject({ stacks: { prod: policy("disabled") } });
      const quiet = await inProcess(disabled, "canary", "set", "api", "60", "--stack", "prod");
      assert.equal(quiet.status, 0, describeRun(quiet));
      assert.equal(quiet.stderr, "");
    });
  });

  describe("layout", () => {
    const rolledBack = (project: TempProject) =>
      project.read("prod").replace("phase: serving", "phase: rolled-back");

    it("`canary start` over a rolled-back canary keeps CRLF line endings, the byte order mark and the comment on percent", async () => {
      const project = makeTempProject();
      const lf = rolledBack(project);
      project.write("prod", `\uFEFF${lf.replace(/\n/g, "\r\n")}`);
      const r = await inProcess(
        project,
        "canary",
        "start",
        "api",
        "--image",
        API_IMAGE,
        "--percent",
        "20",
        "--stack",
        "prod",
      );
      assert.equal(r.status, 0, describeRun(r));
      const after = project.read("prod");
      assert.ok(after.startsWith("\uFEFF# Prod."), "the byte order mark is kept");
      assert.equal(after.split("\r\n").length, lf.split("\n").length, "every line still ends in CRLF");
      assert.doesNotMatch(after, /[^\r]\n/, "no line ends in a bare LF");
      assert.match(after, /\r\n {8}percent: 20 # raise with `orchestra canary set api N --stack prod`\r\n/);
      // Only the canary's own values changed.
      const changed = after
        .replace(/^\uFEFF/, "")
        .split("\r\n")
        .filter((line, i) => line !== lf.split("\n")[i]);
      assert.deepEqual(
        changed.map((l) => l.trim().split(":")[0]),
        ["image", "revision", "percent", "phase"],
      );
    });

    it("property: `canary set` changes the percent and nothing else, whatever the file's layout", () => {
      const project = makeTempProject();
      const original = project.read("prod");
      fc.assert(
        fc.property(
          fc.record({
            crlf: fc.boolean(),
            bom: fc.boolean(),
            comment: fc.option(fc.stringMatching(/^[ -~]{0,30}$/), { nil: undefined }),
            trailing: fc.option(fc.stringMatching(/^[ -~]{0,30}$/), { nil: undefined }),
            percent: fc.integer({ min: 0, max: 80 }),
          }),
          ({ crlf, bom, comment, trailing, percent }) => {
            let lf = original;
            // A function: a comment holding "$`" or "$&" must not be read as a replacement pattern.
            if (comment !== undefined) lf = lf.replace(/percent: 10 # .*/, () => `percent: 10 #${comment}`);
            if (trailing !== undefined) lf = `${lf}#${trailing}\n`;
            const layout = (t: string) => (bom ? "\uFEFF" : "") + (crlf ? t.replace(/\n/g, "\r\n") : t);
            project.write("prod", layout(lf));
            editStack(project.dir, "prod", (c) => setCanaryPercent(c, "api", percent));
            // The expected file: the input with the one value replaced, byte for byte.
            assert.equal(
              project.read("prod"),
              layout(lf.replace(/percent: 10( #|\n)/, `percent: ${percent}$1`)),
            );
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe("files that cannot be edited", () => {
    it("a stack file that is a folder, and a stack that does not exist, are said as such", async () => {
      const project = makeTempProject();
      fs.mkdirSync(project.stackFile("qa"));
      const folder = await inProcess(project, "canary", "set", "api", "30", "--stack", "qa");
      assert.equal(folder.status, 1, describeRun(folder));
      assert.match(
        folder.stderr,
        /^error: Pulumi\.qa\.yaml is a folder, not a file: stack "qa" needs its settings/,
      );
      assert.doesNotMatch(folder.stderr, /does not exist|fix its errors/);
      const missing = await inProcess(project, "canary", "set", "api", "30", "--stack", "nope");
      assert.equal(missing.status, 1, describeRun(missing));
      assert.equal(
        missing.stderr,
        'error: There is no stack "nope": Pulumi.nope.yaml does not exist. Stacks here: dev, prod, qa, staging.\n',
      );
    });
  });

  describe("the stable pin of `canary start`", () => {
    const STAGING_WORKER = `europe-west1-docker.pkg.dev/ai-orchestra-staging/orchestra/worker@sha256:${"3".repeat(64)}`;
    const moreMemory = (t: string) => t.replace("      memory: 2Gi\n", "      memory: 4Gi\n");
    const startWorker = (project: TempProject, ...extra: string[]) =>
      runInProcess(
        project.dir,
        ["canary", "start", "worker", "--image", STAGING_WORKER, "--stack", "staging", ...extra],
        { env: { ORCHESTRA_CLOUD_RUN_ENDPOINT: fake.url } },
      );
    const pinOf = (project: TempProject) => {
      const result = validate("staging", readStackConfig(project.dir, "staging").flat);
      assert.ok(result.ok);
      return stablePin(result.config, "worker")!;
    };
    let fake: FakeCloudRunAdmin;
    before(async () => {
      fake = await FakeCloudRunAdmin.start();
    });
    after(() => fake.close());

    it("what Cloud Run serves as stable: the stable tag's revision, else the one at 100% (latest: the latest ready)", () => {
      const present = (trafficStatuses: LiveTrafficStatus[]): LiveServicePresent => ({
        region: "r1",
        service: "worker",
        exists: true,
        reconciling: false,
        generation: 2,
        observedGeneration: 2,
        latestReadyRevision: "worker-new",
        traffic: trafficStatuses,
        trafficStatuses,
        revisions: [],
      });
      const split = [
        { allocation: "revision", revision: "worker-old", percent: 90, tag: "stable" },
        { allocation: "revision", revision: "worker-c", percent: 10, tag: "canary" },
      ] as const;
      assert.equal(servedStableRevision(present([...split])), "worker-old");
      assert.equal(servedStableRevision(present([{ allocation: "latest", percent: 100 }])), "worker-new");
      assert.equal(servedStableRevision(present([{ ...split[0], tag: undefined }, split[1]])), undefined);
      assert.deepEqual(
        pinProblems("worker-old", [
          { region: "r1", ok: true, state: present([...split]) },
          { region: "r2", ok: true, state: present([{ allocation: "latest", percent: 100 }]) },
          { region: "r3", ok: true, state: { region: "r3", service: "worker", exists: false } },
          {
            region: "r4",
            ok: false,
            failure: {
              kind: "permission-denied",
              reason: "denied",
              fix: "grant roles/run.viewer",
              attempts: 1,
            },
          },
        ]),
        [
          "r2: Cloud Run serves worker-new as stable, not worker-old",
          "r3: the service is not deployed there",
          "r4: could not be read: denied (grant roles/run.viewer)",
        ],
      );
    });

    it("an uncommitted change to stable's settings is refused, naming it; once committed, the start goes ahead", async () => {
      const project = makeGitProject();
      const committedPin = pinOf(project);
      project.write("staging", moreMemory(project.read("staging")));
      const changed = project.read("staging");
      const r = await startWorker(project);
      assert.equal(r.status, 1, describeRun(r));
      assert.equal(
        r.stderr,
        `error: worker's stable settings differ from the last commit (uncommitted: Pulumi.staging.yaml): pinned from ` +
          `them, stable would move to ${pinOf(project)}, a revision never deployed (the committed settings give ` +
          `${committedPin}), so Pulumi.staging.yaml was not changed.\n` +
          "Next: deploy the setting change first (commit it, then `orchestra up --stack staging`), or undo it " +
          "(`git stash`), then start the canary; `--live` checks the pin against what Cloud Run serves instead.\n",
      );
      assert.equal(project.read("staging"), changed);

      project.git("commit", "--quiet", "-am", "more memory for the worker");
      project.write("staging", `${project.read("staging")}# a comment changes no setting\n`);
      const ok = await startWorker(project);
      assert.equal(ok.status, 0, describeRun(ok));
      assert.match(project.read("staging"), new RegExp(`revision: ${pinOf(project)}\n`));
    });

    it("--live pins only what Cloud Run serves as stable, and refuses a pin it does not serve", async () => {
      const project = makeTempProject();
      const pin = pinOf(project);
      fake.deploy("ai-orchestra-staging", "europe-west1", "worker", {
        revision: pin,
        traffic: [{ revision: pin, percent: 100 }],
        outcome: "ready",
      });
      const changed = makeTempProject({ stacks: { staging: moreMemory } });
      const before = changed.read("staging");
      const refused = await startWorker(changed, "--live");
      assert.equal(refused.status, 1, describeRun(refused));
      assert.match(
        refused.stderr,
        new RegExp(
          `error: Stable would be pinned to ${pinOf(changed)}, which Cloud Run does not serve as stable everywhere, ` +
            `so Pulumi\\.staging\\.yaml was not changed:\n  europe-west1: Cloud Run serves ${pin} as stable, not ${pinOf(changed)}\n`,
        ),
      );
      assert.equal(changed.read("staging"), before);

      const ok = await startWorker(project, "--live");
      assert.equal(ok.status, 0, describeRun(ok));
      assert.match(project.read("staging"), new RegExp(`revision: ${pin}\n`));
    });
  });

  describe("messages", () => {
    it("a canary edit gives one next step, on stdout; `Nothing to change` is not told to see a change", async () => {
      const project = makeTempProject();
      const env = { env: { ORCHESTRA_NO_SUGGESTIONS: undefined } };
      const set = await runInProcess(project.dir, ["canary", "set", "api", "30", "--stack", "prod"], env);
      assert.equal(set.status, 0, describeRun(set));
      assert.deepEqual(
        set.stdout.split("\n").filter((l) => /^next/i.test(l)),
        [
          "Next: `orchestra preview --stack prod` to see the change, then `orchestra up --stack prod` (or merge the pull request) to apply it.",
        ],
      );
      assert.doesNotMatch(set.stderr, /next/i);
      const again = await runInProcess(project.dir, ["canary", "set", "api", "30", "--stack", "prod"], env);
      assert.equal(again.status, 0, describeRun(again));
      assert.match(again.stdout, /^Nothing to change: api is already in that state/);
      assert.doesNotMatch(again.stdout, /to see the change/);
      assert.match(
        again.stdout,
        /^Next: `orchestra canary status --stack prod --live` shows whether Cloud Run already serves it\.$/m,
      );
      assert.doesNotMatch(again.stderr, /next/i);
    });
  });
});
