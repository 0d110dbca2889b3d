/**
 * L1: the in-RAM cache (FR-301). Keys are strings (use `blockKey(volume, block)` for a
 * (volume, block) pair); values are Uint8Array, held uncompressed. 1024 shards by
 * default, picked by a string hash; each shard has its own eviction state,
 * byte and count bounds and statistics.
 *
 * Eviction is S3-FIFO (Yang et al., SOSP'23; also Foyer's default): a small FIFO
 * (10% of the bytes) filters one-hit wonders, a main FIFO with 2-bit frequencies gives
 * hot entries another lap, and a ghost FIFO of evicted key hashes sends returning keys
 * straight to main. Chosen over LRU by measurement (bench/cache_bench.ts): a hit only
 * bumps a counter (no list move), and it resists scans. `policy: "lru"` keeps a plain
 * LRU in the same structure as the baseline.
 *
 * The hit path allocates nothing: the shard keeps entry metadata in typed arrays
 * indexed by a slot number, linked into the FIFOs through prev/next arrays.
 */
import { hashString } from "./hash.ts";

/** Eviction policy of the L1 shards. */
export type L1Policy = "s3fifo" | "lru";

/** Bytes charged per entry on top of its value and key (Map slot, arrays, header). */
export const L1_ENTRY_OVERHEAD = 48;

/** Called with each entry that eviction pushes out (the tiered cache demotes it). */
export type EvictHook = (key: string, value: Uint8Array) => void;

/** L1 configuration. */
export interface L1Options {
  /** Upper bound on the bytes of all entries (value + 2×key length + overhead). */
  maxBytes: number;
  /** Upper bound on the number of entries (default: no bound beyond bytes). */
  maxEntries?: number;
  /** Number of shards, a power of two (default 1024). */
  shards?: number;
  /** Eviction policy (default "s3fifo"). */
  policy?: L1Policy;
  /** Share of a shard's bytes given to the S3-FIFO small queue (default 0.1). */
  smallRatio?: number;
  /** Accesses an entry needs while in the small queue to move to main (default 1). */
  promoteThreshold?: number;
  /** Receives evicted entries (not deleted or replaced ones). */
  onEvict?: EvictHook;
}

/** Counters and occupancy of one shard or of the whole cache. */
export interface L1Stats {
  hits: number;
  misses: number;
  evictions: number;
  /** Sets refused because the entry is larger than a shard. */
  rejected: number;
  bytes: number;
  entries: number;
}

/** The L1 key of block `block` of volume `volume`. */
export function blockKey(volume: string, block: number): string {
  return `${volume}:${block}`;
}

/** Bytes an entry is charged in L1. */
export function entrySize(key: string, value: Uint8Array): number {
  return value.byteLength + 2 * key.length + L1_ENTRY_OVERHEAD;
}

const FREE = 0;
const SMALL = 1;
const MAIN = 2;
const MAX_FREQ = 3;

/** One shard: an index from key to slot, and per-slot metadata in typed arrays. */
class Shard {
  readonly index = new Map<string, number>();
  keys: (string | undefined)[] = [];
  vals: (Uint8Array | undefined)[] = [];
  size = new Int32Array(8);
  hash = new Int32Array(8);
  freq = new Uint8Array(8);
  where = new Uint8Array(8);
  prev = new Int32Array(8);
  next = new Int32Array(8);
  freeList: number[] = [7, 6, 5, 4, 3, 2, 1, 0];
  // FIFO heads (oldest) and tails (newest); -1 when empty. LRU uses the main list only.
  smallHead = -1;
  smallTail = -1;
  mainHead = -1;
  mainTail = -1;
  smallBytes = 0;
  smallCount = 0;
  bytes = 0;
  count = 0;
  hits = 0;
  misses = 0;
  evictions = 0;
  rejected = 0;
  // Ghost FIFO of evicted key hashes (S3-FIFO), bounded by the live entry count.
  ghostRing = new Int32Array(16);
  ghostHead = 0;
  ghostLen = 0;
  readonly ghost = new Map<number, number>();

