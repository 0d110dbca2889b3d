/**
 * The object store: one global resourceVersion counter, a table per resource
 * (storage key), an event history for watches and subscribers. Stored objects
 * are immutable once committed (callers build new objects), so lists and
 * watchers can share them and their JSON encodings.
 */

import { z } from "zod";

/** A JSON object as the API serves it. */
export type KObj = Record<string, unknown>;

/** A committed object version; `obj.metadata.resourceVersion` equals `rv`. */
export interface Stored {
  readonly obj: KObj;
  readonly rv: number;
  /** Lazily cached `JSON.stringify(obj)`. */
  json?: string;
}

/** A watch event type. */
export type EventType = "ADDED" | "MODIFIED" | "DELETED";

/** One committed change, kept in history for watches that resume from a resourceVersion. */
export interface StoreEvent {
  rv: number;
  storageKey: string;
  /** The object's key in its table (`ns/name` or `name`). */
  key: string;
  type: EventType;
  cur: Stored;
  prev?: Stored;
}

/** JSON text of a stored object, encoded once. */
export function jsonOf(s: Stored): string {
  return s.json ??= JSON.stringify(s.obj);
}

/** Snapshot for persistence (validated when read back from disk). */
export const StoreSnapshotSchema = z.object({
  resourceVersion: z.number().int().nonnegative(),
  tables: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
});

/** Snapshot for persistence. */
export type StoreSnapshot = z.infer<typeof StoreSnapshotSchema>;

/** In-memory tables with ordered history and live subscribers. */
export class ObjectStore {
  #rv = 0;
  #compacted = 0;
  #tables = new Map<string, Map<string, Stored>>();
  #sortedKeys = new Map<string, string[]>();
  #history: StoreEvent[] = [];
  #historyLimit: number;
  #subs = new Map<string, Set<(ev: StoreEvent) => void>>();
  #onCommit: ((ev: StoreEvent) => void) | undefined;

  constructor(opts: { historyLimit?: number; onCommit?: (ev: StoreEvent) => void } = {}) {
    this.#historyLimit = opts.historyLimit ?? 50_000;
    this.#onCommit = opts.onCommit;
  }

  /** Current (latest committed) resourceVersion. */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** Watches from a version below this get 410 Gone. */
  get compactedVersion(): number {
    return this.#compacted;
  }

  #table(sk: string): Map<string, Stored> {
    let t = this.#tables.get(sk);
    if (!t) {
      t = new Map();
      this.#tables.set(sk, t);
    }
    return t;
  }

  /** The current version of one object. */
  get(sk: string, key: string): Stored | undefined {
    return this.#tables.get(sk)?.get(key);
  }

  /** The storage keys of every table. */
  tables(): string[] {
    return [...this.#tables.keys()];
  }

  /** Number of objects in a table. */
  count(sk: string): number {
    return this.#tables.get(sk)?.size ?? 0;
  }

  /** All objects of a table in key order, optionally only keys starting with `prefix`. */
  list(sk: string, prefix?: string): Stored[] {
    const t = this.#tables.get(sk);
    if (!t) return [];
    let keys = this.#sortedKeys.get(sk);
    if (!keys) {
      keys = [...t.keys()].sort();
      this.#sortedKeys.set(sk, keys);
    }
    const out: Stored[] = [];
    if (prefix) {
      let lo = 0, hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (keys[mid] < prefix) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < keys.length && keys[i].startsWith(prefix); i++) {
        out.push(t.get(keys[i])!);
      }
    } else {
      for (const k of keys) out.push(t.get(k)!);
    }
    return out;
  }

  /** Reserves the next resourceVersion (the caller must commit with it). */
  nextVersion(): number {
    return this.#rv + 1;
  }

  /**
   * Commits a change: `obj` must already carry `metadata.resourceVersion = nextVersion()`.
   * Returns the stored version.
   */
  commit(sk: string, key: string, type: EventType, obj: KObj): Stored {
    const rv = ++this.#rv;
    const t = this.#table(sk);
    const prev = t.get(key);
    const cur: Stored = { obj, rv };
    if (type === "DELETED") {
      t.delete(key);
      this.#sortedKeys.delete(sk);
    } else {
      if (!prev) this.#sortedKeys.delete(sk);
      t.set(key, cur);
    }
    const ev: StoreEvent = { rv, storageKey: sk, key, type, cur, prev };
    this.#history.push(ev);
    if (this.#history.length > this.#historyLimit) {
      const drop = Math.floor(this.#historyLimit / 2);
      this.#compacted = this.#history[drop - 1].rv;
      this.#history = this.#history.slice(drop);
    }
    this.#onCommit?.(ev);
    const subs = this.#subs.get(sk);
    if (subs) { for (const fn of [...subs]) fn(ev); }
    return cur;
  }

  /** Events of one table after `rv`, or `undefined` when `rv` is older than the history kept. */
  eventsSince(sk: string, rv: number): StoreEvent[] | undefined {
    if (rv < this.#compacted) return undefined;
    const h = this.#history;
    let lo = 0, hi = h.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (h[mid].rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    const out: StoreEvent[] = [];
    for (let i = lo; i < h.length; i++) if (h[i].storageKey === sk) out.push(h[i]);
    return out;
  }

  /** Forgets history up to `rv` (default: everything), so older watches get 410. */
  compact(rv = this.#rv): void {
    this.#compacted = Math.max(this.#compacted, Math.min(rv, this.#rv));
    this.#history = this.#history.filter((e) => e.rv > this.#compacted);
  }

  /**
   * The table as it was at `rv` (key order), rebuilt from the current state by undoing the later
   * events; undefined when history before `rv` was compacted away.
   */
  listAt(sk: string, rv: number): Stored[] | undefined {
    const later = this.eventsSince(sk, rv);
    if (!later) return undefined;
    const state = new Map((this.#tables.get(sk) ?? new Map<string, Stored>()).entries());
    for (let i = later.length - 1; i >= 0; i--) {
      const ev = later[i];
      if (ev.prev && ev.type !== "ADDED") state.set(ev.key, ev.prev);
      else state.delete(ev.key);
    }
    return [...state.keys()].sort().map((k) => state.get(k)!);
  }

  /** Calls `fn` for every later commit to the table; returns the unsubscribe function. */
  subscribe(sk: string, fn: (ev: StoreEvent) => void): () => void {
    let s = this.#subs.get(sk);
    if (!s) {
      s = new Set();
      this.#subs.set(sk, s);
    }
    s.add(fn);
    return () => s.delete(fn);
  }

  /** Drops a whole table without events (used after its CRD is gone and its objects deleted). */
  dropTable(sk: string): void {
    this.#tables.delete(sk);
    this.#sortedKeys.delete(sk);
  }

  /** Every object, for persistence. */
  snapshot(): StoreSnapshot {
    const tables: Record<string, KObj[]> = {};
    for (const [sk, t] of this.#tables) {
      if (t.size > 0) tables[sk] = [...t.values()].map((s) => s.obj);
    }
    return { resourceVersion: this.#rv, tables };
  }

  /** Loads a snapshot into an empty store; history starts empty (older versions get 410). */
  restore(snap: StoreSnapshot, keyOf: (obj: KObj) => string): void {
    this.#rv = snap.resourceVersion;
    this.#compacted = snap.resourceVersion;
    for (const [sk, objs] of Object.entries(snap.tables)) {
      const t = this.#table(sk);
      for (const obj of objs) {
        const rv = Number((obj.metadata as KObj | undefined)?.resourceVersion ?? 0);
        t.set(keyOf(obj), { obj, rv });
      }
      this.#sortedKeys.delete(sk);
    }
  }
}
