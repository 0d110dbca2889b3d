/** A tiny insertion-ordered LRU over Map, for decode matrices (a few dozen entries). */
export class SmallLru<K, V> {
  readonly #map = new Map<K, V>();
  constructor(readonly capacity: number) {}

  /** The value, marking it most recently used. */
  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  /** Stores a value, evicting the least recently used entry past capacity. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.capacity) this.#map.delete(this.#map.keys().next().value as K);
  }

  /** Number of entries. */
  get size(): number {
    return this.#map.size;
  }
}
