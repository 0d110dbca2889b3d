/**
 * Field sets as structured-merge-diff records them (sigs.k8s.io/structured-merge-diff
 * fieldpath): a tree of path elements (`f:<field>`, `k:<keys JSON>` for items of a `map` list,
 * `v:<value JSON>` for items of a `set`), its `FieldsV1` JSON encoding with `.` marking a node
 * that is itself a member, and the values at those paths. Pure.
 */
import { stableJson } from "./normalize.ts";
import type { Shape } from "./shape.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** A node of a field set: whether the path itself is a member, and its children. */
export interface FieldNode {
  self: boolean;
  children: Map<string, FieldNode>;
}

/** An empty set. */
export function emptySet(): FieldNode {
  return { self: false, children: new Map() };
}

/** Top-level and metadata fields no manager owns (k8s.io/apimachinery stripmeta.go). */
const STRIPPED_META = new Set([
  "name",
  "namespace",
  "creationTimestamp",
  "selfLink",
  "uid",
  "clusterName",
  "generation",
  "managedFields",
  "resourceVersion",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
]);

/** The path element of a list item (`k:` for map lists, `v:` for sets and atomic primitives). */
export function itemElement(item: unknown, shape: Shape): string {
  const keys = shape.list?.listType === "map" ? shape.list.mapKeys : undefined;
  if (keys && isObj(item)) {
    const k: Obj = {};
    for (const key of [...keys].sort()) if (item[key] !== undefined) k[key] = item[key];
    return `k:${stableJson(k)}`;
  }
  return `v:${stableJson(item)}`;
}

/**
 * The field set of a value: every leaf (primitives, atomic lists, empty maps), and every item of
 * a `map` or `set` list as a member with its own fields. `scope` selects the top-level fields.
 */
export function fieldSetOf(obj: Obj, shape: Shape, scope: (key: string) => boolean): FieldNode {
  const root = emptySet();
  for (const [k, v] of Object.entries(obj)) {
    if (k === "apiVersion" || k === "kind" || !scope(k) || v === undefined) continue;
    if (k === "metadata" && isObj(v)) {
      const md = emptySet();
      for (const [mk, mv] of Object.entries(v)) {
        if (STRIPPED_META.has(mk) || mv === undefined) continue;
        md.children.set(`f:${mk}`, valueSet(mv, shape.field("metadata").field(mk)));
      }
      if (md.children.size > 0) root.children.set("f:metadata", md);
      continue;
    }
    root.children.set(`f:${k}`, valueSet(v, shape.field(k)));
  }
  return root;
}

function valueSet(v: unknown, shape: Shape): FieldNode {
  if (isObj(v)) {
    const n = emptySet();
    for (const [k, x] of Object.entries(v)) {
      if (x !== undefined) n.children.set(`f:${k}`, valueSet(x, shape.field(k)));
    }
    if (n.children.size === 0) n.self = true;
    return n;
  }
  if (Array.isArray(v) && shape.list && shape.list.listType !== "atomic") {
    const n = emptySet();
    for (const item of v) {
      const child = shape.list.listType === "map" && isObj(item)
        ? valueSet(item, shape.items())
        : emptySet();
      child.self = true;
      n.children.set(itemElement(item, shape), child);
    }
    if (n.children.size === 0) n.self = true;
    return n;
  }
  return { self: true, children: new Map() };
}

/** `FieldsV1` JSON of a set (keys sorted, `.` first, as the real server writes them). */
export function toFieldsV1(n: FieldNode): Obj {
  const out: Obj = {};
  const keys = [...n.children.keys()].sort();
  if (n.self && keys.length > 0) out["."] = {};
  for (const k of keys) out[k] = toFieldsV1(n.children.get(k)!);
  return out;
}

/** A set from its `FieldsV1` JSON. */
export function fromFieldsV1(o: unknown): FieldNode {
  const n = emptySet();
  if (!isObj(o)) return n;
  const keys = Object.keys(o);
  n.self = keys.length === 0 || keys.includes(".");
  for (const k of keys) if (k !== ".") n.children.set(k, fromFieldsV1(o[k]));
  return n;
}

/** Every member path of a set (a path is a list of elements). */
export function members(n: FieldNode, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  if (n.self && prefix.length > 0) out.push(prefix);
  for (const [k, c] of n.children) out.push(...members(c, [...prefix, k]));
  return out;
}

/** Whether a path is a member of a set. */
export function hasPath(n: FieldNode, path: string[]): boolean {
  let cur: FieldNode | undefined = n;
  for (const p of path) {
    cur = cur.children.get(p);
    if (!cur) return false;
  }
  return cur.self;
}

/** A set with the given paths removed (members only; emptied branches pruned). */
export function without(
  n: FieldNode,
  drop: (path: string[]) => boolean,
  prefix: string[] = [],
): FieldNode {
  const out: FieldNode = {
    self: n.self && !(prefix.length > 0 && drop(prefix)),
    children: new Map(),
  };
  for (const [k, c] of n.children) {
    const r = without(c, drop, [...prefix, k]);
    if (r.self || r.children.size > 0) out.children.set(k, r);
  }
  return out;
}

/** The union of two sets. */
export function union(a: FieldNode, b: FieldNode): FieldNode {
  const out: FieldNode = { self: a.self || b.self, children: new Map() };
  for (const k of new Set([...a.children.keys(), ...b.children.keys()])) {
    const x = a.children.get(k), y = b.children.get(k);
    out.children.set(k, x && y ? union(x, y) : (x ?? y)!);
  }
  return out;
}

/** Whether a set has no member. */
export function isEmpty(n: FieldNode): boolean {
  return members(n).length === 0;
}

/** The list item an element names, with its index. */
function findItem(list: unknown[], el: string, shape: Shape): number {
  return list.findIndex((item) => itemElement(item, shape) === el);
}

/** The value at a path (undefined when absent). */
export function valueAt(obj: unknown, path: string[], shape: Shape): unknown {
  let cur = obj;
  let s = shape;
  for (const el of path) {
    if (el.startsWith("f:")) {
      if (!isObj(cur)) return undefined;
      const name = el.slice(2);
      cur = cur[name];
      s = s.field(name);
    } else {
      if (!Array.isArray(cur)) return undefined;
      const i = findItem(cur, el, s);
      if (i < 0) return undefined;
      cur = cur[i];
      s = s.items();
    }
  }
  return cur;
}

/** Removes the value at a path from an object (in place); a list item is spliced out. */
export function removeAt(obj: unknown, path: string[], shape: Shape): void {
  let cur = obj;
  let s = shape;
  for (let i = 0; i < path.length; i++) {
    const el = path[i];
    const last = i === path.length - 1;
    if (el.startsWith("f:")) {
      if (!isObj(cur)) return;
      const name = el.slice(2);
      if (last) {
        delete cur[name];
        return;
      }
      cur = cur[name];
      s = s.field(name);
    } else {
      if (!Array.isArray(cur)) return;
      const idx = findItem(cur, el, s);
      if (idx < 0) return;
      if (last) {
        cur.splice(idx, 1);
        return;
      }
      cur = cur[idx];
      s = s.items();
    }
  }
}

/** A path as structured-merge-diff prints it: `.spec.containers[name="a"].image`. */
export function pathString(path: string[]): string {
  return path.map((el) => {
    if (el.startsWith("f:")) return `.${el.slice(2)}`;
    if (el.startsWith("v:")) return `[=${el.slice(2)}]`;
    const keys = JSON.parse(el.slice(2)) as Obj;
    return `[${Object.entries(keys).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}]`;
  }).join("");
}
