/**
 * The import rules of src/, as data and a checker: each top-level directory (or root file) sits
 * in a layer and may import only its own layer or lower ones; directories must not import each
 * other in a cycle; product code never imports src/sandbox/ (only the CLI's demo and sandbox
 * commands do); pure modules touch no I/O and no clock.
 */

/** Layers, lowest first. A name is a top-level directory or a root file of src/. */
export const LAYERS: readonly (readonly string[])[] = [
  ["clock.ts", "version.ts", "config", "ffi"],
  ["observability", "lifecycle.ts"],
  ["api", "model"],
  ["tiering", "ec", "cache", "hardware"],
  ["kube", "mayastor", "metrics"],
  ["machine", "migration", "ectier", "startup"],
  ["controllers"],
  ["app"],
  ["cli"],
];

/** The only product modules that may import src/sandbox/. */
export const SANDBOX_IMPORTERS: readonly string[] = ["cli/demo.ts", "cli/sandbox.ts"];

/** Modules that must stay pure: no Deno.*, no fetch, no timers, no clock, no adapters. */
export const PURE: readonly string[] = [
  "tiering/",
  "model/",
  "migration/step.ts",
  "migration/state.ts",
  "migration/history.ts",
  "ectier/step.ts",
  "ectier/state.ts",
  "ectier/decide.ts",
  "ectier/job_protocol.ts",
  "ec/gf256.ts",
  "ec/matrix.ts",
  "ec/rs.ts",
  "ec/lrc.ts",
];

/** One import of one module (paths relative to src/). */
export interface Edge {
  from: string;
  to: string;
}

/** A problem the checker found. */
export interface Violation {
  kind: "upward" | "cycle" | "sandbox" | "impure" | "unplaced";
  detail: string;
}

/** The layer index of a module path relative to src/ (undefined when unplaced). */
export function layerOf(path: string): number | undefined {
  const top = path.split("/")[0];
  const i = LAYERS.findIndex((l) => l.includes(top));
  return i < 0 ? undefined : i;
}

const IMPORT_RE = /(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g;

/** The relative imports of a module's source, resolved to paths relative to src/. */
export function importsOf(path: string, source: string): string[] {
  const dir = path.split("/").slice(0, -1);
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT_RE)) {
    const parts = [...dir];
    for (const seg of m[1].split("/")) {
      if (seg === "..") parts.pop();
      else if (seg !== ".") parts.push(seg);
    }
    out.push(parts.join("/"));
  }
  return out;
}

const IMPURE_RE =
  /\bDeno\.|\bfetch\(|\bsetTimeout\(|\bsetInterval\(|\bDate\.now\(|\bperformance\.now\(/;

/** Checks a module map (path relative to src/ → source) against the rules. */
export function checkLayers(modules: ReadonlyMap<string, string>): Violation[] {
  const out: Violation[] = [];
  const dirEdges = new Map<string, Set<string>>();
  for (const [path, source] of modules) {
    const inSandbox = path.startsWith("sandbox/");
    for (const to of importsOf(path, source)) {
      if (to.startsWith("sandbox/") && !inSandbox && !SANDBOX_IMPORTERS.includes(path)) {
        out.push({ kind: "sandbox", detail: `${path} imports ${to}` });
        continue;
      }
      if (inSandbox || to.startsWith("sandbox/")) continue;
      const a = layerOf(path), b = layerOf(to);
      if (a === undefined || b === undefined) {
        out.push({ kind: "unplaced", detail: `${a === undefined ? path : to} is in no layer` });
        continue;
      }
      if (b > a) {
        out.push({ kind: "upward", detail: `${path} (layer ${a}) imports ${to} (layer ${b})` });
      }
      const da = path.split("/")[0], db = to.split("/")[0];
      if (da !== db) {
        if (!dirEdges.has(da)) dirEdges.set(da, new Set());
        dirEdges.get(da)!.add(db);
      }
    }
    if (PURE.some((p) => path.startsWith(p)) && IMPURE_RE.test(stripComments(source))) {
      out.push({ kind: "impure", detail: `${path} performs I/O or reads time` });
    }
    if (PURE.some((p) => path.startsWith(p))) {
      for (const to of importsOf(path, source)) {
        if (to === "clock.ts" || /^(kube|mayastor|metrics|machine)\//.test(to)) {
          out.push({ kind: "impure", detail: `${path} imports ${to}` });
        }
      }
    }
  }
  for (const cycle of cycles(dirEdges)) out.push({ kind: "cycle", detail: cycle.join(" → ") });
  return out;
}

function stripComments(s: string): string {
  return s.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
}

/** Directory cycles (each reported once, from its smallest name). */
function cycles(edges: Map<string, Set<string>>): string[][] {
  const out: string[][] = [];
  const seen = new Set<string>();
  const walk = (start: string, node: string, path: string[]) => {
    for (const next of edges.get(node) ?? []) {
      if (next === start) {
        const key = [...path].sort().join(",");
        if (!seen.has(key) && path[0] === [...path].sort()[0]) {
          seen.add(key);
          out.push([...path, start]);
        }
      } else if (!path.includes(next)) walk(start, next, [...path, next]);
    }
  };
  for (const d of edges.keys()) walk(d, d, [d]);
  return out;
}

/** Every .ts module under `root` (src/), keyed by path relative to it. */
export async function readModules(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const visit = async (dir: string, rel: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await visit(`${dir}/${e.name}`, p);
      else if (e.name.endsWith(".ts")) out.set(p, await Deno.readTextFile(`${dir}/${e.name}`));
    }
  };
  await visit(root, "");
  return out;
}

/**
 * Modules no import chain from the entry points reaches: product code that only tests run
 * (a test of a copy the product doesn't run proves nothing). `entries` are paths relative to
 * src/ that main.ts imports.
 */
export function unreachable(
  modules: ReadonlyMap<string, string>,
  entries: readonly string[],
): string[] {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const m = queue.pop()!;
    if (seen.has(m)) continue;
    seen.add(m);
    const src = modules.get(m);
    if (src !== undefined) queue.push(...importsOf(m, src));
  }
  return [...modules.keys()].filter((m) => !seen.has(m)).sort();
}
