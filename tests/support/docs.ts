import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The documentation as tests read it: README.md and every page under docs/. Tests find an example by
 * what it contains, not by which page holds it, so moving an example between pages breaks nothing.
 */

export const DOCS_ROOT = path.resolve(__dirname, "..", "..");

/** README.md and docs/*.md, as paths relative to the repository root. */
export function docFiles(): string[] {
  const pages = fs
    .readdirSync(path.join(DOCS_ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`);
  return ["README.md", ...pages];
}

/** One page's text, by its path relative to the repository root ("README.md", "docs/cicd.md"). */
export function readDoc(file: string): string {
  return fs.readFileSync(path.join(DOCS_ROOT, file), "utf8");
}

export interface FencedBlock {
  readonly file: string;
  /** The info string after the fence ("" for none). */
  readonly lang: string;
  readonly text: string;
}

/** The fenced blocks of one page, in order. */
export function fencedBlocks(file: string, text = readDoc(file)): FencedBlock[] {
  const found: FencedBlock[] = [];
  let current: string[] | undefined;
  let lang = "";
  for (const line of text.split("\n")) {
    const fence = /^```(\S*)\s*$/.exec(line);
    if (fence && current === undefined) {
      current = [];
      lang = fence[1];
    } else if (fence && current !== undefined) {
      found.push({ file, lang, text: current.join("\n") });
      current = undefined;
    } else current?.push(line);
  }
  return found;
}

/** Every fenced block of README.md and docs/*.md, page by page. */
export function allBlocks(): FencedBlock[] {
  return docFiles().flatMap((f) => fencedBlocks(f));
}

/** The one fenced block (of language `lang`, when given) in the docs that contains `marker`. */
export function docBlock(marker: string, lang?: string): string | undefined {
  const matches = allBlocks().filter(
    (b) => b.text.includes(marker) && (lang === undefined || b.lang === lang),
  );
  if (matches.length > 1)
    throw new Error(
      `${matches.length} doc blocks contain ${JSON.stringify(marker)} (${matches.map((m) => m.file).join(", ")}): make the marker unique`,
    );
  return matches[0]?.text;
}

/** A page's text with its fenced blocks blanked out (line numbers kept), for reading its prose. */
export function proseOf(text: string): string {
  let inFence = false;
  return text
    .split("\n")
    .map((line) => {
      if (/^```/.test(line)) {
        inFence = !inFence;
        return "";
      }
      return inFence ? "" : line;
    })
    .join("\n");
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a page's headings, with GitHub's `-1`, `-2` suffixes for repeated ones. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of proseOf(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}
