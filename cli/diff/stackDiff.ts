import type { RenderedResource, RenderedStack } from "../../render/renderStack";

export interface TrafficTarget {
  readonly tag: string;
  readonly revision: string;
  readonly percent: number;
}

/** A Cloud Run service's traffic split before and after; `before` is empty for a new service. */
export interface TrafficChange {
  readonly service: string;
  readonly before: readonly TrafficTarget[];
  readonly after: readonly TrafficTarget[];
}

/** One input that differs, by path (`template.containers[0].image`); undefined means absent. */
export interface InputChange {
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

export interface ResourceRef {
  readonly type: string;
  readonly name: string;
}

/** A `secure:` value set, removed or set again (its ciphertext differs); the value is never known here. */
export interface SecretChange {
  readonly key: string;
  readonly change: "added" | "removed" | "changed";
}

/** The `secure:` values that differ between two stack files, by key path. */
export function secretChanges(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): SecretChange[] {
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  return keys.flatMap((key): SecretChange[] => {
    const b = before.get(key);
    const a = after.get(key);
    if (b === a) return [];
    return [{ key, change: b === undefined ? "added" : a === undefined ? "removed" : "changed" }];
  });
}

export interface StackDiff {
  readonly stack: string;
  /** `secure:` values that differ: the render cannot see them (they are stand-ins on both sides). */
  readonly secrets: readonly SecretChange[];
  /** Every service whose split changed, first thing a reviewer reads. */
  readonly traffic: readonly TrafficChange[];
  readonly added: readonly ResourceRef[];
  readonly removed: readonly ResourceRef[];
  readonly changed: readonly (ResourceRef & { readonly changes: readonly InputChange[] })[];
  /** Resources the same on both sides. */
  readonly unchanged: number;
}

const CLOUD_RUN = "gcp:cloudrunv2/service:Service";

function trafficOf(r: RenderedResource): { service: string; traffic: TrafficTarget[] } {
  const inputs = r.inputs as { name?: unknown; traffics?: unknown };
  const list = Array.isArray(inputs.traffics) ? (inputs.traffics as Record<string, unknown>[]) : [];
  return {
    service: typeof inputs.name === "string" ? inputs.name : r.name,
    traffic: list.map((t) => ({
      tag: String(t.tag ?? ""),
      revision: String(t.revision ?? t.type ?? ""),
      percent: Number(t.percent ?? 0),
    })),
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Leaf-level differences of two input trees, paths in declaration order. */
export function inputChanges(before: unknown, after: unknown, path = ""): InputChange[] {
  if (same(before, after)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (Array.isArray(before) && Array.isArray(after)) {
    const out: InputChange[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++)
      out.push(...inputChanges(before[i], after[i], `${path}[${i}]`));
    return out;
  }
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => inputChanges(before[k], after[k], path ? `${path}.${k}` : k));
  }
  // A JSON document held as a string (a dashboard's `dashboardJson`): the paths inside that changed,
  // written `dashboardJson/mosaicLayout.tiles[3].widget.title`, rather than the ends of a long string.
  const docBefore = jsonDocument(before);
  const docAfter = jsonDocument(after);
  if (docBefore !== undefined && docAfter !== undefined)
    return inputChanges(docBefore, docAfter).map((c) => ({
      ...c,
      path: c.path === "(inputs)" ? path : `${path}/${c.path}`,
    }));
  return [{ path: path || "(inputs)", before, after }];
}

/** The object or array a string holds as JSON, else undefined. */
function jsonDocument(value: unknown): object | undefined {
  if (typeof value !== "string" || !/^\s*[[{]/.test(value)) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed !== null && typeof parsed === "object" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const key = (r: ResourceRef) => `${r.type}::${r.name}`;

/** What changes from `before` (the base; undefined when the stack did not exist there) to `after`. */
export function diffStacks(
  before: RenderedStack | undefined,
  after: RenderedStack,
  secrets: readonly SecretChange[] = [],
): StackDiff {
  const old = new Map((before?.resources ?? []).map((r) => [key(r), r]));
  const now = new Map(after.resources.map((r) => [key(r), r]));
  const ref = (r: RenderedResource): ResourceRef => ({ type: r.type, name: r.name });

  const oldTraffic = new Map(
    [...old.values()]
      .filter((r) => r.type === CLOUD_RUN)
      .map((r) => [trafficOf(r).service, trafficOf(r).traffic]),
  );
  const newTraffic = new Map(
    [...now.values()]
      .filter((r) => r.type === CLOUD_RUN)
      .map((r) => [trafficOf(r).service, trafficOf(r).traffic]),
  );
  const traffic: TrafficChange[] = [];
  for (const service of new Set([...newTraffic.keys(), ...oldTraffic.keys()])) {
    const b = oldTraffic.get(service) ?? [];
    const a = newTraffic.get(service) ?? [];
    if (!same(b, a)) traffic.push({ service, before: b, after: a });
  }

  const changed: StackDiff["changed"][number][] = [];
  let unchanged = 0;
  for (const [k, r] of now) {
    const o = old.get(k);
    if (!o) continue;
    const changes = inputChanges(o.inputs, r.inputs);
    if (changes.length > 0) changed.push({ ...ref(r), changes });
    else unchanged++;
  }
  return {
    stack: after.stack,
    secrets,
    traffic,
    added: [...now.entries()].filter(([k]) => !old.has(k)).map(([, r]) => ref(r)),
    removed: [...old.entries()].filter(([k]) => !now.has(k)).map(([, r]) => ref(r)),
    changed,
    unchanged,
  };
}

export function hasChanges(d: StackDiff): boolean {
  return d.secrets.length + d.traffic.length + d.added.length + d.removed.length + d.changed.length > 0;
}

export const splitText = (t: readonly TrafficTarget[]): string =>
  t.length === 0 ? "(none)" : t.map((x) => `${x.tag || x.revision} ${x.percent}%`).join(" / ");
