/**
 * L1: the in-RAM cache (FR-301). Keys are strings (use `blockKey(volume, block)` for a
 * (volume, block) pair); values are Uint8Array, held uncompressed.
 *
 * 1024 shards by default: a key's shard is picked by a string hash when it is
 * inserted; each shard has its own eviction queues, byte and count bounds and
 * statistics, so eviction work and accounting stay local to 1/1024 of the cache.
 *
 * Layout for speed (structure of arrays): one Map from key to slot number, and every
 * per-entry field (value, size, frequency, queue links, shard) in typed arrays indexed
 * by slot; per-shard state in typed arrays indexed by shard. A hit is one Map lookup
 * plus a few array writes: no string hashing, no allocation, no closures.
 *
 * Policies (chosen per cache; numbers in bench/cache_bench.ts):
 * - "s3fifo" (default; Yang et al., SOSP'23, Foyer's default): a small FIFO (10%)
 *   filters one-hit wonders, a main FIFO with 2-bit frequencies gives hot entries
 *   another lap, a ghost table of evicted key hashes (direct-mapped, about one slot
 *   per cached entry) sends returning keys straight to main.
 *   A hit only bumps a counter.
 * - "wtinylfu" (Caffeine's design): a 1% LRU window, then a segmented LRU
 *   (probation 20% / protected 80%) guarded by a count-min sketch of 4-bit counters
 *   with periodic halving (aging): an entry leaving the window displaces the main
 *   victim only if it was seen more often.
 * - "lru": plain LRU in the same structure, the baseline.
 *
 * Measured (bench/cache_bench.ts, 2026-11-26, shared 2-core machine; 1M keys, cache 1%,
 * 1024 shards, hit ratio after warm-up; the oracle pins the 1% most popular keys and
 * bounds what any policy can reach on these traces):
 *   Zipf 0.9:          S3-FIFO 48.3%, W-TinyLFU 48.2%, LRU 39.4%, oracle 51.6%
 *   Zipf 1.0:          S3-FIFO 65.3%, W-TinyLFU 65.3%, LRU 58.5%, oracle 68.0%
 *   Zipf 1.0 + scans:  S3-FIFO 45.4%, W-TinyLFU 45.1%, LRU 37.6%, oracle 47.6%
 * S3-FIFO is the default: equal or better hit ratio once shards hold ~10 entries, and
 * the cheaper hit path (16.7 M gets/s vs lru-cache 13.3 M/s). With only 1–2 entries
 * per shard (tiny caches), W-TinyLFU's shared sketch does better (+2–5 points).
 */
import { hashString } from "./hash.ts";

/** Eviction policy of the L1 shards. */
export type L1Policy = "s3fifo" | "wtinylfu" | "lru";

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
  /** S3-FIFO small queue / W-TinyLFU window share of a shard (default 0.1 / 0.01). */
  smallRatio?: number;
  /** S3-FIFO: accesses needed while in the small queue to move to main (default 1). */
  promoteThreshold?: number;
  /** W-TinyLFU: entries the sketch is sized for (default maxEntries, or maxBytes/4 KiB). */
  expectedEntries?: number;
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

// Queue ids (per shard, 4 slots each in the head/tail arrays).
const FREE = 0;
/** S3-FIFO small queue, W-TinyLFU window. */
const Q1 = 1;
/** S3-FIFO main queue, W-TinyLFU probation, LRU list. */
const Q2 = 2;
/** W-TinyLFU protected segment. */
const Q3 = 3;
const MAX_FREQ = 3;
const P_S3FIFO = 0;
const P_TINYLFU = 1;
const P_LRU = 2;

/** Count-min sketch with 4 rows of saturating 4-bit counters and periodic halving. */
class FrequencySketch {
  readonly #table: Uint8Array;
  readonly #mask: number;
  readonly #sampleSize: number;
  #additions = 0;

  constructor(expected: number) {
    let w = 64;
    while (w < expected * 2) w *= 2;
    this.#table = new Uint8Array(w * 4);
    this.#mask = w - 1;
    this.#sampleSize = Math.max(64, expected * 10);
  }

  #index(h: number, row: number): number {
    const x = Math.imul(h ^ (h >>> (row * 3 + 7)), 0x9e3779b1 + row * 0x7f4a7c16) >>> 0;
    return row * (this.#mask + 1) + ((x ^ (x >>> 15)) & this.#mask);
  }

