import * as fs from "node:fs";
import * as path from "node:path";
import * as prettier from "prettier";
import { isScalar, parseDocument } from "yaml";
import { z } from "zod";
import { gcpSchema, projectSchema } from "../config/schema";
import { ENVIRONMENTS, PROJECT } from "../model/types";

/**
 * The configuration reference, generated from the schema: docs/configuration.md (a table per area)
 * and the `description:` of each key in Pulumi.yaml. `npm run docs:config` writes both; a test fails
 * when the committed files differ from what this renders.
 */

export const ROOT = path.resolve(__dirname, "..");
export const REFERENCE = path.join(ROOT, "docs", "configuration.md");
export const PULUMI_YAML = path.join(ROOT, "Pulumi.yaml");
export const REGENERATE = "npm run docs:config";

/** The subset of JSON Schema that zod emits for these schemas. */
interface Node {
  type?: string | string[];
  /** Set on a key that overrides another key's settings (`.meta({ sameAs })`). */
  sameAs?: string;
  description?: string;
  defaultText?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: Node;
  properties?: Record<string, Node>;
  required?: string[];
  additionalProperties?: Node | boolean;
  propertyNames?: Node;
  oneOf?: Node[];
  anyOf?: Node[];
}

interface Row {
  key: string;
  type: string;
  /** The default per environment, when set. */
  defaults: (string | undefined)[];
  allowed: string;
  description: string;
}

const json = (schema: z.ZodType): Node =>
  z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Node;

/** A value as it is written in a stack file. */
const code = (value: unknown): string =>
  `\`${Array.isArray(value) ? `[${value.join(", ")}]` : typeof value === "string" ? value : JSON.stringify(value)}\``;

function typeOf(node: Node): string {
  if (node.oneOf ?? node.anyOf)
    return [...new Set((node.oneOf ?? node.anyOf ?? []).map(typeOf))].join(" or ");
  if (node.const !== undefined) return typeof node.const;
  if (node.type === "array") return `list of ${node.items ? typeOf(node.items) : "values"}`;
  if (node.type === "object" && !node.properties && typeof node.additionalProperties === "object")
    return `map of ${typeOf(node.additionalProperties)}`;
  return Array.isArray(node.type) ? node.type.join(" or ") : (node.type ?? "any");
}

function allowedOf(node: Node): string {
  const parts: string[] = [];
  const variants = node.oneOf ?? node.anyOf;
  if (variants && variants.every((v) => v.const !== undefined))
    parts.push(variants.map((v) => code(v.const)).join(", "));
  if (node.enum) parts.push(node.enum.map(code).join(", "));
  if (node.const !== undefined) parts.push(code(node.const));
  const lo = node.minimum ?? node.exclusiveMinimum;
  const hi = node.maximum ?? node.exclusiveMaximum;
  if (lo !== undefined || hi !== undefined) {
    const from = lo === undefined ? "" : `${node.exclusiveMinimum !== undefined ? "> " : ""}${lo}`;
    const to = hi === undefined ? "" : `${node.exclusiveMaximum !== undefined ? "< " : ""}${hi}`;
    parts.push(from && to ? `${from} to ${to}` : from ? `at least ${from}` : `at most ${to}`);
  }
  if (node.minItems !== undefined) parts.push(`at least ${node.minItems}`);
  if (node.maxItems !== undefined) parts.push(`at most ${node.maxItems}`);
  if (node.pattern) parts.push(code(node.pattern));
  if (node.items) {
    const items = allowedOf(node.items);
    if (items) parts.push(`each: ${items}`);
  }
  if (node.propertyNames) {
    const keys = allowedOf(node.propertyNames);
    if (keys) parts.push(`keys: ${keys}`);
  }
  return parts.join("; ");
}

function defaultOf(node: Node, required: boolean): string | undefined {
  if (node.defaultText !== undefined) return node.defaultText;
  if (node.default !== undefined) return code(node.default);
  return required ? "required" : undefined;
}

/** Rows for `node` and the keys below it. */
function rows(node: Node, key: string, required: boolean, out: Row[] = []): Row[] {
  out.push({
    key,
    type: typeOf(node),
    defaults: [defaultOf(node, required)],
    allowed: allowedOf(node),
    description: node.description ?? "",
  });
  below(node, key, out);
  return out;
}

/** The keys below `node`: its properties, each variant's, and a map's entries as `<name>`. */
function below(node: Node, key: string, out: Row[]): void {
  // An override of another key's settings points there instead of repeating every row.
  if (node.sameAs) return;
  for (const variant of node.oneOf ?? node.anyOf ?? []) below(variant, key, out);
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const at = `${key}.${name}`;
    const added = rows(child, at, node.required?.includes(name) ?? false, []);
    const seen = out.find((r) => r.key === at);
    // A key of several variants (a channel's `type`) is listed once, with every variant's values.
    if (seen) seen.allowed = [seen.allowed, added[0].allowed].join(", ");
    else out.push(...added);
  }
  const values = node.additionalProperties;
  if (!node.properties && typeof values === "object") below(values, `${key}.<name>`, out);
}

