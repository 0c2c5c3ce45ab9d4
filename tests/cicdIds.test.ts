import { strict as assert } from "node:assert";
import { parse } from "yaml";
import { compareIds, idEdits, planIds } from "../cli/github/cicdIds";
import { baseConfig, validate } from "./support/render";
import { docBlock } from "./support/docs";
import { formatIssues } from "../config/errors";
import { cleanupTempProjects, describeRun, makeTempProject, type TempProject } from "./support/cliHarness";
import { startFakeIdsApi as startFakeGitHubIds } from "./support/fakeGitHubIds";
import { runInProcess } from "./support/inProcessCli";

/**
 * `orchestra cicd ids`: the stack files' numeric GitHub ids against the names they stand for, through
 * a fake GitHub API on 127.0.0.1. The first run is the real process; the others run the same `main`
 * in this process (support/inProcessCli.ts), which spares each the CLI's start-up.
 */

const TOKEN = "ghp_FAKEids";

/** What GitHub would answer for the names in Pulumi.prod.yaml. */
const GITHUB = {
  "/users/ai-orchestra": { id: 165432109, type: "Organization" },
  "/repos/ai-orchestra/infra": { id: 801234567 },
  "/repos/ai-orchestra/api": { id: 801234568 },
  "/repos/ai-orchestra/worker": { id: 801234569 },
  "/apps/ai-orchestra-delivery": { id: 1043210 },
  "/orgs/ai-orchestra/teams/platform": { id: 9876543 },
  "/users/octocat": { id: 583231 },
};

/** The docs' fenced block (of any language) that contains `marker`, with its final newline. */
const docsBlock = (marker: string) => {
  const block = docBlock(marker);
  return block === undefined ? undefined : `${block}\n`;
};

const prodCicd = (text: string) =>
  (parse(text) as { config: Record<string, unknown> }).config["ai-orchestra:cicd"];

