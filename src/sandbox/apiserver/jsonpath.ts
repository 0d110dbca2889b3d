/** A small JSONPath evaluator for printer columns (`.status.conditions[?(@.type=="Ready")].status`). */

type Step =
  | { kind: "field"; name: string }
  | { kind: "index"; index: number }
  | { kind: "all" }
  | { kind: "filter"; path: string[]; op: "==" | "!="; value: unknown };

/** Thrown for a path this evaluator cannot parse. */
export class JsonPathError extends Error {}

/** Parses a path such as `.spec.tiers[0].name` or `{.metadata.name}`. */
export function parseJsonPath(expr: string): Step[] {
  let s = expr.trim();
  if (s.startsWith("{") && s.endsWith("}")) s = s.slice(1, -1).trim();
  if (s.startsWith("$")) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (ch === ".") {
      i++;
      let name = "";
      while (i < s.length && s[i] !== "." && s[i] !== "[") {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        name += s[i++];
      }
      if (name === "*") steps.push({ kind: "all" });
      else if (name) steps.push({ kind: "field", name });
    } else if (ch === "[") {
      const end = s.indexOf("]", i);
      if (end < 0) throw new JsonPathError(`unclosed [ in ${expr}`);
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === "*") steps.push({ kind: "all" });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: "index", index: Number(inner) });
      else if (/^['"].*['"]$/.test(inner)) steps.push({ kind: "field", name: inner.slice(1, -1) });
      else {
        const m = inner.match(/^\?\(@((?:\.[\w.-]+)+)\s*(==|!=)\s*(.+)\)$/);
        if (!m) throw new JsonPathError(`unsupported JSONPath expression ${inner}`);
        let value: unknown = m[3].trim();
        const v = value as string;
        if (/^(['"]).*\1$/.test(v)) value = v.slice(1, -1);
        else if (v === "true" || v === "false") value = v === "true";
        else if (!Number.isNaN(Number(v))) value = Number(v);
        steps.push({
          kind: "filter",
          path: m[1].slice(1).split("."),
          op: m[2] as "==" | "!=",
          value,
        });
      }
    } else {
      throw new JsonPathError(`unexpected ${ch} in ${expr}`);
    }
  }
  return steps;
}

/** Evaluates parsed steps against a value, returning every match. */
export function evalJsonPath(steps: Step[], root: unknown): unknown[] {
  let cur: unknown[] = [root];
  for (const st of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || typeof v !== "object") continue;
      if (st.kind === "field") {
        if (!Array.isArray(v) && Object.hasOwn(v, st.name)) {
          next.push((v as Record<string, unknown>)[st.name]);
        }
      } else if (st.kind === "index") {
        if (Array.isArray(v)) {
          const idx = st.index < 0 ? v.length + st.index : st.index;
          if (idx >= 0 && idx < v.length) next.push(v[idx]);
        }
      } else if (st.kind === "all") {
        next.push(...(Array.isArray(v) ? v : Object.values(v)));
      } else {
        const items = Array.isArray(v) ? v : [v];
        for (const it of items) {
          let x: unknown = it;
          for (const p of st.path) {
            x = x && typeof x === "object" ? (x as Record<string, unknown>)[p] : undefined;
          }
          if ((x === st.value) === (st.op === "==")) next.push(it);
        }
      }
    }
    cur = next;
  }
  return cur;
}
