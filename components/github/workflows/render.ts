import { Document, isMap, isPair, isScalar, visit } from "yaml";
import { versionOf } from "./pins";
import type { Workflow } from "./types";

export const GENERATED_HEADER =
  "Generated from components/github/workflows by `npm run workflows`. Do not edit by hand: change the builder and regenerate.";

/** YAML text of a workflow or config: the generated-file header, and each pinned action's version as a comment. */
export function renderYaml(data: Workflow | object): string {
  const doc = new Document(data, { aliasDuplicateObjects: false });
  doc.commentBefore = ` ${GENERATED_HEADER}`;
  visit(doc, {
    Pair(_, pair) {
      if (isPair(pair) && isScalar(pair.key) && pair.key.value === "uses" && isScalar(pair.value)) {
        const version = versionOf(String(pair.value.value));
        if (version) pair.value.comment = ` ${version}`;
      }
    },
    Map(_, map) {
      // Block style throughout; an empty map (`permissions: {}`, no permission at all) stays on one line.
      if (isMap(map)) map.flow = map.items.length === 0;
    },
  });
  return doc.toString({ lineWidth: 0, nullStr: "" });
}
