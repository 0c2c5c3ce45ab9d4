/**
 * Child process entry: renders one stack of one checkout and prints the RenderedStack as JSON on stdout.
 * The Pulumi runtime is global to a process, so a second render (another ref's program) needs its own.
 * Usage: node --require @swc-node/register renderChild.ts <project dir> <stack>
 */
import { renderStack } from "../../render/renderStack";

async function run(): Promise<void> {
  const [dir, stack] = process.argv.slice(2);
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
