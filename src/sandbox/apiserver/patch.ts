/** Patch algorithms: JSON merge patch (RFC 7386) and JSON patch (RFC 6902) (pure). */

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Thrown for a patch that cannot be applied; the server maps it to 422/400. */
export class PatchError extends Error {}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Deep copy of a JSON value. */
export function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/** RFC 7386: objects merge recursively, `null` deletes, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Record<string, unknown> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function unescape(tok: string): string {
  return tok.replace(/~1/g, "/").replace(/~0/g, "~");
}

function parsePointer(p: string): string[] {
  if (p === "") return [];
  if (!p.startsWith("/")) throw new PatchError(`invalid JSON pointer "${p}"`);
  return p.slice(1).split("/").map(unescape);
}

function getAt(doc: unknown, toks: string[]): unknown {
  let cur = doc;
  for (const t of toks) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObj(cur)) cur = cur[t];
    else return undefined;
  }
  return cur;
}

function parentOf(doc: unknown, toks: string[], path: string): unknown {
  const parent = getAt(doc, toks.slice(0, -1));
  if (parent === undefined || parent === null || typeof parent !== "object") {
    throw new PatchError(`doc is missing path: "${path}"`);
  }
  return parent;
}

function arrayIndex(arr: unknown[], tok: string, forAdd: boolean, path: string): number {
  if (forAdd && tok === "-") return arr.length;
  if (!/^\d+$/.test(tok)) throw new PatchError(`invalid array index in "${path}"`);
  const i = Number(tok);
  if (i > arr.length || (!forAdd && i === arr.length)) {
    throw new PatchError(`array index out of bounds in "${path}"`);
  }
  return i;
}

function addAt(doc: unknown, path: string, value: unknown): unknown {
  const toks = parsePointer(path);
  if (toks.length === 0) return clone(value);
  const parent = parentOf(doc, toks, path);
  const last = toks[toks.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true, path), 0, clone(value));
  else (parent as Record<string, unknown>)[last] = clone(value);
  return doc;
}

function removeAt(doc: unknown, path: string): unknown {
  const toks = parsePointer(path);
  if (toks.length === 0) throw new PatchError("cannot remove the whole document");
  const parent = parentOf(doc, toks, path);
  const last = toks[toks.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false, path), 1);
  else {
    if (!Object.hasOwn(parent as object, last)) {
      throw new PatchError(`Unable to remove nonexistent key: ${last}: missing value`);
    }
    delete (parent as Record<string, unknown>)[last];
  }
  return doc;
}

/** One RFC 6902 operation. */
export interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

/** RFC 6902: applies the operations in order to a copy of `doc`. */
export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError("json patch must be an array of operations");
  let out = clone(doc);
  for (const raw of ops) {
    if (!isObj(raw) || typeof raw.op !== "string" || typeof raw.path !== "string") {
      throw new PatchError("invalid json patch operation");
    }
    const op = raw as unknown as JsonPatchOp;
    switch (op.op) {
      case "add":
        out = addAt(out, op.path, op.value);
        break;
      case "remove":
        out = removeAt(out, op.path);
        break;
      case "replace": {
        const toks = parsePointer(op.path);
        if (toks.length > 0 && getAt(out, toks) === undefined) {
          throw new PatchError(`replace operation does not apply: doc is missing key: ${op.path}`);
        }
        if (toks.length > 0) out = removeAt(out, op.path);
        out = addAt(out, op.path, op.value);
        break;
      }
      case "move": {
        const v = getAt(out, parsePointer(op.from ?? ""));
        if (v === undefined) throw new PatchError(`move operation does not apply: ${op.from}`);
        out = removeAt(out, op.from ?? "");
        out = addAt(out, op.path, v);
        break;
      }
      case "copy": {
        const v = getAt(out, parsePointer(op.from ?? ""));
        if (v === undefined) throw new PatchError(`copy operation does not apply: ${op.from}`);
        out = addAt(out, op.path, v);
        break;
      }
      case "test": {
        const v = getAt(out, parsePointer(op.path));
        if (JSON.stringify(v) !== JSON.stringify(op.value)) {
          throw new PatchError(`testing value ${op.path} failed`);
        }
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${op.op}`);
    }
  }
  return out;
}
