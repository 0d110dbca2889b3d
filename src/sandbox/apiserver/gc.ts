/**
 * The garbage collector: deletes dependents whose owners are gone (background), holds an owner
 * deleted in the foreground until its blocking dependents are gone (`foregroundDeletion`
 * finalizer), and strips references from the dependents of an owner deleted with the orphan
 * policy (`orphan` finalizer). Modelled on kubernetes/kubernetes
 * pkg/controller/garbagecollector/garbagecollector.go (attemptToDeleteItem,
 * processDeletingDependentsItem, orphanDependents) and graph_builder.go (which dependents are
 * queued when); the finalizers a DELETE sets are `deletionFinalizersForGarbageCollection` of
 * k8s.io/apiserver/pkg/registry/generic/registry/store.go. It runs synchronously after each
 * write (the real one runs a moment later), so tests observe the settled result.
 */
import type { KObj, Stored, StoreEvent } from "./store.ts";

/** `metav1.FinalizerOrphanDependents`. */
export const ORPHAN_FINALIZER = "orphan";
/** `metav1.FinalizerDeleteDependents`. */
export const FOREGROUND_FINALIZER = "foregroundDeletion";

/** A DeleteOptions propagation policy. */
export type Propagation = "Foreground" | "Background" | "Orphan";

/** One ownerReference. */
export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Where an object lives: its table (storage key) and key within it. */
export interface Loc {
  sk: string;
  key: string;
}

/** What the collector needs from the API. */
export interface GcHost {
  /** The current object at a location. */
  stored(loc: Loc): Stored | undefined;
  /**
   * The owner a reference names, seen from a dependent in `ns` (undefined for cluster scope):
   * the object, "absent" (not found or another uid) or "unresolvable" (unknown kind, or a
   * namespaced owner of a cluster-scoped dependent: never collected on its account).
   */
  owner(ref: OwnerRef, ns: string | undefined): Stored | "absent" | "unresolvable";
  /** DELETE with a UID precondition and a propagation policy (gone or changed: ignored). */
  delete(loc: Loc, uid: string, policy: Propagation): void;
  /** A metadata update of the object with this uid (gone or changed: ignored). */
  updateMeta(loc: Loc, uid: string, mutate: (md: KObj) => void): void;
}

const isObj = (v: unknown): v is KObj => v !== null && typeof v === "object" && !Array.isArray(v);

function meta(o: KObj): KObj {
  return isObj(o.metadata) ? o.metadata : {};
}

/** The well-formed ownerReferences of an object. */
export function ownerRefs(o: KObj): OwnerRef[] {
  const refs = meta(o).ownerReferences;
  if (!Array.isArray(refs)) return [];
  return refs.filter((r): r is OwnerRef =>
    isObj(r) && typeof r.uid === "string" && typeof r.name === "string" &&
    typeof r.kind === "string" && typeof r.apiVersion === "string"
  );
}

function finalizers(o: KObj): string[] {
  const f = meta(o).finalizers;
  return Array.isArray(f) ? f.map(String) : [];
}

/**
 * The finalizers a DELETE leaves on an object (`deletionFinalizersForGarbageCollection`): an
 * explicit policy replaces the orphan/foreground finalizers; without one an existing one stays.
 */
export function deletionFinalizers(current: string[], policy: Propagation | undefined): string[] {
  const orphan = policy === "Orphan" ||
    (policy === undefined && current.includes(ORPHAN_FINALIZER) &&
      !current.includes(FOREGROUND_FINALIZER));
  const foreground = policy === "Foreground" ||
    (policy === undefined && current.includes(FOREGROUND_FINALIZER));
  const out = current.filter((f) => f !== ORPHAN_FINALIZER && f !== FOREGROUND_FINALIZER);
  if (orphan) out.push(ORPHAN_FINALIZER);
  if (foreground) out.push(FOREGROUND_FINALIZER);
  return out;
}

/** The dependency graph and its work queue. */
export class GarbageCollector {
  #host: GcHost;
  /** owner uid → dependents (uid → location). */
  #dependents = new Map<string, Map<string, Loc>>();
  /** uid → location and the owner uids it currently references. */
  #nodes = new Map<string, { loc: Loc; owners: string[] }>();
  #queue: { op: "attemptToDelete" | "owner"; uid: string }[] = [];
  #running = false;

  constructor(host: GcHost) {
    this.#host = host;
  }

