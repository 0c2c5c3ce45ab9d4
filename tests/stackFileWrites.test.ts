import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startCanary } from "../model/canary/lifecycle";
import { StackFileError } from "../render/stackFile";
import { editStack } from "../cli/stackEditor";

const ROOT = path.resolve(__dirname, "..");
const IMAGE = `europe-west1-docker.pkg.dev/ai-orchestra-staging/orchestra/api@sha256:${"1".repeat(64)}`;

/** How a stack file edit lands on disk: atomically, through a symlink, never over a read-only file. */
describe("stack file writes", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-writes-"));
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("writes a symlinked stack file through the link, which stays a link with its mode", () => {
    fs.mkdirSync(path.join(dir, "stacks"));
    const target = path.join(dir, "stacks", "staging.yaml");
    fs.copyFileSync(path.join(ROOT, "Pulumi.staging.yaml"), target);
    fs.chmodSync(target, 0o640);
    const link = path.join(dir, "Pulumi.staging.yaml");
    fs.symlinkSync(path.join("stacks", "staging.yaml"), link);

    const result = editStack(dir, "staging", (c) =>
      startCanary(c, "api", IMAGE, { percent: 10, attempt: "0zmkgc" }),
    );

    assert.ok(result.changed);
    assert.ok(fs.lstatSync(link).isSymbolicLink(), "the link is not replaced by a file");
    assert.match(fs.readFileSync(target, "utf8"), new RegExp(`image: ${IMAGE}`));
    assert.equal(fs.statSync(target).mode & 0o777, 0o640);
    // No temporary file is left beside the link or its target.
    assert.deepEqual(fs.readdirSync(path.join(dir, "stacks")), ["staging.yaml"]);
    assert.deepEqual(fs.readdirSync(dir).sort(), ["Pulumi.staging.yaml", "Pulumi.yaml", "stacks"]);
  });

  it("refuses a read-only stack file with a message naming the fix, and leaves it as it was", () => {
    const file = path.join(dir, "Pulumi.staging.yaml");
    fs.copyFileSync(path.join(ROOT, "Pulumi.staging.yaml"), file);
    fs.chmodSync(file, 0o444);
    const before = fs.readFileSync(file, "utf8");

    assert.throws(
      () =>
        editStack(dir, "staging", (c) => startCanary(c, "api", IMAGE, { percent: 10, attempt: "0zmkgc" })),
      (e: Error) =>
        e instanceof StackFileError &&
        /Pulumi\.staging\.yaml is read-only \(mode 444\), so it was not changed: make it writable \(chmod u\+w /.test(
          e.message,
        ),
    );
    assert.equal(fs.readFileSync(file, "utf8"), before);
    assert.equal(fs.statSync(file).mode & 0o777, 0o444);
  });
});
