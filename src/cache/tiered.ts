/**
 * The tiered cache facade (FR-305): L1 RAM → L2 mmap file → L3 backend.
 *
 * - get: L1, then L2, then L3. An L2 hit is copied into L1 (promotion l2→l1); an L3
 *   hit goes into L1 (promotion l3→l1; into L2 when larger than an L1 shard). Concurrent misses on one key share a single
 *   L3 read (single-flight).
 * - L1 evictions are written to L2 (demotion, write-on-eviction); an entry promoted
 *   from L2 and not changed since is not rewritten.
 * - set (write-through): any L2 copy is invalidated with a durable tombstone, the value
 *   is written to L3 (durable there), then installed in L1. Writes to one key are
 *   serialised, so the caches never end up holding an older value than L3.
 *   An L3 read that races with a write to its key is returned to its waiters but not
 *   cached.
 * - delete: removes the key from L1, L2 (durably) and L3.
 * - write-back (optional): set/delete are acknowledged once appended to an fsync'ed
 *   journal (`journal.ts`) and queued; a background flusher copies them to L3 in order
 *   and empties the journal when nothing is left. Reads see queued values (L1 → L2 →
 *   queue → L3); after a crash the journal is replayed, so no acknowledged write is lost.
 *
 * Consistency model (what the tests check): after `set(k, v)` resolves and until the
 * next write to k, `get(k)` returns v; after `delete(k)` it returns undefined — every
 * tier either holds the latest written value or nothing.
 */
import { type Clock, systemClock } from "../clock.ts";
import { type Logger, silentLogger } from "../observability/log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { JOURNAL_DELETE, JOURNAL_PUT, WriteBackJournal } from "./journal.ts";
import { L1Cache, type L1Policy } from "./l1.ts";
import { L2Cache, L2EntryTooLargeError } from "./l2.ts";
import type { L3Backend } from "./l3.ts";

/** Tiered cache configuration. */
export interface TieredOptions {
  /** L1 byte bound. */
  l1MaxBytes: number;
  /** L1 count bound (optional). */
  l1MaxEntries?: number;
  /** L1 shard count (default 1024). */
  l1Shards?: number;
  /** L1 eviction policy (default s3fifo). */
  l1Policy?: L1Policy;
  /** The L2 file cache (optional: without it, L1 evictions are simply dropped). */
  l2?: L2Cache;
  /** The cold backend. */
  l3: L3Backend;
  /** Where counters and latencies go (optional). */
  metrics?: Metrics;
  /** Time L1 hits one in this many (default 64) so the hit path stays cheap. */
  l1SampleEvery?: number;
  /** High-resolution time in milliseconds (default performance.now). */
  now?: () => number;
  /** "through" (default): set resolves once L3 has the value. "back": see below. */
  writeMode?: "through" | "back";
  /** Write-back journal file (required for writeMode "back"). */
  journalPath?: string;
  /** Write-back: pending bytes above which set waits for the flusher (default 64 MiB). */
  maxPendingBytes?: number;
  /** Write-back: pause before retrying a failed L3 write (default 1 s). */
  retryMs?: number;
  /** Timers for retries (default systemClock). */
  clock?: Clock;
  /** Where flush failures are reported (default silent). */
  logger?: Logger;
}

/** Counters of the facade (L1/L2 keep their own, see their stats()). */
export interface TieredStats {
  hits: { l1: number; l2: number; l3: number };
  /** Gets that found nothing anywhere. */
  misses: number;
  promotions: { l2ToL1: number; l3ToL1: number; l3ToL2: number };
  demotions: { l1ToL2: number };
  /** L3 reads avoided because another get for the key was already in flight. */
  sharedReads: number;
  l3Reads: number;
  hitRatio: number;
}

/** A write-back operation not yet in L3. */
interface PendingOp {
  kind: typeof JOURNAL_PUT | typeof JOURNAL_DELETE;
  value: Uint8Array;
}

interface Flight {
  p: Promise<Uint8Array | undefined>;
  stale: boolean;
}

