import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sync as writeFileAtomicSync } from "write-file-atomic";

/**
 * A temporary folder that mirrors the project, where each step is edited and applied: a symlink to
 * every top-level entry except `Pulumi.<stack>.yaml`, which is a real copy. `pulumi up` run here finds
 * Pulumi.yaml in the folder and reads the stack file beside it (the copy); Node resolves the program's
 * modules through the symlinks to their real paths. The project's own stack file is only written by
 * `commit`, once what the copy holds was applied (and, for a step, verified), so a kill at any moment
 * leaves it at a state that was applied.
 */
export class WorkDir {
  readonly path: string;
  private readonly realFile: string;
  private readonly copy: string;

  constructor(
    readonly projectDir: string,
    readonly stack: string,
  ) {
    const name = `Pulumi.${stack}.yaml`;
    this.realFile = path.join(projectDir, name);
    this.path = fs.mkdtempSync(path.join(os.tmpdir(), `orchestra-rollout-${stack}-`));
    this.copy = path.join(this.path, name);
    for (const entry of fs.readdirSync(projectDir)) {
      if (entry === name) continue;
      fs.symlinkSync(path.join(projectDir, entry), path.join(this.path, entry));
    }
    this.reset();
  }

  /** The stack file as the next `up` will apply it. */
  read(): string {
    return fs.readFileSync(this.copy, "utf8");
  }

  /** Back to the project's stack file (the last state applied and verified). */
  reset(): void {
    fs.copyFileSync(this.realFile, this.copy);
  }

  /**
   * The project's stack file takes the copy's text, atomically, keeping its mode and writing through a
   * symlink; unchanged text is not rewritten.
   */
  commit(): void {
    const text = this.read();
    if (fs.readFileSync(this.realFile, "utf8") === text) return;
    writeFileAtomicSync(this.realFile, text);
  }

  /** Unlinks the symlinks one by one first, so that nothing can follow them into the project. */
  dispose(): void {
    if (!fs.existsSync(this.path)) return;
    for (const entry of fs.readdirSync(this.path)) {
      const p = path.join(this.path, entry);
      if (fs.lstatSync(p).isSymbolicLink()) fs.unlinkSync(p);
    }
    fs.rmSync(this.path, { recursive: true, force: true });
  }
}
