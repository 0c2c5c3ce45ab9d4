import { strict as assert } from "node:assert";
import { describeGuardrails, enforceGuardrails } from "../cli/plan/guardrails";
import { cleanupTempProjects, describeRun, makeTempProject, type CliResult } from "./support/cliHarness";
import { runInProcess } from "./support/inProcessCli";

/** `orchestra plan` runs the guardrails on the offline render; `--policy` fails on a mandatory violation. */
describe("orchestra plan guardrails", function () {
  this.timeout(300_000);
  // Prod's worker with deletion protection off: one mandatory violation.
  const unprotect = (text: string) => {
    const out = text.replace(
      "      timeoutSeconds: 600\n",
      "      timeoutSeconds: 600\n      deletionProtection: false\n",
    );
    assert.ok(out.includes("deletionProtection: false"), "fixture edit applied");
    return out;
  };
  let text: CliResult;
  let json: CliResult;

  before(async () => {
    const bad = makeTempProject({ program: true, stacks: { prod: unprotect } });
    [text, json] = await Promise.all([
      runInProcess(bad.dir, ["plan", "--stack", "prod", "--policy"]),
      runInProcess(bad.dir, ["plan", "--stack", "prod", "--json"]),
    ]);
  });
  after(() => cleanupTempProjects());

  it("prints each violation with its level, rule, resource and fix, and --policy exits 1", () => {
    assert.equal(text.status, 1, describeRun(text));
    assert.match(text.stdout, /^ {2}MANDATORY {2}deletion-protection {2}worker-service$/m);
    assert.match(text.stdout, /^ {4}worker has deletionProtection: false in prod\.$/m);
    assert.match(text.stdout, /^ {4}Fix: remove `deletionProtection: false`/m);
    assert.match(text.stderr, /1 mandatory guardrail violation in stack prod/);
  });

  it("--json lists the violations; without --policy it exits 0", () => {
    assert.equal(json.status, 0, describeRun(json));
    const out = JSON.parse(json.stdout) as {
      violations: { rule: string; resource: string; level: string }[];
    };
    assert.deepEqual(
      out.violations.map((v) => [v.rule, v.resource, v.level]),
      [["deletion-protection", "worker-service", "mandatory"]],
    );
  });

  it("a stack that keeps every rule says so, and --policy lets it pass", () => {
    const ok = { violations: [], skipped: [], failed: false };
    assert.equal(describeGuardrails(ok), "Guardrails\n  ok  every rule passes");
    assert.doesNotThrow(() => enforceGuardrails("staging", ok));
  });
});
