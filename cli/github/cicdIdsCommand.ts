import * as fs from "node:fs";
import * as path from "node:path";
import { applyToDocument, renderDocument } from "../yamlEdits";
import type { Document } from "yaml";
import { PROJECT } from "../../model/types";
import { parseYamlText, readStackConfig, stackFilePath } from "../../render/stackFile";
import { CliError, color, printJson, projectDir, table } from "../output";
import { editableStackFile, validEdited, withStackFile } from "../stackEditor";
import { compareIds, IdConfigError, idEdits, keyPath, notFoundHint, planIds, type IdResult } from "./cicdIds";
import { ApiProblem, lookUpIds } from "./idLookup";
import { findToken, keyringDisabled } from "./keyring";
import { KIND_TEXT, tokenKind } from "./token";
import { apiUrl } from "./tokenCheck";

export interface CicdIdsOptions {
  readonly stack: string;
  readonly write?: boolean;
  readonly json?: boolean;
}

const shown = (id: number | undefined) => (id === undefined ? "-" : String(id));

const STATUS_TEXT: Record<IdResult["status"], (r: IdResult) => string> = {
  ok: () => color.green("ok"),
  differs: () => color.red("differs"),
  missing: () => color.yellow("not set"),
  "not found": () => color.red("not found"),
  error: (r) => color.red(`error: ${r.message ?? ""}`),
};

/**
 * The edited stack file, as cli/yamlEdits.ts renders it (`renderDocument`), and with flow sequences
 * kept as the file writes them (`[page]`): the yaml library would pad every one (`[ page ]`),
 * touching lines the edit did not change.
 */
function renderStackFile(doc: Document, original: string): string {
  const rendered = renderDocument(doc, original);
  const padded = doc.toString({ lineWidth: 0 });
  const unpadded = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  if (rendered === padded) return unpadded;
  // renderDocument dropped the blank line yaml adds before a comment that ends the file.
  const at = unpadded.lastIndexOf("\n\n#");
  return at < 0 ? rendered : unpadded.slice(0, at) + unpadded.slice(at + 1);
}

/** `orchestra cicd ids`: the stack's numeric GitHub ids against what the API says, and the fix. */
export async function cicdIds(opts: CicdIdsOptions): Promise<void> {
  const dir = projectDir();
  readStackConfig(dir, opts.stack); // a missing stack file is reported with the stacks there are
  // One that cannot be written is refused before any lookup.
  const file = opts.write ? editableStackFile(dir, opts.stack) : stackFilePath(dir, opts.stack);
  const doc = parseYamlText(file, fs.readFileSync(file, "utf8"));
  const config = (doc.toJS() as { config?: Record<string, unknown> } | null)?.config ?? {};

  let plan;
  try {
    plan = planIds(config[`${PROJECT}:cicd`]);
  } catch (e) {
    if (e instanceof IdConfigError) throw new CliError(`${path.basename(file)}: ${e.message}`);
    throw e;
  }

  const found = await findToken();
  if (!found)
    throw new CliError(
      "No GitHub token to ask the API with: set GITHUB_TOKEN (or GH_TOKEN), or store one with `orchestra auth login`" +
        `${keyringDisabled() ? "" : " (the OS keyring has none)"}. Any token that can read the repositories works;` +
        " team ids also need `read:org` (classic) or Members: read (fine-grained).",
    );
  const base = apiUrl();
  let answers;
  try {
    answers = await lookUpIds(found.token, plan.targets, base);
  } catch (e) {
    if (e instanceof ApiProblem)
      throw new CliError(`${KIND_TEXT[tokenKind(found.token)]} from ${found.source}: ${e.message}`);
    throw e;
  }
  const results = compareIds(plan.targets, answers);
  const edits = idEdits(results);
  const failed = results.filter((r) => r.status === "not found" || r.status === "error");

  // All or nothing: with a lookup failed, writing the others would leave the ids half fixed.
  let written = false;
  if (opts.write && edits.length > 0 && failed.length === 0) {
    // Applied to the file as it is now, under its lock: an edit made during the lookups is kept.
    withStackFile(file, (current) => {
      const fresh = parseYamlText(file, current);
      applyToDocument(fresh, edits);
      validEdited(dir, opts.stack, file, fresh, "with the ids written it would still be invalid");
      return { result: undefined, text: renderStackFile(fresh, current) };
    });
    written = true;
  }
  const wrong = written ? [] : edits;
  const ok = wrong.length === 0 && failed.length === 0;

  if (opts.json) {
    printJson({
      stack: opts.stack,
      apiUrl: base,
      ok,
      written,
      ids: results.map((r) => ({
        key: keyPath(r.path),
        kind: r.kind,
        name: r.name,
        configured: r.configured ?? null,
        actual: r.actual ?? null,
        status: r.status,
        ...(r.message ? { message: r.message } : {}),
      })),
      unchecked: plan.unchecked.map((u) => ({
        key: keyPath(u.path),
        kind: u.kind,
        configured: u.configured,
      })),
    });
  } else {
    const rows = [
      ["key", "name", "configured", "GitHub", "status"],
      ...results.map((r) => [
        keyPath(r.path),
        r.name,
        shown(r.configured),
        shown(r.actual),
        STATUS_TEXT[r.status](r),
      ]),
    ];
    const lines = [
      `GitHub ids of stack "${opts.stack}" (${path.basename(file)}) against ${base}`,
      table(rows),
    ];
    for (const u of plan.unchecked)
      lines.push(
        `${color.yellow("note:")} ${keyPath(u.path)} = ${JSON.stringify(u.configured)} is a bare id: nothing names it, so it was not checked.` +
          ` Write it as \`{${u.kind === "team" ? "slug" : "login"}: NAME, id: ${JSON.stringify(u.configured)}}\` to have it checked.`,
      );
    for (const r of failed)
      lines.push(
        `${color.red("x")} ${r.status === "not found" ? notFoundHint(r) : `${r.name}: ${r.message}`}`,
      );
    if (written)
      lines.push(
        `${color.green("✓")} ${path.basename(file)} updated: ${edits.length} id(s) written, comments kept.`,
      );
    else if (opts.write && wrong.length > 0)
      lines.push(
        "",
        `${path.basename(file)} was not changed: ${failed.length} lookup(s) failed (above), and --write writes every id or none.`,
        `Fix the lookups, then run ${color.cyan(`orchestra cicd ids --stack ${opts.stack} --write`)} again.`,
      );
    else if (wrong.length > 0)
      lines.push(
        "",
        `${wrong.length} id(s) differ from GitHub or are not set.`,
        `Fix: ${color.cyan(`orchestra cicd ids --stack ${opts.stack} --write`)} writes them (comments kept), or set them by hand:`,
        ...results
          .filter((r) => r.status === "differs" || r.status === "missing")
          .map((r) => `  ${keyPath(r.path)}: ${shown(r.actual)}`),
      );
    else if (ok) lines.push(`${color.green("✓")} Every id that has a name matches GitHub.`);
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  if (!ok) process.exitCode = 1;
}
