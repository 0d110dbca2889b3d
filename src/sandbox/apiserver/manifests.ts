/** Applies YAML manifests (e.g. the CRDs in `crds/`) straight into the core, create-or-update. */
import { parseAllDocuments } from "yaml";
import { ApiCore } from "./api_core.ts";
import type { KObj } from "./store.ts";

/** Splits multi-document YAML into objects (a `List` is flattened). */
export function parseManifests(text: string): KObj[] {
  const out: KObj[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0].message}`);
    const v = doc.toJS() as unknown;
    if (!v || typeof v !== "object" || Array.isArray(v)) continue;
    const o = v as KObj;
    if (o.kind === "List" && Array.isArray(o.items)) out.push(...(o.items as KObj[]));
    else out.push(o);
  }
  return out;
}

/** Creates each object, or replaces it when it exists; returns `kind/name` of each. */
export function applyObjects(core: ApiCore, objs: KObj[]): string[] {
  const done: string[] = [];
  for (const o of objs) {
    const [group, version] = String(o.apiVersion ?? "").includes("/")
      ? String(o.apiVersion).split("/")
      : ["", String(o.apiVersion ?? "")];
    const def = core.definitions().find((d) =>
      d.group === group && d.version === version && d.kind === o.kind
    );
    if (!def) throw new Error(`no resource serves ${String(o.apiVersion)} ${String(o.kind)}`);
    const m = (o.metadata ?? {}) as KObj;
    const ns = def.namespaced ? String(m.namespace ?? "default") : undefined;
    const name = String(m.name ?? "");
    const exists = core.store.get(def.storageKey, ApiCore.key(ns, name));
    if (exists) {
      const rv = String(exists.rv);
      core.update(def, ns, name, { ...o, metadata: { ...m, resourceVersion: rv } }, "");
    } else core.create(def, ns, o);
    done.push(`${String(o.kind)}/${name}`);
  }
  return done;
}

/** Applies every `*.yaml`/`*.yml`/`*.json` file of a directory, in name order. */
export async function applyDirectory(core: ApiCore, dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && /\.(ya?ml|json)$/.test(e.name)) files.push(e.name);
  }
  files.sort();
  const done: string[] = [];
  for (const f of files) {
    done.push(...applyObjects(core, parseManifests(await Deno.readTextFile(`${dir}/${f}`))));
  }
  return done;
}