describe("cicd ids: deciding", () => {
  // Made when the block runs, not when the file loads: another file's cleanup of every temp project
  // would otherwise remove it first.
  let project: TempProject;
  before(() => {
    project = makeTempProject();
  });
  after(() => project.cleanup());

  it("plans one lookup per named id of the prod stack, by name", () => {
    const plan = planIds(prodCicd(project.read("prod")));
    assert.deepEqual(
      plan.targets.map((t) => [t.kind, t.request, t.configured, t.path.slice(2).join(".")]),
      [
        ["owner", "GET /users/ai-orchestra", 165432109, "github.ownerId"],
        ["repository", "GET /repos/ai-orchestra/infra", 801234567, "github.infraRepository.id"],
        ["repository", "GET /repos/ai-orchestra/api", 801234568, "applications.api.id"],
        ["repository", "GET /repos/ai-orchestra/worker", 801234569, "applications.worker.id"],
        ["App", "GET /apps/ai-orchestra-delivery", 1043210, "github.appId"],
        ["team", "GET /orgs/ai-orchestra/teams/platform", 9876543, "reviewers.teams.0.id"],
      ],
    );
    assert.deepEqual(plan.unchecked, []);
  });

  it("lists bare reviewer ids as unchecked, and plans ids that are not written yet", () => {
    const plan = planIds({
      github: { owner: "acme", infraRepository: { name: "infra" } },
      reviewers: { teams: [42, { slug: "sre" }], users: [{ login: "octocat", id: 1 }] },
    });
    assert.deepEqual(plan.unchecked, [
      { kind: "team", configured: 42, path: ["config", "ai-orchestra:cicd", "reviewers", "teams", "0"] },
    ]);
    const missing = plan.targets.filter((t) => t.configured === undefined).map((t) => [t.name, t.after]);
    assert.deepEqual(missing, [
      ["acme", "owner"],
      ["acme/infra", "name"],
      ["acme/sre", "slug"],
    ]);
  });

  it("edits only the ids that differ or are missing, each in place or after its name", () => {
    const plan = planIds({
      github: { owner: "acme", ownerId: 1, infraRepository: { name: "infra", id: 2 } },
      reviewers: { users: [{ login: "octocat" }] },
    });
    const results = compareIds(plan.targets, [
      { ok: true, id: 1 },
      { ok: true, id: 20 },
      { ok: false, status: 404, message: "Not Found" },
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["ok", "differs", "not found"],
    );
    assert.deepEqual(idEdits(results), [
      {
        op: "set",
        path: ["config", "ai-orchestra:cicd", "github", "infraRepository", "id"],
        value: 20,
        after: "name",
      },
    ]);
    assert.deepEqual(idEdits(compareIds(plan.targets.slice(2), [{ ok: true, id: 583231 }])), [
      {
        op: "set",
        path: ["config", "ai-orchestra:cicd", "reviewers", "users", "0", "id"],
        value: 583231,
        after: "login",
      },
    ]);
  });

  it("the docs' reviewers example is valid config, and names what it checks", () => {
    const example = docsBlock("appSlug: ai-orchestra-delivery");
    assert.ok(example, "the docs show the cicd ids example");
    const cicd = (parse(example) as Record<string, unknown>)["ai-orchestra:cicd"];
    const result = validate("prod", baseConfig({}, { "ai-orchestra:cicd": cicd }));
    assert.ok(result.ok, result.ok ? "" : formatIssues("prod", result.issues));
    assert.deepEqual(result.config.cicd?.reviewers, { teams: [9876543, 1234567], users: [583231] });
    const plan = planIds(cicd);
    assert.deepEqual(
      plan.targets.map((t) => t.name),
      ["ai-orchestra", "ai-orchestra/infra", "ai-orchestra-delivery", "ai-orchestra/platform", "octocat"],
    );
    assert.deepEqual(
      plan.unchecked.map((u) => u.configured),
      [1234567],
    );
  });

  it("refuses a stack without a cicd block or an owner, with the fix", () => {
    assert.throws(() => planIds(undefined), /no `ai-orchestra:cicd\.github` block[\s\S]*Fix:/);
    assert.throws(() => planIds({ github: { owner: "bad owner" } }), /github\.owner must be a GitHub name/);
  });
});

describe("orchestra cicd ids (against a fake GitHub API)", function () {
  this.timeout(300_000);
  let github: Awaited<ReturnType<typeof startFakeGitHubIds>>;
  let wrong: Awaited<ReturnType<typeof startFakeGitHubIds>>;
  const projects: TempProject[] = [];
  const temp = (...args: Parameters<typeof makeTempProject>) => {
    const p = makeTempProject(...args);
    projects.push(p);
    return p;
  };

  before(async () => {
    github = await startFakeGitHubIds([TOKEN], GITHUB);
    // The real ids differ from the placeholders for the infra repository and the team.
    wrong = await startFakeGitHubIds([TOKEN], {
      ...GITHUB,
      "/repos/ai-orchestra/infra": { id: 555000111 },
      "/orgs/ai-orchestra/teams/platform": { id: 7000001 },
    });
  });
  after(async () => {
    await Promise.all([github.close(), wrong.close()]);
    for (const p of projects) p.cleanup();
    cleanupTempProjects();
  });

  const env = (url: string, token: { GITHUB_TOKEN?: string } = { GITHUB_TOKEN: TOKEN }) => ({
    env: { GITHUB_API_URL: url, ...token },
  });
  const ids = (project: TempProject, url: string, ...args: string[]) =>
    runInProcess(project.dir, ["cicd", "ids", ...args], env(url));

  it("matching ids: a table of configured against GitHub's ids, exit 0, nothing written", async () => {
    const project = temp();
    const before = project.read("prod");
    const r = await ids(project, github.url, "--stack", "prod");
    assert.equal(r.status, 0, describeRun(r));
    assert.match(r.stdout, /ai-orchestra:cicd\.github\.ownerId\s+ai-orchestra\s+165432109\s+165432109\s+ok/);
    assert.match(
      r.stdout,
      /ai-orchestra:cicd\.reviewers\.teams\.0\.id\s+ai-orchestra\/platform\s+9876543\s+9876543\s+ok/,
    );
    assert.match(r.stdout, /Every id that has a name matches GitHub/);
    assert.equal(project.read("prod"), before);
  });

  it("differing ids: exit 1 with the fix, and the file is left byte for byte", async () => {
    const project = temp();
    const before = project.read("prod");
    const r = await ids(project, wrong.url, "--stack", "prod");
    assert.equal(r.status, 1, describeRun(r));
    // docs/cicd.md shows this run, with the repository id alone differing.
    const shown = docsBlock("GitHub ids of stack");
    assert.ok(shown, "the docs show the output of cicd ids");
    const oneWrong = await startFakeGitHubIds([TOKEN], {
      ...GITHUB,
      "/repos/ai-orchestra/infra": { id: 555000111 },
    });
    try {
      const readme = await ids(project, oneWrong.url, "--stack", "prod");
      assert.equal(readme.stdout.replace(oneWrong.url, "https://api.github.com"), shown);
    } finally {
      await oneWrong.close();
    }
    assert.match(
      r.stdout,
      /github\.infraRepository\.id\s+ai-orchestra\/infra\s+801234567\s+555000111\s+differs/,
    );
    assert.match(r.stdout, /2 id\(s\) differ from GitHub or are not set/);
    assert.match(r.stdout, /Fix: orchestra cicd ids --stack prod --write/);
    assert.match(r.stdout, /ai-orchestra:cicd\.reviewers\.teams\.0\.id: 7000001/);
    assert.equal(project.read("prod"), before);
  });

  it("--write: rewrites only the wrong ids, keeps every comment, and a second run is clean", async () => {
    const project = temp();
    const before = project.read("prod");
    const r = await ids(project, wrong.url, "--stack", "prod", "--write");
    assert.equal(r.status, 0, describeRun(r));
    assert.match(r.stdout, /Pulumi\.prod\.yaml updated: 2 id\(s\) written, comments kept/);
    const after = project.read("prod");
    const changed = (a: string, b: string) => a.split("\n").filter((line, i) => line !== b.split("\n")[i]);
    assert.equal(after.split("\n").length, before.split("\n").length);
    assert.deepEqual(changed(after, before), ["        id: 555000111", "          id: 7000001"]);
    assert.equal(
      before
        .split("\n")
        .filter((l) => l.trim().startsWith("#"))
        .join("\n"),
      after
        .split("\n")
        .filter((l) => l.trim().startsWith("#"))
        .join("\n"),
    );
    const again = await ids(project, wrong.url, "--stack", "prod");
    assert.equal(again.status, 0, describeRun(again));
  });

  it("--write fills in an id that only has a name, right after the name", async () => {
    const project = temp({
      stacks: {
        prod: (t) =>
          t
            .replace("        - slug: platform\n          id: 9876543\n", "        - slug: platform\n")
            .replace("      ownerId: 165432109\n", "")
            .concat("# A comment that ends the file stays where it was.\n"),
      },
    });
    const r = await ids(project, github.url, "--stack", "prod", "--write");
    assert.equal(r.status, 0, describeRun(r));
    const text = project.read("prod");
    assert.match(text, /      owner: ai-orchestra\n      ownerId: 165432109\n/);
    assert.match(text, /        - slug: platform\n          id: 9876543\n/);
    assert.match(text, /notify: ticket\n# A comment that ends the file stays where it was\.\n$/);
    assert.match(text, /receives: \[page\]/);
  });

  it("a bare reviewer id is listed as unchecked, not failed", async () => {
    const project = temp({
      stacks: {
        prod: (t) => t.replace("        - slug: platform\n          id: 9876543\n", "        - 9876543\n"),
      },
    });
    const r = await ids(project, github.url, "--stack", "prod");
    assert.equal(r.status, 0, describeRun(r));
    assert.match(
      r.stdout,
      /reviewers\.teams\.0 = 9876543 is a bare id: nothing names it, so it was not checked/,
    );
    assert.match(r.stdout, /\{slug: NAME, id: 9876543\}/);
  });

  it("a name GitHub does not know: exit 1 with what to check", async () => {
    const project = temp({ stacks: { prod: (t) => t.replace("- slug: platform", "- slug: platfrom") } });
    const r = await ids(project, github.url, "--stack", "prod", "--write");
    assert.equal(r.status, 1, describeRun(r));
    assert.match(
      r.stdout,
      /ai-orchestra\/platfrom: GitHub answered 404 \(GET \/orgs\/ai-orchestra\/teams\/platfrom\)/,
    );
    assert.match(r.stdout, /read:org/);
  });

  it("--write with one lookup failed writes nothing, not even the ids that were found", async () => {
    // The repository id differs (a fix to write), and the team is unknown (a failed lookup).
    const project = temp({ stacks: { prod: (t) => t.replace("- slug: platform", "- slug: platfrom") } });
    const before = project.read("prod");
    const r = await ids(project, wrong.url, "--stack", "prod", "--write");
    assert.equal(r.status, 1, describeRun(r));
    assert.match(
      r.stdout,
      /github\.infraRepository\.id\s+ai-orchestra\/infra\s+801234567\s+555000111\s+differs/,
    );
    assert.match(
      r.stdout,
      /Pulumi\.prod\.yaml was not changed: 1 lookup\(s\) failed \(above\), and --write writes every id or none\./,
    );
    assert.doesNotMatch(r.stdout, /updated/);
    assert.equal(project.read("prod"), before);
    const json = await ids(project, wrong.url, "--stack", "prod", "--write", "--json");
    assert.equal((JSON.parse(json.stdout) as { written: boolean }).written, false);
    assert.equal(project.read("prod"), before);
  });

  it("--json: every id with its key, name, configured and actual id", async () => {
    const project = temp();
    const r = await ids(project, wrong.url, "--stack", "prod", "--json");
    assert.equal(r.status, 1, describeRun(r));
    const out = JSON.parse(r.stdout) as { ok: boolean; written: boolean; ids: Record<string, unknown>[] };
    assert.equal(out.ok, false);
    assert.equal(out.written, false);
    assert.deepEqual(out.ids[1], {
      key: "ai-orchestra:cicd.github.infraRepository.id",
      kind: "repository",
      name: "ai-orchestra/infra",
      configured: 801234567,
      actual: 555000111,
      status: "differs",
    });
  });

  it("no token: a clear error, exit 1, no request made", async () => {
    const project = temp();
    const count = github.requests.length;
    const r = await runInProcess(project.dir, ["cicd", "ids", "--stack", "prod"], env(github.url, {}));
    assert.equal(r.status, 1, describeRun(r));
    assert.match(r.stderr, /No GitHub token to ask the API with: set GITHUB_TOKEN \(or GH_TOKEN\)/);
    assert.equal(github.requests.length, count);
  });

  it("a revoked token: the API's refusal, exit 1, nothing written", async () => {
    const project = temp();
    const before = project.read("prod");
    const r = await runInProcess(
      project.dir,
      ["cicd", "ids", "--stack", "prod", "--write"],
      env(wrong.url, { GITHUB_TOKEN: "ghp_FAKErevoked" }),
    );
    assert.equal(r.status, 1, describeRun(r));
    assert.match(
      r.stderr,
      /classic personal access token from GITHUB_TOKEN: GitHub answered 401 Bad credentials/,
    );
    assert.equal(project.read("prod"), before);
  });

  it("an unknown stack and a missing --stack are refused before any request", async () => {
    const project = temp();
    const unknown = await ids(project, github.url, "--stack", "qa");
    assert.equal(unknown.status, 1, describeRun(unknown));
    assert.match(unknown.stderr, /There is no stack "qa"/);
    const usage = await ids(project, github.url);
    assert.equal(usage.status, 2, describeRun(usage));
  });
});