  /** Updates the graph for one committed change and queues the work it causes. */
  observe(ev: StoreEvent, key: string): void {
    const obj = ev.cur.obj;
    const uid = String(meta(obj).uid ?? "");
    if (!uid) return;
    const loc = { sk: ev.storageKey, key };
    const before = this.#nodes.get(uid)?.owners ?? [];
    for (const o of before) this.#dependents.get(o)?.delete(uid);
    // An owner waiting for its dependents looks again when one goes away or lets go of it.
    const kept = ev.type === "DELETED" ? [] : ownerRefs(obj).map((r) => r.uid);
    for (const o of before) if (!kept.includes(o)) this.#push("owner", o);
    if (ev.type === "DELETED") {
      this.#nodes.delete(uid);
      // graph_builder.go: a deleted owner's dependents are attempted.
      for (const dep of this.#dependents.get(uid)?.keys() ?? []) this.#push("attemptToDelete", dep);
      this.#dependents.delete(uid);
      return;
    }
    const owners = kept;
    this.#nodes.set(uid, { loc, owners });
    for (const o of owners) {
      let m = this.#dependents.get(o);
      if (!m) this.#dependents.set(o, m = new Map());
      m.set(uid, loc);
    }
    // A new owner reference may name an owner that does not exist (a virtual node upstream).
    if (owners.some((o) => !before.includes(o))) this.#push("attemptToDelete", uid);
    const md = meta(obj);
    if (md.deletionTimestamp) {
      const f = finalizers(obj);
      if (f.includes(ORPHAN_FINALIZER) || f.includes(FOREGROUND_FINALIZER)) {
        this.#push("owner", uid);
      }
    }
  }

  /** Forgets the whole graph (before a restore re-observes every object). */
  reset(): void {
    this.#dependents.clear();
    this.#nodes.clear();
    this.#queue = [];
  }

  /** Whether work is queued. */
  get pending(): boolean {
    return this.#queue.length > 0;
  }

  #push(op: "attemptToDelete" | "owner", uid: string): void {
    this.#queue.push({ op, uid });
  }

  /** Processes queued work until the graph is settled (re-entrant calls return at once). */
  drain(): void {
    if (this.#running) return;
    this.#running = true;
    try {
      for (let item = this.#queue.shift(); item; item = this.#queue.shift()) {
        const node = this.#nodes.get(item.uid);
        if (!node) continue;
        const s = this.#host.stored(node.loc);
        if (!s || meta(s.obj).uid !== item.uid) continue;
        if (item.op === "owner") this.#processOwner(node.loc, s);
        else this.#attemptToDelete(node.loc, s);
      }
    } finally {
      this.#running = false;
    }
  }

  /** An owner being deleted with the orphan or foreground finalizer. */
  #processOwner(loc: Loc, s: Stored): void {
    const uid = String(meta(s.obj).uid);
    const f = finalizers(s.obj);
    if (!meta(s.obj).deletionTimestamp) return;
    const deps = [...(this.#dependents.get(uid)?.entries() ?? [])];
    if (f.includes(ORPHAN_FINALIZER)) {
      // orphanDependents: remove the owner from every dependent, then the finalizer.
      for (const [depUid, depLoc] of deps) {
        this.#host.updateMeta(depLoc, depUid, (md) => {
          md.ownerReferences = ownerRefs({ metadata: md }).filter((r) => r.uid !== uid);
        });
      }
      this.#removeFinalizer(loc, uid, ORPHAN_FINALIZER);
      return;
    }
    // processDeletingDependentsItem: wait for the dependents that block owner deletion.
    const blocking = deps.filter(([depUid, depLoc]) => {
      const d = this.#host.stored(depLoc);
      return d !== undefined && meta(d.obj).uid === depUid &&
        ownerRefs(d.obj).some((r) => r.uid === uid && r.blockOwnerDeletion === true);
    });
    if (blocking.length === 0) {
      this.#removeFinalizer(loc, uid, FOREGROUND_FINALIZER);
      return;
    }
    for (const [depUid] of deps) this.#push("attemptToDelete", depUid);
  }

  #removeFinalizer(loc: Loc, uid: string, name: string): void {
    this.#host.updateMeta(loc, uid, (md) => {
      md.finalizers = (Array.isArray(md.finalizers) ? md.finalizers : []).filter((f) => f !== name);
    });
  }

  /** attemptToDeleteItem: classify the owners, then keep, unlink or delete the dependent. */
  #attemptToDelete(loc: Loc, s: Stored): void {
    const md = meta(s.obj);
    const uid = String(md.uid);
    const f = finalizers(s.obj);
    if (md.deletionTimestamp) {
      if (f.includes(FOREGROUND_FINALIZER)) this.#push("owner", uid);
      return;
    }
    const refs = ownerRefs(s.obj);
    if (refs.length === 0) return;
    const ns = typeof md.namespace === "string" ? md.namespace : undefined;
    const solid: OwnerRef[] = [], dangling: OwnerRef[] = [], waiting: OwnerRef[] = [];
    for (const r of refs) {
      const o = this.#host.owner(r, ns);
      if (o === "unresolvable") solid.push(r);
      else if (o === "absent") dangling.push(r);
      else if (meta(o.obj).deletionTimestamp && finalizers(o.obj).includes(FOREGROUND_FINALIZER)) {
        waiting.push(r);
      } else solid.push(r);
    }
    if (solid.length > 0) {
      const drop = new Set([...dangling, ...waiting].map((r) => r.uid));
      if (drop.size === 0) return;
      this.#host.updateMeta(loc, uid, (m) => {
        m.ownerReferences = ownerRefs({ metadata: m }).filter((r) => !drop.has(r.uid));
      });
      return;
    }
    const hasDependents = (this.#dependents.get(uid)?.size ?? 0) > 0;
    if (waiting.length > 0 && hasDependents) {
      this.#host.delete(loc, uid, "Foreground");
      return;
    }
    const policy: Propagation = f.includes(ORPHAN_FINALIZER)
      ? "Orphan"
      : f.includes(FOREGROUND_FINALIZER)
      ? "Foreground"
      : "Background";
    this.#host.delete(loc, uid, policy);
  }
}
