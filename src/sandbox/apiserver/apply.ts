/**
 * Field ownership: server-side apply (merge by list type, conflicts with other managers, `force`,
 * removal of fields a manager stops applying) and the `Update` entries every other write
 * records, kept in `metadata.managedFields`. Modelled on sigs.k8s.io/structured-merge-diff
 * merge/update.go (Updater.Apply, Updater.Update) and k8s.io/apimachinery/pkg/util/managedfields/
 * internal (structuredmerge.go, conflict.go for the 409's wording, stripmeta.go). Pure.
 */
import { conflictStatus } from "./errors.ts";
import { stableJson } from "./normalize.ts";
import {
  emptySet,
  type FieldNode,
  fieldSetOf,
  fromFieldsV1,
  hasPath,
  isEmpty,
  itemElement,
  members,
  pathString,
  removeAt,
  toFieldsV1,
  union,
  valueAt,
  without,
} from "./fieldset.ts";
import type { Shape } from "./shape.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** What a tracked write is about. */
export interface FieldContext {
  shape: Shape;
  /** "" for the object, "status" for the status subresource. */
  subresource: "" | "status";
  /** Whether status is a separate subresource (then the object's writes don't own it). */
  statusSubresource: boolean;
  /** The served apiVersion the request used. */
  apiVersion: string;
  /** RFC 3339 now. */
  now: string;
}

/** One `metav1.ManagedFieldsEntry` with its set decoded. */
interface Entry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time?: string;
  subresource: string;
  set: FieldNode;
}

function scopeOf(cx: FieldContext): (key: string) => boolean {
  return cx.subresource === "status"
    ? (k) => k === "status"
    : (k) => !(cx.statusSubresource && k === "status");
}

/** Decodes `metadata.managedFields` (malformed entries are dropped). */
function entriesOf(obj: Obj | undefined): Entry[] {
  const md = obj && isObj(obj.metadata) ? obj.metadata : {};
  const list = Array.isArray(md.managedFields) ? md.managedFields : [];
  return list.filter(isObj).filter((e) => typeof e.manager === "string").map((e) => ({
    manager: String(e.manager),
    operation: e.operation === "Apply" ? "Apply" : "Update",
    apiVersion: String(e.apiVersion ?? ""),
    time: typeof e.time === "string" ? e.time : undefined,
    subresource: String(e.subresource ?? ""),
    set: fromFieldsV1(e.fieldsV1),
  }));
}

/** Writes the entries back (empty ones dropped) onto the object's metadata (in place). */
function setEntries(obj: Obj, entries: Entry[]): void {
  const md = (isObj(obj.metadata) ? obj.metadata : (obj.metadata = {})) as Obj;
  const kept = entries.filter((e) => !isEmpty(e.set));
  if (kept.length === 0) {
    delete md.managedFields;
    return;
  }
  md.managedFields = kept.map((e) => ({
    manager: e.manager,
    operation: e.operation,
    apiVersion: e.apiVersion,
    ...(e.time ? { time: e.time } : {}),
    fieldsType: "FieldsV1",
    fieldsV1: toFieldsV1(e.set),
    ...(e.subresource ? { subresource: e.subresource } : {}),
  }));
}

/** Whether two values at a member path differ (items: only whether they exist). */
function differs(a: unknown, b: unknown, path: string[]): boolean {
  const last = path[path.length - 1];
  if (last && !last.startsWith("f:")) return (a === undefined) !== (b === undefined);
  return stableJson(a) !== stableJson(b);
}

/** The applied configuration merged into the live object: maps by key, lists by list type. */
export function mergeApplied(live: unknown, applied: unknown, shape: Shape): unknown {
  if (isObj(applied)) {
    const out: Obj = isObj(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) delete out[k];
      else out[k] = mergeApplied(out[k], v, shape.field(k));
    }
    return out;
  }
  const lt = shape.list?.listType;
  if (Array.isArray(applied) && Array.isArray(live) && (lt === "map" || lt === "set")) {
    const out = [...live];
    for (const item of applied) {
      const el = itemElement(item, shape);
      const i = out.findIndex((x) => itemElement(x, shape) === el);
      if (i < 0) out.push(structuredClone(item));
      else if (lt === "map") out[i] = mergeApplied(out[i], item, shape.items());
    }
    return out;
  }
  return structuredClone(applied);
}

function managerName(e: Entry): string {
  const sub = e.subresource ? ` with subresource ${JSON.stringify(e.subresource)}` : "";
  const base = `${JSON.stringify(e.manager)}${sub}`;
  if (e.operation === "Apply") return base;
  return e.time ? `${base} using ${e.apiVersion} at ${e.time}` : `${base} using ${e.apiVersion}`;
}

/**
 * Server-side apply of `config` by `manager` onto `live` (undefined: create). Returns the new
 * object with its managedFields; throws 409 Conflict naming each conflicting manager and field
 * unless `force` takes them over.
 */
