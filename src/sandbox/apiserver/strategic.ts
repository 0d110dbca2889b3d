/**
 * Strategic merge patch, as k8s.io/apimachinery/pkg/util/strategicpatch/patch.go applies it
 * (mergeMap, mergeSlice): maps merge, `null` deletes, lists with a `patchMergeKey` merge item by
 * item, primitive lists with `patchStrategy:"merge"` merge as sets, other lists are replaced; the
 * directives `$patch` (replace, delete, merge), `$retainKeys`, `$setElementOrder/<list>` and
 * `$deleteFromPrimitiveList/<list>` are honoured. The merge keys and strategies come from the
 * built-in types' tags (shape.ts). Pure.
 */
import { stableJson } from "./normalize.ts";
import { PatchError } from "./patch.ts";
import type { Shape } from "./shape.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

const SET_ORDER = "$setElementOrder/";
const DELETE_PRIMITIVE = "$deleteFromPrimitiveList/";

/** Applies a strategic merge patch to `original` (neither is modified). */
export function strategicMerge(original: unknown, patch: unknown, shape: Shape): unknown {
  if (!isObj(patch)) throw new PatchError("strategic merge patch must be a JSON object");
  return mergeMap(isObj(original) ? original : {}, patch, shape) ?? {};
}

/** The map after the patch, or undefined when the patch deletes it (`$patch: delete`). */
function mergeMap(orig: Obj, patch: Obj, shape: Shape): Obj | undefined {
  const directive = patch.$patch;
  if (directive === "replace") return stripDirectives(patch) as Obj;
  if (directive === "delete") return undefined;
  if (directive !== undefined && directive !== "merge") {
    throw new PatchError(
      `Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`,
    );
  }
  const out: Obj = { ...orig };
  const orders: [string, unknown][] = [];
  const deletes: [string, unknown][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k === "$retainKeys") continue;
    if (k.startsWith(SET_ORDER)) orders.push([k.slice(SET_ORDER.length), v]);
    else if (k.startsWith(DELETE_PRIMITIVE)) deletes.push([k.slice(DELETE_PRIMITIVE.length), v]);
    else if (v === null) delete out[k];
    else if (isObj(v)) {
      const merged = mergeMap(isObj(out[k]) ? out[k] as Obj : {}, v, shape.field(k));
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else if (Array.isArray(v)) out[k] = mergeList(out[k], v, shape.field(k));
    else out[k] = v;
  }
  for (const [k, v] of deletes) {
    if (!Array.isArray(v)) throw new PatchError(`${DELETE_PRIMITIVE}${k} must be a list`);
    if (Array.isArray(out[k])) out[k] = (out[k] as unknown[]).filter((x) => !v.includes(x));
  }
  for (const [k, v] of orders) {
    if (!Array.isArray(v)) throw new PatchError(`${SET_ORDER}${k} must be a list`);
    if (Array.isArray(out[k])) out[k] = applyOrder(out[k] as unknown[], v, shape.field(k));
  }
  const retain = patch.$retainKeys;
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw new PatchError("$retainKeys must be a list of field names");
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  return out;
}

/** mergeSlice: by merge key, as a set, or replaced. */
function mergeList(orig: unknown, patch: unknown[], shape: Shape): unknown[] {
  const info = shape.list;
  if (!info?.merge) return stripDirectives(patch) as unknown[];
  if (patch.some((e) => isObj(e) && e.$patch === "replace")) {
    return stripDirectives(patch.filter((e) => !(isObj(e) && e.$patch === "replace"))) as unknown[];
  }
  const base = Array.isArray(orig) ? orig : [];
  const mk = info.mergeKey;
  if (!mk) return [...base, ...patch.filter((x) => !base.some((b) => same(b, x)))];
  const out: unknown[] = [...base];
  for (const el of patch) {
    if (!isObj(el)) throw new PatchError(`a merge list item is not a map: ${JSON.stringify(el)}`);
    if (el[mk] === undefined) {
      throw new PatchError(`map: ${JSON.stringify(el)} does not contain declared merge key: ${mk}`);
    }
    const i = out.findIndex((o) => isObj(o) && same(o[mk], el[mk]));
    if (el.$patch === "delete") {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    const merged = mergeMap(i >= 0 ? out[i] as Obj : {}, el, shape.items());
    if (merged === undefined) {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = merged;
    else out.push(merged);
  }
  return out;
}

/**
 * `$setElementOrder`: the items it names in its order, then the items only the server has, in
 * their original order.
 */
function applyOrder(list: unknown[], order: unknown[], shape: Shape): unknown[] {
  const mk = shape.list?.mergeKey;
  const keyOf = (x: unknown) => JSON.stringify(mk && isObj(x) ? x[mk] : x);
  const rank = new Map(order.map((o, i) => [keyOf(o), i]));
  const named = list.filter((x) => rank.has(keyOf(x)));
  named.sort((a, b) => rank.get(keyOf(a))! - rank.get(keyOf(b))!);
  return [...named, ...list.filter((x) => !rank.has(keyOf(x)))];
}

function same(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

/** A patch value with every `$` directive removed (what is stored when it is taken whole). */
function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith("$")) out[k] = stripDirectives(x);
  return out;
}
