import { strict as assert } from "node:assert";
import { Writable } from "node:stream";
import { withProgress } from "../cli/progress";
import { runInProcess } from "./support/inProcessCli";
import { cleanupTempProjects, describeRun, makeTempProject } from "./support/cliHarness";

/** A stream that keeps what is written; a terminal when `tty` (with the cursor control a TTY has). */
function capture(tty: boolean): Writable & { text: string; isTTY?: boolean } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += String(chunk);
      done();
    },
  }) as Writable & { text: string; isTTY?: boolean; columns?: number };
  stream.text = "";
  if (tty) {
    Object.assign(stream, {
      isTTY: true,
      columns: 80,
      cursorTo: () => true,
      moveCursor: () => true,
      clearLine: () => true,
    });
  }
  return stream;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("progress for long work", () => {
  let savedCi: string | undefined;
  before(() => {
    // CI=... turns the spinner off, as on a CI runner; these tests decide the terminal themselves.
    savedCi = process.env.CI;
    delete process.env.CI;
  });
  after(() => {
    if (savedCi !== undefined) process.env.CI = savedCi;
    cleanupTempProjects();
  });

  it("without a terminal: nothing for quick work, one line once slow work passes the quiet time", async () => {
    const quick = capture(false);
    assert.equal(await withProgress("Rendering", async () => 1, { stream: quick, quietMs: 200 }), 1);
    await sleep(250);
    assert.equal(quick.text, "");

    const slow = capture(false);
    await withProgress("Rendering stack prod", () => sleep(300), { stream: slow, quietMs: 50 });
    assert.match(slow.text, /^Rendering stack prod \(still working after 0 s\)\n$/);
  });

  it("on a terminal: a spinner at once, cleared when the work ends, also when it fails", async () => {
    const tty = capture(true);
    await assert.rejects(
      withProgress("Looking up 6 ids", () => sleep(150).then(() => Promise.reject(new Error("boom"))), {
        stream: tty,
      }),
      /boom/,
    );
    assert.match(tty.text, /Looking up 6 ids/);
    // The cursor is shown again at the end: nothing is left spinning.
    assert.ok(tty.text.endsWith("\u001B[?25h"), JSON.stringify(tty.text.slice(-20)));
  });

  it("plan --json with stdout not a terminal: stdout is the JSON document alone", async () => {
    const project = makeTempProject({ program: true });
    const r = await runInProcess(project.dir, ["plan", "--stack", "dev", "--json"]);
    assert.equal(r.status, 0, describeRun(r));
    assert.equal((JSON.parse(r.stdout) as { stack: string }).stack, "dev");
  });
});
