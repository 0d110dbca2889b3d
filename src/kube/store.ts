/** The informer's local cache: objects by "namespace/name" key, plus secondary indexes. */
import { type KubeObject, objectKey } from "./resource.ts";

/** Maps an object to the index values it is filed under (e.g. a label's value). */
export type IndexFunc<T> = (obj: T) => string[];

/** Name of the index every store has: objects by namespace ("" for cluster-scoped). */
export const NAMESPACE_INDEX = "namespace";

/** Indexed, in-memory object cache. */
export class Store<T extends KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys */
  readonly #indexes = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.#indexers.set(NAMESPACE_INDEX, (o) => [o.metadata.namespace ?? ""]);
    for (const [name, fn] of Object.entries(indexers)) this.#indexers.set(name, fn);
    for (const name of this.#indexers.keys()) this.#indexes.set(name, new Map());
  }

  /** The object stored under `key`. */
  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  /** True when `key` is cached. */
  has(key: string): boolean {
    return this.#items.has(key);
  }

  /** Every cached object. */
  list(): T[] {
    return [...this.#items.values()];
  }

  /** Every cached key. */
  keys(): string[] {
    return [...this.#items.keys()];
  }

  /** Number of cached objects. */
  get size(): number {
    return this.#items.size;
  }

  /** Objects filed under `value` in the index `name`. */
  byIndex(name: string, value: string): T[] {
    const idx = this.#indexes.get(name);
    if (!idx) throw new Error(`no index named "${name}"`);
    const keys = idx.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const o = this.#items.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  /** Inserts or replaces an object; returns the previous one. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const prev = this.#items.get(key);
    if (prev) this.#unindex(key, prev);
    this.#items.set(key, obj);
    for (const [name, fn] of this.#indexers) {
      const idx = this.#indexes.get(name)!;
      for (const v of fn(obj)) {
        let set = idx.get(v);
        if (!set) idx.set(v, set = new Set());
        set.add(key);
      }
    }
    return prev;
  }

  /** Removes `key`; returns the removed object. */
  remove(key: string): T | undefined {
    const prev = this.#items.get(key);
    if (!prev) return undefined;
    this.#unindex(key, prev);
    this.#items.delete(key);
    return prev;
  }

  #unindex(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const idx = this.#indexes.get(name)!;
      for (const v of fn(obj)) {
        const set = idx.get(v);
        if (!set) continue;
        set.delete(key);
        if (set.size === 0) idx.delete(v);
      }
    }
  }
}

/** An IndexFunc filing objects under the value of one label (unlabelled objects are not filed). */
export function labelIndex<T extends KubeObject>(label: string): IndexFunc<T> {
  return (o) => {
    const v = o.metadata.labels?.[label];
    return v === undefined ? [] : [v];
  };
}