  constructor(
    readonly maxBytes: number,
    readonly maxCount: number,
    readonly smallTarget: number,
    readonly smallCountTarget: number,
    readonly lru: boolean,
    readonly threshold: number,
    readonly onEvict: EvictHook | undefined,
  ) {
    this.keys.length = 8;
    this.vals.length = 8;
  }

  get(key: string): Uint8Array | undefined {
    const slot = this.index.get(key);
    if (slot === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    if (this.lru) {
      this.unlink(slot, MAIN);
      this.pushTail(slot, MAIN);
    } else {
      const f = this.freq[slot];
      if (f < MAX_FREQ) this.freq[slot] = f + 1;
    }
    return this.vals[slot];
  }

  set(key: string, h: number, value: Uint8Array): boolean {
    const size = value.byteLength + 2 * key.length + L1_ENTRY_OVERHEAD;
    const old = this.index.get(key);
    if (size > this.maxBytes) {
      if (old !== undefined) this.remove(old);
      this.rejected++;
      return false;
    }
    if (old !== undefined) {
      const delta = size - this.size[old];
      this.vals[old] = value;
      this.size[old] = size;
      this.bytes += delta;
      if (this.where[old] === SMALL) this.smallBytes += delta;
      if (this.lru) {
        this.unlink(old, MAIN);
        this.pushTail(old, MAIN);
      } else if (this.freq[old] < MAX_FREQ) this.freq[old]++;
      while (this.bytes > this.maxBytes) this.evictOne();
      return true;
    }
    while (
      this.count > 0 && (this.bytes + size > this.maxBytes || this.count + 1 > this.maxCount)
    ) {
      this.evictOne();
    }
    const slot = this.alloc();
    this.keys[slot] = key;
    this.vals[slot] = value;
    this.size[slot] = size;
    this.hash[slot] = h;
    this.freq[slot] = 0;
    this.index.set(key, slot);
    this.bytes += size;
    this.count++;
    if (this.lru || this.ghostTake(h)) this.pushTail(slot, MAIN);
    else {
      this.pushTail(slot, SMALL);
      this.smallBytes += size;
      this.smallCount++;
    }
    return true;
  }

  delete(key: string): boolean {
    const slot = this.index.get(key);
    if (slot === undefined) return false;
    this.remove(slot);
    return true;
  }

  /** Frees a slot and unlinks it (no eviction hook: a delete or a refused replace). */
  remove(slot: number): Uint8Array {
    const v = this.vals[slot]!;
    const w = this.where[slot];
    this.unlink(slot, w);
    if (w === SMALL) {
      this.smallBytes -= this.size[slot];
      this.smallCount--;
    }
    this.index.delete(this.keys[slot]!);
    this.bytes -= this.size[slot];
    this.count--;
    this.keys[slot] = undefined;
    this.vals[slot] = undefined;
    this.where[slot] = FREE;
    this.freeList.push(slot);
    return v;
  }

  evictOne(): void {
    if (this.lru) return this.evictVictim(this.mainHead);
    if (
      this.smallHead !== -1 &&
      (this.smallBytes > this.smallTarget || this.smallCount > this.smallCountTarget ||
        this.mainHead === -1)
    ) {
      // Small queue: entries touched while there move to main; the rest leave (ghosted).
      while (this.smallHead !== -1) {
        const s = this.smallHead;
        if (this.freq[s] >= this.threshold) {
          this.unlink(s, SMALL);
          this.smallBytes -= this.size[s];
          this.smallCount--;
          this.freq[s] = 0;
          this.pushTail(s, MAIN);
        } else {
          this.ghostAdd(this.hash[s]);
          return this.evictVictim(s);
        }
      }
    }
    // Main queue: a second chance per recorded access (CLOCK-like), then eviction.
    for (;;) {
      const m = this.mainHead;
      if (this.freq[m] > 0) {
        this.freq[m]--;
        this.unlink(m, MAIN);
        this.pushTail(m, MAIN);
      } else return this.evictVictim(m);
    }
  }

  evictVictim(slot: number): void {
    const key = this.keys[slot]!;
    const v = this.remove(slot);
    this.evictions++;
    if (this.onEvict) this.onEvict(key, v);
  }

  alloc(): number {
    if (this.freeList.length === 0) this.grow();
    return this.freeList.pop()!;
  }

  grow(): void {
    const n = this.size.length;
    const m = n * 2;
    const g32 = (a: Int32Array) => {
      const b = new Int32Array(m);
      b.set(a);
      return b;
    };
    const g8 = (a: Uint8Array) => {
      const b = new Uint8Array(m);
      b.set(a);
      return b;
    };
    this.size = g32(this.size);
    this.hash = g32(this.hash);
    this.prev = g32(this.prev);
    this.next = g32(this.next);
    this.freq = g8(this.freq);
    this.where = g8(this.where);
    this.keys.length = m;
    this.vals.length = m;
    for (let i = m - 1; i >= n; i--) this.freeList.push(i);
  }

  pushTail(slot: number, q: number): void {
    this.where[slot] = q;
    this.next[slot] = -1;
    if (q === SMALL) {
      this.prev[slot] = this.smallTail;
      if (this.smallTail === -1) this.smallHead = slot;
      else this.next[this.smallTail] = slot;
      this.smallTail = slot;
    } else {
      this.prev[slot] = this.mainTail;
      if (this.mainTail === -1) this.mainHead = slot;
      else this.next[this.mainTail] = slot;
      this.mainTail = slot;
    }
  }

  unlink(slot: number, q: number): void {
    const p = this.prev[slot];
    const n = this.next[slot];
    if (q === SMALL) {
      if (p === -1) this.smallHead = n;
      else this.next[p] = n;
      if (n === -1) this.smallTail = p;
      else this.prev[n] = p;
    } else {
      if (p === -1) this.mainHead = n;
      else this.next[p] = n;
      if (n === -1) this.mainTail = p;
      else this.prev[n] = p;
    }
  }

  ghostAdd(h: number): void {
    const limit = Math.max(4, this.count);
    while (this.ghostLen >= limit) this.ghostPop();
    if (this.ghostLen === this.ghostRing.length) {
      const b = new Int32Array(this.ghostRing.length * 2);
      for (let i = 0; i < this.ghostLen; i++) {
        b[i] = this.ghostRing[(this.ghostHead + i) % this.ghostRing.length];
      }
      this.ghostRing = b;
      this.ghostHead = 0;
    }
    this.ghostRing[(this.ghostHead + this.ghostLen) % this.ghostRing.length] = h;
    this.ghostLen++;
    this.ghost.set(h, (this.ghost.get(h) ?? 0) + 1);
  }

  ghostPop(): void {
    const h = this.ghostRing[this.ghostHead];
    this.ghostHead = (this.ghostHead + 1) % this.ghostRing.length;
    this.ghostLen--;
    const c = this.ghost.get(h) ?? 0;
    if (c <= 1) this.ghost.delete(h);
    else this.ghost.set(h, c - 1);
  }

  /** True (and forgets one occurrence) when the hash was recently evicted. */
  ghostTake(h: number): boolean {
    const c = this.ghost.get(h);
    if (c === undefined) return false;
    // The ring keeps the stale slot; it only costs a little ghost capacity until popped.
    if (c <= 1) this.ghost.delete(h);
    else this.ghost.set(h, c - 1);
    return true;
  }

  clear(): void {
    for (const slot of this.index.values()) {
      this.keys[slot] = undefined;
      this.vals[slot] = undefined;
      this.where[slot] = FREE;
    }
    this.index.clear();
    this.freeList = [];
    for (let i = this.size.length - 1; i >= 0; i--) this.freeList.push(i);
    this.smallHead =
      this.smallTail =
      this.mainHead =
      this.mainTail =
        -1;
    this.smallBytes =
      this.smallCount =
      this.bytes =
      this.count =
        0;
    this.ghost.clear();
    this.ghostLen = 0;
  }
}

/** The sharded in-RAM cache. */
export class L1Cache {
  readonly #shards: Shard[];
  readonly #mask: number;
  /** Total byte bound. */
  readonly maxBytes: number;
  /** Eviction policy in use. */
  readonly policy: L1Policy;

