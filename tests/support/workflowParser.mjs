// GitHub's workflow parser imports its JSON schemas without import attributes
// (actions/languageservices#387); this load hook supplies the JSON format so Node accepts them.
import { register } from "node:module";

const hook = `
export async function load(url, context, next) {
  if (url.endsWith(".json") && url.includes("/@actions/workflow-parser/")) {
    return next(url, { ...context, importAttributes: { ...context.importAttributes, type: "json" } });
  }
  return next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`, import.meta.url);

const parser = await import("@actions/workflow-parser");

const silent = { error() {}, info() {}, verbose() {} };

/** Parses and converts a workflow as GitHub does; returns every error message. */
export async function workflowErrors(name, content) {
  const parsed = parser.parseWorkflow({ name, content }, silent);
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value !== undefined) {
    const template = await parser.convertWorkflowTemplate(parsed.context, parsed.value);
    errors.push(...(template.errors ?? []).map((e) => e.Message ?? e.message));
  }
  return errors;
}