/** One area's rows, built for each environment; a default that differs is shown per environment. */
function area(
  build: (environment: (typeof ENVIRONMENTS)[number]) => Node,
  key: string,
  deep: boolean,
  required = false,
): Row[] {
  const byEnv = ENVIRONMENTS.map((environment) => {
    const all = rows(build(environment), key, required);
    return deep ? all : all.slice(0, 1);
  });
  return byEnv[0].map((row, i) => ({ ...row, defaults: byEnv.map((r) => r[i].defaults[0]) }));
}

function renderDefault(defaults: (string | undefined)[]): string {
  if (defaults.every((d) => d === defaults[0])) return defaults[0] ?? "none";
  return defaults.map((d) => d ?? "none").join(" / ") + " (dev / staging / prod)";
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

function table(list: readonly Row[], prefix: string): string {
  const lines = ["| key | type | default | allowed | description |", "| --- | --- | --- | --- | --- |"];
  for (const r of list) {
    const key = r.key.startsWith(prefix) ? r.key.slice(prefix.length) : r.key;
    lines.push(
      `| \`${cell(key)}\` | ${cell(r.type)} | ${cell(renderDefault(r.defaults))} | ${cell(r.allowed)} | ${cell(r.description)} |`,
    );
  }
  return lines.join("\n");
}

/** The areas of the reference: its heading, the key its rows start at, and the rows. */
function areas(): { title: string; intro: string; prefix: string; rows: Row[] }[] {
  const schemas = new Map(ENVIRONMENTS.map((e) => [e, json(projectSchema(e))]));
  const project = (environment: (typeof ENVIRONMENTS)[number]) => schemas.get(environment) ?? {};
  const gcp = json(gcpSchema);
  const stackRows = [
    ...Object.entries(gcp.properties ?? {}).map(([k, node]) => rows(node, `gcp:${k}`, true)[0]),
    ...Object.keys(projectSchema("dev").shape).flatMap((k) =>
      area(
        (e) => project(e).properties?.[k] ?? {},
        `${PROJECT}:${k}`,
        false,
        project("dev").required?.includes(k),
      ),
    ),
  ];
  const sub = (k: string) => area((e) => project(e).properties?.[k] ?? {}, `${PROJECT}:${k}`, true).slice(1);
  return [
    { title: "Stack keys", intro: "Per stack (`Pulumi.<stack>.yaml`).", prefix: "", rows: stackRows },
    {
      title: "Services",
      intro: "Each service under `ai-orchestra:services`, by name.",
      prefix: `${PROJECT}:services.<name>.`,
      rows: sub("services"),
    },
    { title: "CI/CD", intro: "Under `ai-orchestra:cicd`.", prefix: `${PROJECT}:cicd.`, rows: sub("cicd") },
    {
      title: "Monitoring",
      intro:
        "Under `ai-orchestra:monitoring`. `alerts` and `slo` apply to every service; `services.<name>` overrides them for one.",
      prefix: `${PROJECT}:monitoring.`,
      rows: sub("monitoring"),
    },
    {
      title: "Guardrails",
      intro: "Under `ai-orchestra:policy`.",
      prefix: `${PROJECT}:policy.`,
      rows: sub("policy"),
    },
    {
      title: "Global load balancer",
      intro: "Under `ai-orchestra:loadBalancer`.",
      prefix: `${PROJECT}:loadBalancer.`,
      rows: sub("loadBalancer"),
    },
    {
      title: "Binary Authorization",
      intro: "Under `ai-orchestra:binaryAuthorization` ([supply chain](supply-chain.md)).",
      prefix: `${PROJECT}:binaryAuthorization.`,
      rows: sub("binaryAuthorization"),
    },
  ];
}

/** docs/configuration.md as the schema describes it, formatted as the repository formats Markdown. */
export async function renderReference(): Promise<string> {
  const parts = [
    "# Configuration reference",
    `<!-- Generated from the zod schema in config/ by \`${REGENERATE}\`; edit the schema's descriptions, not this file. -->`,
    "Every key, its type, its default and the values allowed. A default that depends on the stack's `environment` is given as dev / staging / prod.",
  ];
  for (const a of areas()) parts.push(`## ${a.title}`, a.intro, table(a.rows, a.prefix));
  const config = await prettier.resolveConfig(REFERENCE);
  return prettier.format(parts.join("\n\n") + "\n", { ...config, parser: "markdown" });
}

/** Pulumi.yaml's text with each config key's `description:` taken from the schema; the rest is kept. */
export function renderPulumiYaml(text: string): string {
  const doc = parseDocument(text);
  const dev = json(projectSchema("dev"));
  for (const [key, node] of Object.entries(dev.properties ?? {})) {
    const description = doc.getIn(["config", key, "description"], true);
    if (!isScalar(description) || !node.description) continue;
    const object = node.type === "object";
    description.value = `${object ? "Object. " : ""}${node.description}${object ? " See docs/configuration.md." : ""}`;
  }
  return doc.toString({ lineWidth: 0 });
}

if (require.main === module) {
  void renderReference().then((markdown) => {
    fs.mkdirSync(path.dirname(REFERENCE), { recursive: true });
    fs.writeFileSync(REFERENCE, markdown);
    fs.writeFileSync(PULUMI_YAML, renderPulumiYaml(fs.readFileSync(PULUMI_YAML, "utf8")));
  });
}
