import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { costDiff, costJson } from "./cost";
import { formatDiffMarkdown, formatDiffText } from "./format";
import { defaultBase, mergeBaseCommit, renderAtCommit, stackFileAtCommit } from "./renderAtRef";
import { diffStacks, secretChanges } from "./stackDiff";
import { defaultBranch, gitTopLevel } from "../git";
import { CliError, printJson, projectDir } from "../output";
import { withProgress } from "../progress";
import { loadValidStack } from "../stackEditor";
import { readYaml, secureValues, stackFilePath } from "../../render/stackFile";

const configOf = (doc: unknown): unknown =>
  doc && typeof doc === "object" ? (doc as { config?: unknown }).config : undefined;

export interface DiffOptions {
  readonly stack: string;
  readonly base?: string;
  readonly markdown?: boolean;
  readonly json?: boolean;
}

export async function runDiff(opts: DiffOptions): Promise<void> {
  const dir = projectDir();
  const repo = await gitTopLevel(dir);
  if (!repo) throw new CliError("orchestra diff needs a git repository: the base is a git ref.");
  loadValidStack(dir, opts.stack);
  const base = opts.base ?? (await defaultBase(dir, await defaultBranch(dir)));
  const commit = await mergeBaseCommit(dir, base);
  const projectRel = path.relative(fs.realpathSync(repo), fs.realpathSync(dir)) || ".";
  if (!fs.existsSync(path.join(dir, "node_modules")))
    throw new CliError(
      "No node_modules here: run `npm ci` first (the base is rendered with these packages).",
    );
  const nodeModules = fs.realpathSync(path.join(dir, "node_modules"));

  const { before, now } = await withProgress(
    `Rendering stack ${opts.stack} at ${commit.slice(0, 10)} and in the working tree`,
    async () => {
      // The base renders in a child process while this one renders the working tree.
      const atBase = renderAtCommit(repo, projectRel, opts.stack, commit, nodeModules);
      atBase.catch(() => undefined);
      // Loaded on use: it brings in the Pulumi SDK.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const render = require("../../render/renderStack") as typeof import("../../render/renderStack");
      const { renderStack } = render;
      let now;
      try {
        now = await renderStack({ dir, stack: opts.stack });
      } catch (e) {
        // Let the base render finish and remove its worktree before the process exits.
        await atBase.catch(() => undefined);
        throw e;
      }
      return { before: await atBase, now };
    },
  );

  // Both renders see `secure:` values only as stand-ins: the stack files say which were set again.
  const baseText = await stackFileAtCommit(repo, projectRel, opts.stack, commit);
  const secrets = secretChanges(
    secureValues(baseText === undefined ? {} : configOf(parse(baseText))),
    secureValues(configOf(readYaml(stackFilePath(dir, opts.stack)))),
  );
  const d = diffStacks(before.rendered, now, secrets);
  const header = { stack: opts.stack, base, baseCommit: commit.slice(0, 10), newStack: !before.rendered };
  const cost = costDiff(before.rendered, now);
  if (opts.json) printJson({ ...header, baseCommit: commit, ...d, cost: costJson(cost) });
  else
    process.stdout.write(
      opts.markdown ? formatDiffMarkdown(d, header, cost) : formatDiffText(d, header, cost),
    );
}