  increment(h: number): void {
    const t = this.#table;
    let added = false;
    for (let r = 0; r < 4; r++) {
      const i = this.#index(h, r);
      if (t[i] < 15) {
        t[i]++;
        added = true;
      }
    }
    if (added && ++this.#additions >= this.#sampleSize) {
      // Aging: halve every counter so old popularity fades.
      for (let i = 0; i < t.length; i++) t[i] >>>= 1;
      this.#additions >>>= 1;
    }
  }

  frequency(h: number): number {
    const t = this.#table;
    let f = 15;
    for (let r = 0; r < 4; r++) {
      const v = t[this.#index(h, r)];
      if (v < f) f = v;
    }
    return f;
  }
}

/** The sharded in-RAM cache. */
export class L1Cache {
  /** Total byte bound. */
  readonly maxBytes: number;
  /** Eviction policy in use. */
  readonly policy: L1Policy;
  readonly #p: number;
  readonly #n: number;
  readonly #mask: number;
  readonly #threshold: number;
  readonly #onEvict: EvictHook | undefined;
  readonly #sketch: FrequencySketch | undefined;
  readonly #index = new Map<string, number>();
  // Per slot.
  #keys: (string | undefined)[] = [];
  #vals: (Uint8Array | undefined)[] = [];
  #size = new Int32Array(64);
  #hash = new Int32Array(64);
  #shardOf = new Int32Array(64);
  #freq = new Uint8Array(64);
  #where = new Uint8Array(64);
  #prev = new Int32Array(64);
  #next = new Int32Array(64);
  #free: number[] = [];
  // Per shard (queue arrays: 4 entries per shard, indexed shard*4+queue).
  readonly #head: Int32Array;
  readonly #tail: Int32Array;
  readonly #qBytes: Float64Array;
  readonly #qCount: Float64Array;
  readonly #bytes: Float64Array;
  readonly #count: Float64Array;
  readonly #hits: Float64Array;
  readonly #misses: Float64Array;
  readonly #evictions: Float64Array;
  readonly #rejected: Float64Array;
  readonly #maxBytes: Float64Array;
  readonly #maxCount: Float64Array;
  readonly #q1Bytes: Float64Array;
  readonly #q1Count: Float64Array;
  /** S3-FIFO ghost: per shard, a small direct-mapped table of evicted key hashes. */
  readonly #ghost: Int32Array;
  readonly #ghostMask: number;
  readonly #ghostShift: number;

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
    this.#p = this.policy === "wtinylfu" ? P_TINYLFU : this.policy === "lru" ? P_LRU : P_S3FIFO;
    this.#n = n;
    this.#mask = n - 1;
    this.#threshold = opts.promoteThreshold ?? 1;
    this.#onEvict = opts.onEvict;
    const f64 = (size: number) => new Float64Array(size);
    this.#head = new Int32Array(n * 4).fill(-1);
    this.#tail = new Int32Array(n * 4).fill(-1);
    this.#qBytes = f64(n * 4);
    this.#qCount = f64(n * 4);
    this.#bytes = f64(n);
    this.#count = f64(n);
    this.#hits = f64(n);
    this.#misses = f64(n);
    this.#evictions = f64(n);
    this.#rejected = f64(n);
    this.#maxBytes = f64(n);
    this.#maxCount = f64(n);
    this.#q1Bytes = f64(n);
    this.#q1Count = f64(n);
    const ratio = opts.smallRatio ?? (this.#p === P_TINYLFU ? 0.01 : 0.1);
    // Spread the remainder so the shard bounds add up to the totals exactly.
    const split = (total: number, i: number) => Math.floor(total / n) + (i < total % n ? 1 : 0);
    for (let i = 0; i < n; i++) {
      const b = split(opts.maxBytes, i);
      const c = opts.maxEntries === undefined
        ? Number.POSITIVE_INFINITY
        : Math.max(1, split(opts.maxEntries, i));
      this.#maxBytes[i] = b;
      this.#maxCount[i] = c;
      this.#q1Bytes[i] = Math.max(1, Math.floor(b * ratio));
      this.#q1Count[i] = Math.max(1, Math.floor(c * ratio));
    }
    const expected = opts.expectedEntries ?? opts.maxEntries ?? Math.ceil(opts.maxBytes / 4096);
    if (this.#p === P_TINYLFU) this.#sketch = new FrequencySketch(expected);
    // Ghost capacity ≈ the shard's entry count (S3-FIFO sizes the ghost like main).
    let g = 8;
    while (g < expected / n) g *= 2;
    this.#ghostMask = g - 1;
    this.#ghostShift = Math.log2(g);
    this.#ghost = new Int32Array(this.#p === P_S3FIFO ? n * g : 0);
    this.#keys.length = 64;
    this.#vals.length = 64;
    for (let i = 63; i >= 0; i--) this.#free.push(i);
  }

  /** Number of shards. */
  get shardCount(): number {
    return this.#n;
  }

  /** The value for `key`, counting a hit or a miss; no allocation. */
  get(key: string): Uint8Array | undefined {
    const slot = this.#index.get(key);
    if (slot === undefined) {
      const h = hashString(key);
      this.#misses[h & this.#mask]++;
      if (this.#sketch) this.#sketch.increment(h);
      return undefined;
    }
    const s = this.#shardOf[slot];
    this.#hits[s]++;
    if (this.#p === P_S3FIFO) {
      const f = this.#freq[slot];
      if (f < MAX_FREQ) this.#freq[slot] = f + 1;
    } else this.#touch(slot, s);
    return this.#vals[slot];
  }

  /** LRU / W-TinyLFU bookkeeping of a hit. */
  #touch(slot: number, s: number): void {
    if (this.#p === P_LRU) {
      this.#unlink(slot);
      this.#push(slot, s, Q2);
      return;
    }
    this.#sketch!.increment(this.#hash[slot]);
    const q = this.#where[slot];
    this.#unlink(slot);
    if (q === Q1) this.#push(slot, s, Q1);
    else {
      // Probation or protected → protected tail; overflow falls back to probation.
      this.#push(slot, s, Q3);
      const mainMax = this.#maxBytes[s] - this.#q1Bytes[s];
      const mainMaxCount = this.#maxCount[s] - this.#q1Count[s];
      const b = s * 4 + Q3;
      while (
        this.#count[s] > 1 &&
        (this.#qBytes[b] > 0.8 * mainMax || this.#qCount[b] > 0.8 * mainMaxCount) &&
        this.#head[b] !== slot
      ) {
        const d = this.#head[b];
        this.#unlink(d);
        this.#push(d, s, Q2);
      }
    }
  }

  /** The value without touching statistics or eviction state. */
  peek(key: string): Uint8Array | undefined {
    const slot = this.#index.get(key);
    return slot === undefined ? undefined : this.#vals[slot];
  }

  /** True when `key` is cached (no statistics). */
  has(key: string): boolean {
    return this.#index.has(key);
  }

  /**
   * Stores `value` (kept by reference: don't mutate it afterwards). Returns false when
   * the entry is larger than a shard's byte bound; any older value of the key is then
   * dropped, so a stale value is never served.
   */
  set(key: string, value: Uint8Array): boolean {
    const size = value.byteLength + 2 * key.length + L1_ENTRY_OVERHEAD;
    const old = this.#index.get(key);
    if (old !== undefined) {
      const s = this.#shardOf[old];
      if (size > this.#maxBytes[s]) {
        this.#remove(old);
        this.#rejected[s]++;
        return false;
      }
      const delta = size - this.#size[old];
      this.#vals[old] = value;
      this.#size[old] = size;
      this.#bytes[s] += delta;
      this.#qBytes[s * 4 + this.#where[old]] += delta;
      if (this.#p === P_S3FIFO) {
        if (this.#freq[old] < MAX_FREQ) this.#freq[old]++;
      } else this.#touch(old, s);
      while (this.#bytes[s] > this.#maxBytes[s]) this.#evictOne(s);
      return true;
    }
    const h = hashString(key);
    const s = h & this.#mask;
    if (size > this.#maxBytes[s]) {
      this.#rejected[s]++;
      return false;
    }
    if (this.#p === P_TINYLFU) return this.#insertTinyLfu(key, value, size, h, s);
    while (
      this.#count[s] > 0 &&
      (this.#bytes[s] + size > this.#maxBytes[s] || this.#count[s] + 1 > this.#maxCount[s])
    ) {
      this.#evictOne(s);
    }
    const slot = this.#alloc(key, value, size, h, s);
    this.#push(slot, s, this.#p === P_LRU || this.#ghostTake(h, s) ? Q2 : Q1);
    return true;
  }

  #insertTinyLfu(key: string, value: Uint8Array, size: number, h: number, s: number): boolean {
    const slot = this.#alloc(key, value, size, h, s);
    this.#push(slot, s, Q1);
    // Window overflow moves to probation; while the shard is over its bounds, the
    // entry leaving the window competes with the probation victim by frequency.
    const w = s * 4 + Q1;
    while (
      this.#head[w] !== slot &&
      (this.#qBytes[w] > this.#q1Bytes[s] || this.#qCount[w] > this.#q1Count[s])
    ) {
      const cand = this.#head[w];
      this.#unlink(cand);
      this.#push(cand, s, Q2);
      while (this.#over(s) && this.#where[cand] === Q2) {
        const victim = this.#mainVictim(s, cand);
        if (victim === -1) break;
        const sk = this.#sketch!;
        if (sk.frequency(this.#hash[cand]) > sk.frequency(this.#hash[victim])) {
          this.#evictSlot(victim);
        } else this.#evictSlot(cand);
      }
    }
    while (this.#over(s)) this.#evictOne(s);
    return true;
  }

  /** Ghost slot of hash `h` in shard `s` (bits above the shard bits pick the bucket). */
  #ghostIndex(h: number, s: number): number {
    return (s << this.#ghostShift) + ((h >>> 10) & this.#ghostMask);
  }

  #ghostAdd(h: number, s: number): void {
    // Direct-mapped: a newer hash overwrites an older one (approximate FIFO bound).
    this.#ghost[this.#ghostIndex(h, s)] = h === 0 ? 1 : h;
  }

  #ghostTake(h: number, s: number): boolean {
    const i = this.#ghostIndex(h, s);
    if (this.#ghost[i] !== (h === 0 ? 1 : h)) return false;
    this.#ghost[i] = 0;
    return true;
  }

  #over(s: number): boolean {
    return this.#bytes[s] > this.#maxBytes[s] || this.#count[s] > this.#maxCount[s];
  }

  /** The probation head (or protected head) other than `not`; -1 if none. */
  #mainVictim(s: number, not: number): number {
    const p = this.#head[s * 4 + Q2];
    if (p !== -1 && p !== not) return p;
    const q = this.#head[s * 4 + Q3];
    return q !== -1 ? q : -1;
  }

  /** Removes `key` (no eviction hook). */
  delete(key: string): boolean {
    const slot = this.#index.get(key);
    if (slot === undefined) return false;
    this.#remove(slot);
    return true;
  }

  #alloc(key: string, value: Uint8Array, size: number, h: number, s: number): number {
    if (this.#free.length === 0) this.#grow();
    const slot = this.#free.pop()!;
    this.#keys[slot] = key;
    this.#vals[slot] = value;
    this.#size[slot] = size;
    this.#hash[slot] = h;
    this.#shardOf[slot] = s;
    this.#freq[slot] = 0;
    this.#index.set(key, slot);
    this.#bytes[s] += size;
    this.#count[s]++;
    return slot;
  }

  /** Frees a slot and unlinks it (no eviction hook: a delete or a refused replace). */
  #remove(slot: number): Uint8Array {
    const v = this.#vals[slot]!;
    const s = this.#shardOf[slot];
    this.#unlink(slot);
    this.#index.delete(this.#keys[slot]!);
    this.#bytes[s] -= this.#size[slot];
    this.#count[s]--;
    this.#keys[slot] = undefined;
    this.#vals[slot] = undefined;
    this.#where[slot] = FREE;
    this.#free.push(slot);
    return v;
  }

  #evictSlot(slot: number): void {
    const key = this.#keys[slot]!;
    const s = this.#shardOf[slot];
    const v = this.#remove(slot);
    this.#evictions[s]++;
    if (this.#onEvict) this.#onEvict(key, v);
  }

  #evictOne(s: number): void {
    const b = s * 4;
    if (this.#p === P_LRU) return this.#evictSlot(this.#head[b + Q2]);
    if (this.#p === P_TINYLFU) {
      const v = this.#mainVictim(s, -1);
      return this.#evictSlot(v !== -1 ? v : this.#head[b + Q1]);
    }
    if (
      this.#head[b + Q1] !== -1 &&
      (this.#qBytes[b + Q1] > this.#q1Bytes[s] || this.#qCount[b + Q1] > this.#q1Count[s] ||
        this.#head[b + Q2] === -1)
    ) {
      // Small queue: entries touched while there move to main; the rest leave (ghosted).
      for (;;) {
        const x = this.#head[b + Q1];
        if (x === -1) break;
        if (this.#freq[x] >= this.#threshold) {
          this.#unlink(x);
          this.#freq[x] = 0;
          this.#push(x, s, Q2);
        } else {
          this.#ghostAdd(this.#hash[x], s);
          return this.#evictSlot(x);
        }
      }
    }
    // Main queue: a second chance per recorded access (CLOCK-like), then eviction.
    for (;;) {
      const m = this.#head[b + Q2];
      if (this.#freq[m] > 0) {
        this.#freq[m]--;
        this.#unlink(m);
        this.#push(m, s, Q2);
      } else return this.#evictSlot(m);
    }
  }

  #grow(): void {
    const n = this.#size.length;
    const m = n * 2;
    const g32 = (a: Int32Array) => {
      const x = new Int32Array(m);
      x.set(a);
      return x;
    };
    const g8 = (a: Uint8Array) => {
      const x = new Uint8Array(m);
      x.set(a);
      return x;
    };
    this.#size = g32(this.#size);
    this.#hash = g32(this.#hash);
    this.#shardOf = g32(this.#shardOf);
    this.#prev = g32(this.#prev);
    this.#next = g32(this.#next);
    this.#freq = g8(this.#freq);
    this.#where = g8(this.#where);
    this.#keys.length = m;
    this.#vals.length = m;
    for (let i = m - 1; i >= n; i--) this.#free.push(i);
  }

  #push(slot: number, s: number, q: number): void {
    const b = s * 4 + q;
    this.#where[slot] = q;
    this.#next[slot] = -1;
    const t = this.#tail[b];
    this.#prev[slot] = t;
    if (t === -1) this.#head[b] = slot;
    else this.#next[t] = slot;
    this.#tail[b] = slot;
    this.#qBytes[b] += this.#size[slot];
    this.#qCount[b]++;
  }

  #unlink(slot: number): void {
    const b = this.#shardOf[slot] * 4 + this.#where[slot];
    const p = this.#prev[slot];
    const n = this.#next[slot];
    if (p === -1) this.#head[b] = n;
    else this.#next[p] = n;
    if (n === -1) this.#tail[b] = p;
    else this.#prev[n] = p;
    this.#qBytes[b] -= this.#size[slot];
    this.#qCount[b]--;
  }

  /** Empties every shard (statistics are kept). */
  clear(): void {
    for (const slot of this.#index.values()) {
      this.#keys[slot] = undefined;
      this.#vals[slot] = undefined;
      this.#where[slot] = FREE;
    }
    this.#index.clear();
    this.#free = [];
    for (let i = this.#size.length - 1; i >= 0; i--) this.#free.push(i);
    this.#head.fill(-1);
    this.#tail.fill(-1);
    this.#qBytes.fill(0);
    this.#qCount.fill(0);
    this.#bytes.fill(0);
    this.#count.fill(0);
    this.#ghost.fill(0);
  }

  /** Bytes currently charged. */
  get bytes(): number {
    let b = 0;
    for (let i = 0; i < this.#n; i++) b += this.#bytes[i];
    return b;
  }

  /** Entries currently held. */
  get size(): number {
    return this.#index.size;
  }

  /** Byte bound of shard `i`. */
  shardMaxBytes(i: number): number {
    return this.#maxBytes[i];
  }

  /** Statistics of shard `i`. */
  shardStats(i: number): L1Stats {
    return {
      hits: this.#hits[i],
      misses: this.#misses[i],
      evictions: this.#evictions[i],
      rejected: this.#rejected[i],
      bytes: this.#bytes[i],
      entries: this.#count[i],
    };
  }

  /** Statistics summed over all shards. */
  stats(): L1Stats {
    const t: L1Stats = { hits: 0, misses: 0, evictions: 0, rejected: 0, bytes: 0, entries: 0 };
    for (let i = 0; i < this.#n; i++) {
      t.hits += this.#hits[i];
      t.misses += this.#misses[i];
      t.evictions += this.#evictions[i];
      t.rejected += this.#rejected[i];
      t.bytes += this.#bytes[i];
      t.entries += this.#count[i];
    }
    return t;
  }

  /** Every cached key (for tests and debugging; allocates). */
  keys(): string[] {
    return [...this.#index.keys()];
  }
}
