/**
 * The canonical form kube-apiserver's decoder and encoder give an object (pure): empty metadata
 * maps and lists vanish (ObjectMeta's `omitempty` fields, k8s.io/apimachinery/pkg/apis/meta/v1/
 * types.go; custom resources' metadata is round-tripped through ObjectMeta by
 * k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta/coerce.go), and MicroTime
 * fields are parsed with layout RFC3339Micro and written back in UTC with six fraction digits
 * (k8s.io/apimachinery/pkg/apis/meta/v1/micro_time.go).
 */
import { badRequest } from "./errors.ts";
import type { KObj } from "./store.ts";

const isObj = (v: unknown): v is KObj => v !== null && typeof v === "object" && !Array.isArray(v);

/** ObjectMeta fields dropped when empty. */
const OMIT_EMPTY = ["labels", "annotations", "finalizers", "ownerReferences", "managedFields"];

/** Removes empty labels/annotations/finalizers/ownerReferences/managedFields (in place). */
export function dropEmptyMeta(md: KObj): void {
  for (const k of OMIT_EMPTY) {
    const v = md[k];
    if (
      v === null || (Array.isArray(v) && v.length === 0) ||
      (isObj(v) && Object.keys(v).length === 0)
    ) {
      delete md[k];
    }
  }
}

/** MicroTime fields by storage key (paths below the object). */
const MICRO_TIME_FIELDS: Record<string, string[][]> = {
  "coordination.k8s.io/leases": [["spec", "acquireTime"], ["spec", "renewTime"]],
  "/events": [["eventTime"], ["series", "lastObservedTime"]],
};

const RFC3339_MICRO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(\d{6})(Z|[+-]\d{2}:\d{2})$/;

/**
 * One MicroTime in canonical form: exactly six fraction digits are required on input (Go's
 * `.000000` layout element), the offset is folded into UTC.
 */
export function canonicalMicroTime(s: string): string | undefined {
  const m = s.match(RFC3339_MICRO);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return `${new Date(ms).toISOString().slice(0, 19)}.${m[2]}Z`;
}

/** Normalises the MicroTime fields of a kind (in place); 400 for one that can't be parsed. */
export function normalizeMicroTimes(storageKey: string, kind: string, obj: KObj): void {
  for (const path of MICRO_TIME_FIELDS[storageKey] ?? []) {
    let parent: unknown = obj;
    for (const p of path.slice(0, -1)) parent = isObj(parent) ? parent[p] : undefined;
    if (!isObj(parent)) continue;
    const last = path[path.length - 1];
    const v = parent[last];
    if (v === undefined || v === null) continue;
    const c = typeof v === "string" ? canonicalMicroTime(v) : undefined;
    if (c === undefined) {
      throw badRequest(
        `${kind} in version "v1" cannot be handled as a ${kind}: parsing time ${
          JSON.stringify(v)
        } as "2006-01-02T15:04:05.000000Z07:00": cannot parse it as RFC3339Micro (field ${
          path.join(".")
        })`,
      );
    }
    parent[last] = c;
  }
}

/** JSON with object keys sorted: equal for equal values whatever order the client sent. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (isObj(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}
