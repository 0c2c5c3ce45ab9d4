#!/usr/bin/env node
// Which stacks a change touches, for `pulumi preview` in pull requests. Reads changed paths (one per
// line) on stdin and prints a JSON array of stack names. A stack file touches its own stack; anything
// the program is built from touches every stack; files that cannot change what is declared touch none.
// When in doubt a path touches every stack: a needless preview is cheap, a missing one is not.
import * as fs from "node:fs";

/** Paths that never change what the program declares. */
const INERT = [
  /\.md$/,
  /^\.github\//,
  /^\.ci\//,
  /^tests\//,
  /^cli\//,
  /^bin\//,
  /^perf\//,
  /^scripts\//,
  /^\.(?:gitignore|prettierrc\.json|prettierignore|mocharc\.json)$/,
  /^eslint\.config\.mjs$/,
];

/** @param {string[]} paths @param {string[]} stacks */
export function touchedStacks(paths, stacks) {
  const touched = new Set();
  for (const path of paths.map((p) => p.trim()).filter(Boolean)) {
    const stackFile = /^Pulumi\.(.+)\.ya?ml$/.exec(path);
    if (stackFile) {
      if (stacks.includes(stackFile[1])) touched.add(stackFile[1]);
      continue;
    }
    if (INERT.some((re) => re.test(path))) continue;
    for (const s of stacks) touched.add(s);
  }
  return stacks.filter((s) => touched.has(s));
}

export function listStacks(dir = ".") {
  return fs
    .readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter(Boolean)
    .sort();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const input = fs.readFileSync(0, "utf8");
  process.stdout.write(`${JSON.stringify(touchedStacks(input.split("\n"), listStacks()))}\n`);
}