  /** Builds the shards; the byte and count bounds are split evenly between them. */
  constructor(opts: L1Options) {
    const n = opts.shards ?? 1024;
    if (!Number.isInteger(n) || n < 1 || (n & (n - 1)) !== 0) {
      throw new RangeError(`L1 shards must be a power of two, got ${n}`);
    }
    if (!(opts.maxBytes >= n)) {
      throw new RangeError(
        `L1 maxBytes (${opts.maxBytes}) must be at least the shard count (${n})`,
      );
    }
    this.maxBytes = opts.maxBytes;
    this.policy = opts.policy ?? "s3fifo";
    const perBytes = Math.floor(opts.maxBytes / n);
    const perCount = opts.maxEntries === undefined
      ? Number.POSITIVE_INFINITY
      : Math.max(1, Math.floor(opts.maxEntries / n));
    const ratio = opts.smallRatio ?? 0.1;
    const small = Math.max(1, Math.floor(perBytes * ratio));
    const smallCount = Math.max(1, Math.floor(perCount * ratio));
    this.#mask = n - 1;
    this.#shards = [];
    for (let i = 0; i < n; i++) {
      this.#shards.push(
        new Shard(
          perBytes,
          perCount,
          small,
          smallCount,
          this.policy === "lru",
          opts.promoteThreshold ?? 1,
          opts.onEvict,
        ),
      );
    }
  }

