import * as protobuf from "protobufjs";

/**
 * A strict check of JSON against a protobuf message type, as Google's APIs parse it: unknown fields,
 * wrong types, unknown enum values and two members of one oneof are errors. protobufjs's own
 * `fromObject` silently drops unknown fields, which is why this walks the reflection itself.
 */

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dashboardsJson = require("@google-cloud/monitoring-dashboards/build/protos/protos.json");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const monitoringJson = require("@google-cloud/monitoring/build/protos/protos.json");

const roots = new Map<string, protobuf.Root>();
function root(which: "dashboards" | "monitoring"): protobuf.Root {
  let r = roots.get(which);
  if (!r) {
    r = protobuf.Root.fromJSON(which === "dashboards" ? dashboardsJson : monitoringJson);
    r.resolveAll();
    roots.set(which, r);
  }
  return r;
}

export function dashboardType(): protobuf.Type {
  return root("dashboards").lookupType("google.monitoring.dashboard.v1.Dashboard");
}

export function monitoringType(name: string): protobuf.Type {
  return root("monitoring").lookupType(`google.monitoring.v3.${name}`);
}

const DURATION = /^-?\d+(?:\.\d{1,9})?s$/;
const INT = /^-?\d+$/;

const WELL_KNOWN: Record<string, (v: unknown) => boolean> = {
  "google.protobuf.Duration": (v) => typeof v === "string" && DURATION.test(v),
  "google.protobuf.Timestamp": (v) => typeof v === "string" && !Number.isNaN(Date.parse(v)),
  "google.protobuf.Empty": (v) => typeof v === "object" && v !== null && Object.keys(v).length === 0,
  "google.protobuf.Struct": (v) => typeof v === "object" && v !== null && !Array.isArray(v),
  "google.protobuf.Value": () => true,
  "google.protobuf.BoolValue": (v) => typeof v === "boolean",
  "google.protobuf.StringValue": (v) => typeof v === "string",
  "google.protobuf.DoubleValue": (v) => typeof v === "number",
  "google.protobuf.Int32Value": (v) => Number.isInteger(v),
  "google.protobuf.Int64Value": (v) => Number.isInteger(v) || (typeof v === "string" && INT.test(v)),
};

function scalarOk(type: string, v: unknown): boolean {
  switch (type) {
    case "string":
      return typeof v === "string";
    case "bool":
      return typeof v === "boolean";
    case "double":
    case "float":
      return typeof v === "number" && Number.isFinite(v);
    case "int32":
    case "uint32":
    case "sint32":
    case "fixed32":
    case "sfixed32":
      return Number.isInteger(v) && (type.startsWith("u") || type === "fixed32" ? (v as number) >= 0 : true);
    case "int64":
    case "uint64":
    case "sint64":
    case "fixed64":
    case "sfixed64":
      return Number.isInteger(v) || (typeof v === "string" && INT.test(v));
    case "bytes":
      return typeof v === "string";
    default:
      return false;
  }
}

/** Every problem found, each with its JSON path; empty when the value is a valid message. */
export function checkMessage(type: protobuf.Type, value: unknown, path = "$"): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [`${path}: expected an object for ${type.fullName}, got ${JSON.stringify(value)}`];
  }
  const problems: string[] = [];
  const byJsonName = new Map<string, protobuf.Field>();
  for (const f of type.fieldsArray) {
    byJsonName.set(f.name, f);
    const json = (f as unknown as { jsonName?: string }).jsonName;
    if (json) byJsonName.set(json, f);
    byJsonName.set(
      f.name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
      f,
    );
  }
  const oneofsSet = new Map<string, string>();
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const at = `${path}.${key}`;
    const field = byJsonName.get(key);
    if (!field) {
      problems.push(`${at}: unknown field of ${type.fullName}`);
      continue;
    }
    if (field.partOf) {
      const other = oneofsSet.get(field.partOf.name);
      if (other) problems.push(`${at}: oneof ${field.partOf.name} already set by ${other}`);
      oneofsSet.set(field.partOf.name, key);
    }
    problems.push(...checkField(field, v, at));
  }
  return problems;
}

function checkField(field: protobuf.Field, v: unknown, at: string): string[] {
  if (field instanceof protobuf.MapField) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return [`${at}: expected a map`];
    return Object.entries(v as Record<string, unknown>).flatMap(([k, item]) =>
      checkSingle(field, item, `${at}.${k}`),
    );
  }
  if (field.repeated) {
    if (!Array.isArray(v)) return [`${at}: expected a list`];
    return v.flatMap((item, i) => checkSingle(field, item, `${at}[${i}]`));
  }
  return checkSingle(field, v, at);
}

function checkSingle(field: protobuf.Field, v: unknown, at: string): string[] {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    if (typeof v === "string" && v in resolved.values) return [];
    if (typeof v === "number" && Object.values(resolved.values).includes(v)) return [];
    return [`${at}: ${JSON.stringify(v)} is not a value of enum ${resolved.fullName}`];
  }
  if (resolved instanceof protobuf.Type) {
    const wk = WELL_KNOWN[resolved.fullName.replace(/^\./, "")];
    if (wk) return wk(v) ? [] : [`${at}: ${JSON.stringify(v)} is not a valid ${resolved.fullName}`];
    return checkMessage(resolved, v, at);
  }
  return scalarOk(field.type, v) ? [] : [`${at}: ${JSON.stringify(v)} is not a ${field.type}`];
}
