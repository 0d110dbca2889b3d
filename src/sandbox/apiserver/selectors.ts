/** Label and field selectors: parsing the query-string syntax and matching objects (pure). */

/** One parsed label requirement. */
export type LabelRequirement =
  | { op: "exists" | "notexists"; key: string }
  | { op: "eq" | "neq"; key: string; value: string }
  | { op: "in" | "notin"; key: string; values: string[] }
  | { op: "gt" | "lt"; key: string; value: number };

/** A parsed label selector; an empty list matches everything. */
export type LabelSelector = LabelRequirement[];

/** One parsed field requirement (`path=value` or `path!=value`). */
export interface FieldRequirement {
  path: string;
  op: "eq" | "neq";
  value: string;
}

/** Thrown for a malformed selector; the server maps it to 400 BadRequest. */
export class SelectorError extends Error {}

const KEY =
  /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/;

/** Splits on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((p) => p.trim()).filter((p) => p.length > 0);
}

const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkValue(v: string, raw: string): string {
  if (v.length > 63 || !VALUE.test(v)) {
    throw new SelectorError(`unable to parse requirement: invalid label value "${v}" in "${raw}"`);
  }
  return v;
}

function checkKey(key: string, raw: string): string {
  if (!KEY.test(key)) {
    throw new SelectorError(`unable to parse requirement: invalid label key "${key}" in "${raw}"`);
  }
  return key;
}

/** Parses `a=b,c!=d,e in (x,y),!f,g` into requirements. */
export function parseLabelSelector(s: string | null | undefined): LabelSelector {
  if (!s) return [];
  const reqs: LabelSelector = [];
  for (const part of splitTop(s)) {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^(\S+)\s+(in|notin)\s*\((.*)\)$/))) {
      const values = m[3].split(",").map((v) => checkValue(v.trim(), part)).filter((v) =>
        v.length > 0
      );
      reqs.push({ op: m[2] as "in" | "notin", key: checkKey(m[1], part), values });
    } else if ((m = part.match(/^!\s*(\S+)$/))) {
      reqs.push({ op: "notexists", key: checkKey(m[1], part) });
    } else if ((m = part.match(/^([^=!<>\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      reqs.push({
        op: m[2] === "!=" ? "neq" : "eq",
        key: checkKey(m[1], part),
        value: checkValue(m[3], part),
      });
    } else if ((m = part.match(/^([^=!<>\s]+)\s*([<>])\s*(-?\d+)$/))) {
      reqs.push({ op: m[2] === ">" ? "gt" : "lt", key: checkKey(m[1], part), value: Number(m[3]) });
    } else if ((m = part.match(/^([^=!<>\s()]+)$/))) {
      reqs.push({ op: "exists", key: checkKey(m[1], part) });
    } else {
      throw new SelectorError(`unable to parse requirement: "${part}"`);
    }
  }
  return reqs;
}

/** True when the labels satisfy every requirement. */
export function matchLabels(
  sel: LabelSelector,
  labels: Record<string, string> | undefined,
): boolean {
  for (const r of sel) {
    const has = labels !== undefined && Object.hasOwn(labels, r.key);
    const v = has ? labels![r.key] : undefined;
    switch (r.op) {
      case "exists":
        if (!has) return false;
        break;
      case "notexists":
        if (has) return false;
        break;
      case "eq":
        if (v !== r.value) return false;
        break;
      case "neq":
        if (v === r.value) return false;
        break;
      case "in":
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case "notin":
        if (v !== undefined && r.values.includes(v)) return false;
        break;
      case "gt":
        if (v === undefined || !(Number(v) > r.value)) return false;
        break;
      case "lt":
        if (v === undefined || !(Number(v) < r.value)) return false;
        break;
    }
  }
  return true;
}

/** Parses `metadata.name=x,metadata.namespace!=y`. */
export function parseFieldSelector(s: string | null | undefined): FieldRequirement[] {
  if (!s) return [];
  const out: FieldRequirement[] = [];
  for (const part of splitTop(s)) {
    const m = part.match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw new SelectorError(`invalid selector: '${s}'; can't understand '${part}'`);
    out.push({ path: m[1].trim(), op: m[2] === "!=" ? "neq" : "eq", value: m[3].trim() });
  }
  return out;
}

/** Reads a dotted path (`spec.nodeName`) from an object as a string ("" when absent). */
export function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split(".")) {
    if (cur === null || typeof cur !== "object") return "";
    cur = (cur as Record<string, unknown>)[seg];
  }
  if (cur === undefined || cur === null) return "";
  return typeof cur === "object" ? JSON.stringify(cur) : String(cur);
}

/** True when the object satisfies every field requirement. */
export function matchFields(reqs: FieldRequirement[], obj: unknown): boolean {
  for (const r of reqs) {
    const v = fieldValue(obj, r.path);
    if (r.op === "eq" ? v !== r.value : v === r.value) return false;
  }
  return true;
}