export function applyConfig(
  live: Obj | undefined,
  config: Obj,
  manager: string,
  force: boolean,
  cx: FieldContext,
): Obj {
  const scope = scopeOf(cx);
  const scoped: Obj = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === "apiVersion" || k === "kind" || k === "metadata" || scope(k)) scoped[k] = v;
  }
  const applied = fieldSetOf(scoped, cx.shape, scope);
  // A deep copy: removals below must never touch the stored object.
  const merged = mergeApplied(structuredClone(live ?? {}), scoped, cx.shape) as Obj;
  const entries = entriesOf(live);
  const mine = (e: Entry) =>
    e.manager === manager && e.operation === "Apply" && e.subresource === cx.subresource;
  const conflicts: { entry: Entry; path: string[] }[] = [];
  for (const e of entries) {
    if (mine(e) || e.subresource !== cx.subresource) continue;
    for (const p of members(applied)) {
      if (!hasPath(e.set, p)) continue;
      if (differs(valueAt(live, p, cx.shape), valueAt(merged, p, cx.shape), p)) {
        conflicts.push({ entry: e, path: p });
      }
    }
  }
  // structured-merge-diff iterates sets in path order.
  conflicts.sort((a, b) => (pathString(a.path) < pathString(b.path) ? -1 : 1));
  if (conflicts.length > 0 && !force) throw applyConflict(conflicts);
  for (const c of conflicts) {
    const key = JSON.stringify(c.path);
    c.entry.set = without(c.entry.set, (p) => JSON.stringify(p) === key);
  }
  // Fields this manager applied before and no longer applies go, unless another owns them.
  const prev = entries.find(mine);
  if (prev) {
    const dropped = members(prev.set).filter((p) =>
      !hasPath(applied, p) && !entries.some((e) => !mine(e) && hasPath(e.set, p))
    );
    // Outermost first: removing an item or a map removes what is below it.
    dropped.sort((a, b) => a.length - b.length);
    const removed: string[][] = [];
    for (const p of dropped) {
      if (removed.some((r) => r.every((el, i) => p[i] === el))) continue;
      removeAt(merged, p, cx.shape);
      removed.push(p);
    }
  }
  const next: Entry = {
    manager,
    operation: "Apply",
    apiVersion: cx.apiVersion,
    time: cx.now,
    subresource: cx.subresource,
    set: applied,
  };
  setEntries(merged, prev ? entries.map((e) => (e === prev ? next : e)) : [...entries, next]);
  return merged;
}

function applyConflict(conflicts: { entry: Entry; path: string[] }[]): Error {
  const causes = conflicts.map((c) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${managerName(c.entry)}`,
    field: pathString(c.path),
  }));
  if (conflicts.length === 1) {
    const c = conflicts[0];
    return conflictStatus(
      `Apply failed with 1 conflict: conflict with ${managerName(c.entry)}: ${pathString(c.path)}`,
      causes,
    );
  }
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const m = managerName(c.entry);
    byManager.set(m, [...(byManager.get(m) ?? []), pathString(c.path)]);
  }
  const lines: string[] = [];
  for (const m of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${m}:`, ...byManager.get(m)!.map((p) => `- ${p}`));
  }
  return conflictStatus(
    `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`,
    causes,
  );
}

/**
 * Records a non-apply write (create, update, patch) by `manager`: it takes the fields it changed
 * from everyone else, and removed fields leave every set (Updater.Update). Sets `next`'s
 * managedFields in place.
 */
export function trackUpdate(
  old: Obj | undefined,
  next: Obj,
  manager: string,
  cx: FieldContext,
): void {
  const scope = scopeOf(cx);
  // Only the top-level (and metadata) fields that differ can hold changes: diff those alone.
  const [was, now] = differingParts(old ?? {}, next, scope);
  const before = fieldSetOf(was, cx.shape, scope);
  const after = fieldSetOf(now, cx.shape, scope);
  const changed = members(after).filter((p) =>
    differs(valueAt(was, p, cx.shape), valueAt(now, p, cx.shape), p)
  );
  const removed = members(before).filter((p) => !hasPath(after, p));
  const touched = new Set([...changed, ...removed].map((p) => JSON.stringify(p)));
  const entries = entriesOf(old);
  const mine = (e: Entry) =>
    e.manager === manager && e.operation === "Update" && e.subresource === cx.subresource;
  for (const e of entries) {
    if (!mine(e)) e.set = without(e.set, (p) => touched.has(JSON.stringify(p)));
  }
  const gone = new Set(removed.map((p) => JSON.stringify(p)));
  const changedSet = emptySet();
  for (const p of changed) insertPath(changedSet, p);
  const prev = entries.find(mine);
  if (changed.length === 0 && !prev) {
    setEntries(next, entries);
    return;
  }
  const set = without(
    union(prev?.set ?? emptySet(), changedSet),
    (p) => gone.has(JSON.stringify(p)),
  );
  const entry: Entry = {
    manager,
    operation: "Update",
    apiVersion: cx.apiVersion,
    time: changed.length > 0 ? cx.now : prev?.time,
    subresource: cx.subresource,
    set,
  };
  setEntries(next, prev ? entries.map((e) => (e === prev ? entry : e)) : [...entries, entry]);
}

/** Adds one member path to a set (in place). */
function insertPath(root: FieldNode, path: string[]): void {
  let cur = root;
  for (const el of path) {
    let n = cur.children.get(el);
    if (!n) cur.children.set(el, n = emptySet());
    cur = n;
  }
  cur.self = true;
}

/** The top-level and metadata fields (in scope) whose values differ, from each side. */
function differingParts(old: Obj, next: Obj, scope: (k: string) => boolean): [Obj, Obj] {
  const was: Obj = {}, now: Obj = {};
  for (const k of new Set([...Object.keys(old), ...Object.keys(next)])) {
    if (!scope(k) || k === "apiVersion" || k === "kind") continue;
    if (k === "metadata" && isObj(old.metadata) && isObj(next.metadata)) {
      const [a, b] = differingParts(old.metadata, next.metadata, () => true);
      was.metadata = a;
      now.metadata = b;
    } else if (stableJson(old[k]) !== stableJson(next[k])) {
      if (old[k] !== undefined) was[k] = old[k];
      if (next[k] !== undefined) now[k] = next[k];
    }
  }
  return [was, now];
}

/** The manager name of a non-apply write: `fieldManager`, else the user agent's first word. */
export function updateManager(fieldManager: string | undefined, userAgent: string | undefined) {
  if (fieldManager) return fieldManager;
  const ua = (userAgent ?? "").split("/")[0];
  return ua || "unknown";
}