/** The L1 → L2 → L3 cache. */
export class TieredCache {
  /** The RAM tier (exposed for stats and tests). */
  readonly l1: L1Cache;
  /** The file tier, when configured. */
  readonly l2: L2Cache | undefined;
  /** The backend. */
  readonly l3: L3Backend;
  readonly #metrics: Metrics | undefined;
  readonly #sampleEvery: number;
  readonly #now: () => number;
  readonly #flights = new Map<string, Flight>();
  readonly #locks = new Map<string, Promise<void>>();
  /** Keys whose L1 value is byte-identical to the live L2 entry (promoted, unchanged). */
  readonly #cleanInL2 = new Set<string>();
  #sample = 0;
  #c = {
    l1: 0,
    l2: 0,
    l3: 0,
    miss: 0,
    l2ToL1: 0,
    l3ToL1: 0,
    l3ToL2: 0,
    l1ToL2: 0,
    shared: 0,
    l3Reads: 0,
    demoteErrors: 0,
  };
  #exported: Record<string, number> = {};
  readonly #collector = () => this.exportMetrics();
  readonly #back: boolean;
  readonly #journal: WriteBackJournal | undefined;
  readonly #pending = new Map<string, PendingOp>();
  #pendingBytes = 0;
  readonly #maxPending: number;
  readonly #retryMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  #flushing: Promise<void> | null = null;
  #closed = false;
  /** Cancels a flusher's retry pause on close. */
  readonly #stop = new AbortController();

  /**
   * Builds L1 with demotion into `opts.l2`. In write-back mode, opens the journal and
   * replays it: every acknowledged write not yet in L3 is queued again (and any L2 copy
   * of those keys dropped, as it may be older).
   */
  constructor(opts: TieredOptions) {
    this.l2 = opts.l2;
    this.l3 = opts.l3;
    this.#metrics = opts.metrics;
    this.#sampleEvery = Math.max(1, opts.l1SampleEvery ?? 64);
    this.#now = opts.now ?? (() => performance.now());
    this.l1 = new L1Cache({
      maxBytes: opts.l1MaxBytes,
      maxEntries: opts.l1MaxEntries,
      shards: opts.l1Shards,
      policy: opts.l1Policy,
      onEvict: (k, v) => this.#demote(k, v),
    });
    this.#back = opts.writeMode === "back";
    this.#maxPending = opts.maxPendingBytes ?? 64 << 20;
    this.#retryMs = opts.retryMs ?? 1000;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
    if (this.#back) {
      if (!opts.journalPath) throw new TypeError("writeMode 'back' needs journalPath");
      const { journal, records } = WriteBackJournal.open(opts.journalPath);
      this.#journal = journal;
      for (const r of records) {
        this.#queue(r.key, { kind: r.kind, value: r.value });
        this.l2?.delete(r.key);
      }
      if (records.length > 0) this.#kick();
    }
    this.#metrics?.cacheCollectors.add(this.#collector);
  }

  /**
   * Stops exporting metrics and the write-back flusher (unflushed writes stay in the
   * journal for the next start) and closes the journal; L2 and L3 belong to the caller.
   */
  close(): void {
    this.#closed = true;
    this.#stop.abort();
    this.#metrics?.cacheCollectors.delete(this.#collector);
    this.#journal?.close();
  }

  /** Write-back: operations acknowledged but not yet in L3. */
  get pendingWrites(): number {
    return this.#pending.size;
  }

  #queue(key: string, op: PendingOp): void {
    const old = this.#pending.get(key);
    if (old) this.#pendingBytes -= old.value.byteLength + key.length;
    this.#pending.set(key, op);
    this.#pendingBytes += op.value.byteLength + key.length;
  }

  #kick(): Promise<void> {
    if (!this.#flushing) {
      this.#flushing = this.#flushLoop().finally(() => {
        this.#flushing = null;
      });
    }
    return this.#flushing;
  }

  /** Copies pending operations to L3 one at a time, retrying failures, until none is left. */
  async #flushLoop(): Promise<void> {
    while (this.#pending.size > 0 && !this.#closed) {
      for (const [key, op] of [...this.#pending]) {
        if (this.#closed) return;
        try {
          if (op.kind === JOURNAL_PUT) await this.l3.put(key, op.value);
          else await this.l3.delete(key);
        } catch (e) {
          this.#log.warn("write-back to L3 failed; will retry", { key, error: e });
          try {
            await this.#clock.sleep(this.#retryMs, this.#stop.signal);
          } catch {
            return; // closed while waiting
          }
          break;
        }
        // A newer write to the key may have arrived meanwhile: it stays queued.
        if (this.#pending.get(key) === op) {
          this.#pending.delete(key);
          this.#pendingBytes -= op.value.byteLength + key.length;
        }
      }
      // Synchronously with the check, so no acknowledged record can be cut off.
      if (this.#pending.size === 0 && !this.#closed) {
        try {
          this.#journal!.reset();
        } catch (e) {
          // Harmless: the records are replayed (idempotently) after the next start.
          this.#log.warn("write-back journal could not be emptied", { error: e });
        }
      }
    }
  }

  /** Write-back: resolves once every acknowledged write is in L3 (no-op in write-through). */
  async flush(): Promise<void> {
    while (this.#back && this.#pending.size > 0 && !this.#closed) await this.#kick();
  }

  #demote(key: string, value: Uint8Array): void {
    const l2 = this.l2;
    if (!l2) return;
    if (this.#cleanInL2.delete(key) && l2.has(key)) return;
    try {
      l2.put(key, value);
      this.#c.l1ToL2++;
    } catch (e) {
      if (!(e instanceof L2EntryTooLargeError)) throw e;
      // Too large for L2: make sure no older copy is left there to be served.
      l2.delete(key);
      this.#c.demoteErrors++;
    }
  }

  #observe(tier: string, startMs: number): void {
    this.#metrics?.cacheGetSeconds.observe({ tier }, (this.#now() - startMs) / 1000);
  }

  /** The value from L1 or L2 without going to L3 (synchronous; promotes L2 hits). */
  getCached(key: string): Uint8Array | undefined {
    const timed = this.#metrics !== undefined && ++this.#sample >= this.#sampleEvery;
    const t0 = timed ? this.#now() : 0;
    const v = this.l1.get(key);
    if (v !== undefined) {
      this.#c.l1++;
      if (timed) {
        this.#sample = 0;
        this.#observe("l1", t0);
      }
      return v;
    }
    const l2 = this.l2;
    const w = l2 ? this.#fromL2(l2, key) : undefined;
    if (w !== undefined || !this.#back) return w;
    // Write-back: a queued write is the newest value (L1 and L2 may have evicted it).
    const p = this.#pending.get(key);
    if (p === undefined || p.kind !== JOURNAL_PUT) return undefined;
    this.#c.l1++;
    this.l1.set(key, p.value);
    return p.value;
  }

  #fromL2(l2: L2Cache, key: string): Uint8Array | undefined {
    const t1 = this.#metrics ? this.#now() : 0;
    const w = l2.get(key);
    if (w === undefined) return undefined;
    this.#c.l2++;
    if (this.#metrics) this.#observe("l2", t1);
    if (this.l1.set(key, w)) {
      this.#c.l2ToL1++;
      this.#cleanInL2.add(key);
    }
    return w;
  }

  /**
   * The value for `key` from the nearest tier holding it, or undefined. The bytes may be
   * the cached buffer itself: treat them as read-only.
   */
  get(key: string): Promise<Uint8Array | undefined> {
    const v = this.getCached(key);
    if (v !== undefined) return Promise.resolve(v);
    if (this.#back && this.#pending.get(key)?.kind === JOURNAL_DELETE) {
      this.#c.miss++;
      return Promise.resolve(undefined);
    }
    const f = this.#flights.get(key);
    if (f) {
      this.#c.shared++;
      return f.p;
    }
    const flight: Flight = { p: Promise.resolve(undefined), stale: false };
    flight.p = this.#readThrough(key, flight);
    this.#flights.set(key, flight);
    return flight.p;
  }

  async #readThrough(key: string, flight: Flight): Promise<Uint8Array | undefined> {
    const t0 = this.#now();
    try {
      this.#c.l3Reads++;
      const v = await this.l3.get(key);
      if (this.#metrics) this.#observe("l3", t0);
      if (v === undefined) {
        this.#c.miss++;
        return undefined;
      }
      this.#c.l3++;
      if (!flight.stale) {
        if (this.l1.set(key, v)) this.#c.l3ToL1++;
        else if (this.l2) {
          // Larger than an L1 shard: keep it one tier down rather than nowhere.
          try {
            this.l2.put(key, v);
            this.#c.l3ToL2++;
          } catch (e) {
            if (!(e instanceof L2EntryTooLargeError)) throw e;
          }
        }
      }
      return v;
    } finally {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    }
  }

  /** Runs `fn` after every earlier write to `key` has finished. */
  async #serial(key: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.#locks.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    this.#locks.set(key, mine);
    try {
      if (prev) await prev;
      await fn();
    } finally {
      release();
      if (this.#locks.get(key) === mine) this.#locks.delete(key);
    }
  }

  #invalidate(key: string): void {
    const f = this.#flights.get(key);
    if (f) {
      f.stale = true;
      this.#flights.delete(key);
    }
    this.#cleanInL2.delete(key);
  }

  /**
   * Stores `value`. Write-through: resolves once L3 holds it. Write-back: resolves once
   * the write is in the fsync'ed journal; the flusher copies it to L3 later.
   */
  set(key: string, value: Uint8Array): Promise<void> {
    return this.#serial(key, async () => {
      this.#invalidate(key);
      // Drop the old value first so it cannot be demoted into L2 while we wait.
      this.l1.delete(key);
      if (this.#back) {
        await this.#admitWrite();
        this.#journal!.append(JOURNAL_PUT, key, value);
        this.#queue(key, { kind: JOURNAL_PUT, value });
        this.l2?.delete(key); // the journal replay drops it again after a crash
        void this.#kick();
      } else {
        // A durable tombstone: a crash after the L3 write cannot resurrect the old L2 copy.
        if (this.l2?.has(key)) this.l2.delete(key, { durable: true });
        await this.l3.put(key, value);
        this.#invalidate(key);
        // A racing read may have cached and demoted the old value meanwhile.
        this.l1.delete(key);
        if (this.l2?.has(key)) this.l2.delete(key, { durable: true });
      }
      this.#install(key, value);
    });
  }

  /** Puts the newest value in L1, or in L2 when it is larger than an L1 shard. */
  #install(key: string, value: Uint8Array): void {
    if (this.l1.set(key, value) || !this.l2) return;
    try {
      this.l2.put(key, value);
    } catch (e) {
      if (!(e instanceof L2EntryTooLargeError)) throw e;
    }
  }

  /** Write-back backpressure: waits for the flusher when too much is queued. */
  async #admitWrite(): Promise<void> {
    while (
      !this.#closed &&
      (this.#pendingBytes > this.#maxPending || this.#journal!.size > 4 * this.#maxPending)
    ) {
      await this.#kick();
    }
  }

  /** Removes `key` from every tier (write-back: from L3 once flushed; reads miss at once). */
  delete(key: string): Promise<void> {
    return this.#serial(key, async () => {
      this.#invalidate(key);
      this.l1.delete(key);
      if (this.#back) {
        await this.#admitWrite();
        this.#journal!.append(JOURNAL_DELETE, key, new Uint8Array(0));
        this.#queue(key, { kind: JOURNAL_DELETE, value: new Uint8Array(0) });
        this.l2?.delete(key);
        void this.#kick();
        return;
      }
      if (this.l2?.has(key)) this.l2.delete(key, { durable: true });
      await this.l3.delete(key);
      this.#invalidate(key);
    });
  }

  /** Facade counters. */
  stats(): TieredStats {
    const c = this.#c;
    const hits = c.l1 + c.l2 + c.l3;
    return {
      hits: { l1: c.l1, l2: c.l2, l3: c.l3 },
      misses: c.miss,
      promotions: { l2ToL1: c.l2ToL1, l3ToL1: c.l3ToL1, l3ToL2: c.l3ToL2 },
      demotions: { l1ToL2: c.l1ToL2 },
      sharedReads: c.shared,
      l3Reads: c.l3Reads,
      hitRatio: hits + c.miss === 0 ? 0 : (c.l1 + c.l2) / (hits + c.miss),
    };
  }

  /**
   * Pushes the plain counters into the Metrics families (counters by delta since the
   * last export, gauges set). The constructor registers it in `metrics.cacheCollectors`,
   * so a scrape calls it; `close()` unregisters it.
   */
  exportMetrics(): void {
    const m = this.#metrics;
    if (!m) return;
    const l1 = this.l1.stats();
    const l2 = this.l2?.stats();
    const c = this.#c;
    const inc = (
      name: string,
      value: number,
      counter: { inc(labels: Record<string, string>, v: number): void },
      labels: Record<string, string>,
    ) => {
      const d = value - (this.#exported[name] ?? 0);
      if (d > 0) counter.inc(labels, d);
      this.#exported[name] = value;
    };
    inc("h1", c.l1, m.cacheHits, { tier: "l1" });
    inc("h2", c.l2, m.cacheHits, { tier: "l2" });
    inc("h3", c.l3, m.cacheHits, { tier: "l3" });
    // A miss at a tier = the get had to go further down.
    inc("m1", c.l2 + c.l3 + c.miss, m.cacheMisses, { tier: "l1" });
    if (l2) inc("m2", c.l3 + c.miss, m.cacheMisses, { tier: "l2" });
    inc("m3", c.miss, m.cacheMisses, { tier: "l3" });
    inc("e1", l1.evictions, m.cacheEvictions, { tier: "l1" });
    if (l2) inc("e2", l2.evictions, m.cacheEvictions, { tier: "l2" });
    inc("p21", c.l2ToL1, m.cachePromotions, { from: "l2", to: "l1" });
    inc("p31", c.l3ToL1, m.cachePromotions, { from: "l3", to: "l1" });
    inc("p32", c.l3ToL2, m.cachePromotions, { from: "l3", to: "l2" });
    inc("d12", c.l1ToL2, m.cacheDemotions, { from: "l1", to: "l2" });
    m.cacheBytes.set({ tier: "l1" }, l1.bytes);
    if (l2) m.cacheBytes.set({ tier: "l2" }, l2.liveBytes);
    const ratio = (h: number, miss: number) => (h + miss === 0 ? 0 : h / (h + miss));
    m.cacheHitRatio.set({ tier: "l1" }, ratio(c.l1, c.l2 + c.l3 + c.miss));
    if (l2) m.cacheHitRatio.set({ tier: "l2" }, ratio(c.l2, c.l3 + c.miss));
    m.cacheHitRatio.set({ tier: "l3" }, ratio(c.l3, c.miss));
    m.cacheHitRatio.set({ tier: "all" }, this.stats().hitRatio);
  }
}
