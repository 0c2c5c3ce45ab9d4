/**
 * Child process entry: renders one stack of one checkout and prints the RenderedStack as JSON on stdout.
 * The Pulumi runtime is global to a process, so a second render (another ref's program) needs its own.
 * Usage: node --require tsx/cjs renderChild.ts <project dir> <stack>
 */
import type * as RenderStack from "../../render/renderStack";

// As in bin/orchestra.js: tsx turns on Node's source maps, which then parses the map of every module
// the Pulumi SDK loads (about half a second per render). Stack traces name TypeScript lines with
// `--enable-source-maps`.
if (
  !process.execArgv.includes("--enable-source-maps") &&
  !/--enable-source-maps/.test(process.env.NODE_OPTIONS ?? "")
) {
  process.setSourceMapsEnabled(false);
}

async function run(): Promise<void> {
  const [dir, stack] = process.argv.slice(2);
  // Required here, after the switch above: an import would load the SDK before it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { renderStack } = require("../../render/renderStack") as typeof RenderStack;
  const rendered = await renderStack({ dir, stack });
  process.stdout.write(JSON.stringify(rendered));
}

run().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