  /** Number of shards. */
  get shardCount(): number {
    return this.#shards.length;
  }

  /** The value for `key`, counting a hit or a miss; no allocation. */
  get(key: string): Uint8Array | undefined {
    return this.#shards[hashString(key) & this.#mask].get(key);
  }

  /** The value without touching statistics or eviction state. */
  peek(key: string): Uint8Array | undefined {
    const sh = this.#shards[hashString(key) & this.#mask];
    const slot = sh.index.get(key);
    return slot === undefined ? undefined : sh.vals[slot];
  }

  /** True when `key` is cached (no statistics). */
  has(key: string): boolean {
    return this.#shards[hashString(key) & this.#mask].index.has(key);
  }

  /**
   * Stores `value` (kept by reference: don't mutate it afterwards). Returns false when
   * the entry is larger than a shard's byte bound; any older value of the key is then
   * dropped, so a stale value is never served.
   */
  set(key: string, value: Uint8Array): boolean {
    const h = hashString(key);
    return this.#shards[h & this.#mask].set(key, h, value);
  }

  /** Removes `key` (no eviction hook). */
  delete(key: string): boolean {
    return this.#shards[hashString(key) & this.#mask].delete(key);
  }

  /** Empties every shard (statistics are kept). */
  clear(): void {
    for (const s of this.#shards) s.clear();
  }

  /** Bytes currently charged. */
  get bytes(): number {
    let b = 0;
    for (const s of this.#shards) b += s.bytes;
    return b;
  }

  /** Entries currently held. */
  get size(): number {
    let c = 0;
    for (const s of this.#shards) c += s.count;
    return c;
  }

  /** Statistics of shard `i`. */
  shardStats(i: number): L1Stats {
    const s = this.#shards[i];
    return {
      hits: s.hits,
      misses: s.misses,
      evictions: s.evictions,
      rejected: s.rejected,
      bytes: s.bytes,
      entries: s.count,
    };
  }

  /** Statistics summed over all shards. */
  stats(): L1Stats {
    const t: L1Stats = { hits: 0, misses: 0, evictions: 0, rejected: 0, bytes: 0, entries: 0 };
    for (const s of this.#shards) {
      t.hits += s.hits;
      t.misses += s.misses;
      t.evictions += s.evictions;
      t.rejected += s.rejected;
      t.bytes += s.bytes;
      t.entries += s.count;
    }
    return t;
  }

  /** Every cached key (for tests and debugging; allocates). */
  keys(): string[] {
    const out: string[] = [];
    for (const s of this.#shards) for (const k of s.index.keys()) out.push(k);
    return out;
  }
}
