/**
 * The erasure-coded stripe store: objects are cut into stripes of `stripeSizeBytes`, each stripe
 * into k data shards plus parity, one shard per target. The manifest is the source of truth;
 * small writes go through the write-ahead journal and are destaged into full stripes. Reads
 * rebuild missing or corrupt shards on the fly; scrub and repair find and heal damage.
 */
import { createHash } from "node:crypto";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../observability/log.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { Kernel } from "../kernels/kernel.ts";
import type { ShardSlot } from "../shards.ts";
import type { BlockHasher } from "./checksum.ts";
import { type CodeParams, createStripeCodec, type StripeCodec } from "./codec.ts";
import { Journal } from "./journal.ts";
import {
  type Extent,
  loadManifest,
  type Manifest,
  saveManifest,
  type StoredObject,
  type Stripe,
  type StripeHealth,
} from "./manifest.ts";
import { RateLimiter } from "./rate_limit.ts";
import { decodeShardFile, encodeShardFile } from "./shard_format.ts";
import { DirectoryTarget, type ShardTarget } from "./target.ts";

/** Parameters fixed when a store is created. */
export interface EcStoreConfig {
  code: CodeParams;
  /** User bytes per stripe (default 4 MiB). */
  stripeSizeBytes?: number;
  /** Checksum block inside a shard (default 64 KiB). */
  blockSize?: number;
  /** Number of shard targets (default: shards per stripe; more gives spares for repair). */
  targets?: number;
  /**
   * Consecutive stripes sharing one placement before the rotation moves on (default 1). The
   * ec-policy controller sets its ECStripe granularity here so one ECStripe names one target
   * per shard index.
   */
  placementRun?: number;
  /**
   * Explicit shard targets (id and directory; a relative path is under the store's dir). Used
   * when each target is a directory on another pool (the EC cold tier puts one per cold pool).
   */
  targetDirs?: { id: string; path: string }[];
}

/** Where a target's directory is: an absolute path as is, a relative one under the store. */
export function targetDir(storeDir: string, path: string): string {
  return path.startsWith("/") ? path : `${storeDir}/${path}`;
}

/** Run-time settings (not persisted). */
export interface EcStoreOptions {
  /** Journal size at which destaging starts, as a share of journalCapacityBytes (default 50). */
  destageThresholdPercent?: number;
  /** Journal capacity (default 64 MiB). */
  journalCapacityBytes?: number;
  /** How often runDestager destages pending writes (default 30 s). */
  destageIntervalMs?: number;
}

/** Injected collaborators. */
export interface EcStoreDeps {
  kernel: Kernel;
  hasher: BlockHasher;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  /** Builds a target from its manifest entry (default: a directory under the store). */
  openTarget?: (id: string, path: string) => ShardTarget;
}

/** Counters since open. */
export interface EcStoreStats {
  degradedReads: number;
  reconstructedShards: number;
  journalRecordsReplayed: number;
  destagedStripes: number;
  /** Shard files read by object reads (degraded reads read parity on top of the k data). */
  shardReads: number;
}

/** Progress of a long operation. */
export interface Progress {
  done: number;
  total: number;
  bytes: number;
}

/** One problem found by a scrub. */
export interface ScrubFinding {
  stripe: number;
  shard: number;
  kind: "missing" | "checksum" | "parity";
  repaired: boolean;
  /** Target the repaired shard now lives on. */
  target?: string;
}

/** What a scrub or repair did. */
export interface ScrubReport {
  stripes: number;
  bytesRead: number;
  findings: ScrubFinding[];
  unrecoverable: number[];
}

/** Options of scrub/repair. */
export interface ScrubOptions {
  /** Rewrite damaged shards (repair) or only report them (verify). */
  repair: boolean;
  /** Verify parity too, not only block checksums (default true). */
  parity?: boolean;
  /** Read budget (default unlimited). */
  bytesPerSecond?: number;
  /** Re-create a missing target (a replaced, empty disk) when no spare target is free. */
  reprovision?: boolean;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

/** A running background reconstruction. */
export interface ReconstructionJob {
  /** Stripes done so far out of the total, and bytes read. */
  progress(): Progress;
  /** Resolves with the report when the pass ends (or stops early after abort). */
  done: Promise<ScrubReport>;
  /** Stops after the stripe in hand. */
  abort(): void;
}

/** A summary for `ec stat`. */
export interface StoreStat {
  code: CodeParams;
  kernel: string;
  stripeSizeBytes: number;
  objects: number;
  logicalBytes: number;
  storedBytes: number;
  stripes: Record<StripeHealth, number>;
  targets: { id: string; path: string; healthy: boolean; shards: number }[];
  journal: { pendingWrites: number; bytes: number; destagedSeq: number };
  lastScrub?: Manifest["lastScrub"];
}

interface ShardRead {
  /** The shard bytes (bad blocks included, as read), or null when missing or unparseable. */
  data: Uint8Array | null;
  /** Blocks whose checksum failed. */
  badBlocks: number[];
  problem: "missing" | "checksum" | null;
}

const MANIFEST = "manifest.json";
const JOURNAL = "journal.log";

/** Name of shard i of stripe id on its target. */
export function shardFileName(stripe: number, shard: number): string {
  return `stripe-${String(stripe).padStart(8, "0")}-${String(shard).padStart(3, "0")}.shard`;
}

/** The store. Operations are serialised; one process owns a store directory. */
export class EcStore {
  readonly stats: EcStoreStats = {
    degradedReads: 0,
    reconstructedShards: 0,
    journalRecordsReplayed: 0,
    destagedStripes: 0,
    shardReads: 0,
  };
  readonly #codec: StripeCodec;
  readonly #targets = new Map<string, ShardTarget>();
  readonly #pending = new Map<string, { seq: number; data: Uint8Array }>();
  #lock: Promise<unknown> = Promise.resolve();
  #lastStripe: { id: number; data: Uint8Array } | null = null;

  private constructor(
    readonly dir: string,
    private manifest: Manifest,
    private readonly journal: Journal,
    private readonly deps: EcStoreDeps,
    private readonly opts: Required<EcStoreOptions>,
  ) {
    this.#codec = createStripeCodec(manifest.code, deps.kernel);
    const open = deps.openTarget ??
      ((id: string, path: string) => new DirectoryTarget(id, targetDir(dir, path)));
    for (const t of manifest.targets) this.#targets.set(t.id, open(t.id, t.path));
  }

  /** Creates a new store in `dir` (which must not hold one yet) and opens it. */
  static async create(
    dir: string,
    config: EcStoreConfig,
    deps: EcStoreDeps,
    opts: EcStoreOptions = {},
  ): Promise<EcStore> {
    await Deno.mkdir(dir, { recursive: true });
    if (await loadManifest(`${dir}/${MANIFEST}`)) {
      throw new Error(`a store already exists in ${dir}`);
    }
    const codec = createStripeCodec(config.code, deps.kernel);
    const count = config.targetDirs?.length ?? config.targets ?? codec.totalShards;
    if (count < codec.totalShards) {
      throw new Error(`need at least ${codec.totalShards} targets (one per shard), got ${count}`);
    }
    const targets = config.targetDirs?.map((t) => ({ ...t })) ??
      Array.from({ length: count }, (_, i) => ({
        id: `t${String(i).padStart(2, "0")}`,
        path: `targets/t${String(i).padStart(2, "0")}`,
      }));
    if (new Set(targets.map((t) => t.id)).size !== targets.length) {
      throw new Error("target ids must be distinct");
    }
    for (const t of targets) await Deno.mkdir(targetDir(dir, t.path), { recursive: true });
    const manifest: Manifest = {
      version: 1,
      code: config.code,
      stripeSizeBytes: config.stripeSizeBytes ?? 4 << 20,
      blockSize: config.blockSize ?? 64 << 10,
      targets,
      stripes: {},
      objects: {},
      nextStripeId: 0,
      journal: { destagedSeq: 0 },
      ...(config.placementRun && config.placementRun > 1
        ? { placementRun: config.placementRun }
        : {}),
    };
    await saveManifest(`${dir}/${MANIFEST}`, manifest);
    return await EcStore.open(dir, deps, opts);
  }

  /** Opens an existing store and replays its journal (idempotently). */
  static async open(dir: string, deps: EcStoreDeps, opts: EcStoreOptions = {}): Promise<EcStore> {
    const manifest = await loadManifest(`${dir}/${MANIFEST}`);
    if (!manifest) throw new Error(`no store in ${dir} (no ${MANIFEST})`);
    const destaged = manifest.journal.destagedSeq;
    const { journal, records } = await Journal.open(`${dir}/${JOURNAL}`, deps.hasher, destaged + 1);
    const store = new EcStore(dir, manifest, journal, deps, {
      destageThresholdPercent: opts.destageThresholdPercent ?? 50,
      journalCapacityBytes: opts.journalCapacityBytes ?? 64 << 20,
      destageIntervalMs: opts.destageIntervalMs ?? 30_000,
    });
    for (const r of records) {
      // Records up to destagedSeq are already in stripes (crash between manifest and reset).
      if (r.seq <= destaged) continue;
      const { name, data } = decodeWrite(r.payload);
      store.#pending.set(name, { seq: r.seq, data });
      store.stats.journalRecordsReplayed++;
    }
    deps.logger.debug("ec store opened", {
      dir,
      stripes: Object.keys(manifest.stripes).length,
      replayed: store.stats.journalRecordsReplayed,
    });
    return store;
  }

  /** Opens the store in dir, creating it with config when absent. */
  static async openOrCreate(
    dir: string,
    config: EcStoreConfig,
    deps: EcStoreDeps,
    opts: EcStoreOptions = {},
  ): Promise<EcStore> {
    if (await loadManifest(`${dir}/${MANIFEST}`)) return await EcStore.open(dir, deps, opts);
    return await EcStore.create(dir, config, deps, opts);
  }

  /** The code parameters. */
  get code(): CodeParams {
    return this.manifest.code;
  }

  /** Object names (destaged and pending). */
  list(): string[] {
    return [...new Set([...Object.keys(this.manifest.objects), ...this.#pending.keys()])].sort();
  }

  /** The manifest's stripes (read-only view for status reporting, e.g. groupStripes). */
  stripes(): readonly Stripe[] {
    return Object.values(this.manifest.stripes);
  }

  /** Metadata of a destaged object, if any. */
  objectInfo(name: string): StoredObject | undefined {
    return this.manifest.objects[name];
  }

  /**
   * Stores a (large) object straight into full stripes, bypassing the journal: a stripe is
   * durable on its targets before the manifest names it, and the manifest is replaced once.
   */
  put(
    name: string,
    source: Uint8Array | AsyncIterable<Uint8Array>,
    onProgress?: (p: Progress) => void,
  ): Promise<StoredObject> {
    return this.#exclusive(async () => {
      // A pending journal write of this name would win on replay after a crash: destage it first
      // so the journal holds nothing older than this put.
      if (this.#pending.has(name)) await this.#destage();
      // node:crypto's SHA-256 is native (~4x hash-wasm's here).
      const sha = createHash("sha256");
      const extents: Extent[] = [];
      const stripeSize = this.manifest.stripeSizeBytes;
      let buf = new Uint8Array(stripeSize);
      let fill = 0;
      let size = 0;
      // Two stripes in flight: the next one is filled and encoded while the last is written.
      const inflight: Promise<number>[] = [];
      const settle = async (keep: number) => {
        while (inflight.length > keep) {
          const id = await inflight.shift()!;
          const length = this.manifest.stripes[id].dataBytes;
          extents.push({ stripe: id, offset: 0, length });
          size += length;
          onProgress?.({ done: extents.length, total: 0, bytes: size });
        }
      };
      const flush = async () => {
        const written = this.#writeStripe(buf.subarray(0, fill));
        written.catch(() => {}); // awaited in settle; avoids an unhandled rejection meanwhile
        inflight.push(written);
        buf = new Uint8Array(stripeSize);
        fill = 0;
        await settle(1);
      };
      const chunks = source instanceof Uint8Array ? [source] : source;
      try {
        for await (const chunk of chunks) {
          sha.update(chunk);
          let off = 0;
          while (off < chunk.length) {
            const n = Math.min(stripeSize - fill, chunk.length - off);
            buf.set(chunk.subarray(off, off + n), fill);
            fill += n;
            off += n;
            if (fill === stripeSize) await flush();
          }
        }
        if (fill > 0) await flush();
        await settle(0);
      } finally {
        // Never leave the lock with a stripe write still running, even when the source failed.
        await Promise.allSettled(inflight);
      }
      const obj: StoredObject = {
        size,
        sha256: sha.digest("hex"),
        extents,
        createdAt: this.deps.clock.now(),
      };
      this.manifest.objects[name] = obj;
      await this.#commitManifest();
      return obj;
    });
  }

  /**
   * A small write: appended to the journal and acknowledged once fdatasync'd; readable at once;
   * destaged into full stripes when the journal passes its threshold.
   */
  write(name: string, data: Uint8Array): Promise<number> {
    return this.#exclusive(async () => {
      const payload = encodeWrite(name, data);
      if (
        this.journal.size + payload.length + 24 > this.opts.journalCapacityBytes &&
        this.#pending.size > 0
      ) {
        await this.#destage();
      }
      const seq = await this.journal.append(payload);
      this.#pending.set(name, { seq, data: data.slice() });
      const threshold = (this.opts.journalCapacityBytes * this.opts.destageThresholdPercent) / 100;
      if (this.journal.size >= threshold) await this.#destage();
      return seq;
    });
  }

  /**
   * Removes an object; its stripes (no longer referenced) are deleted once the manifest no
   * longer names them. A pending journal write of it is destaged first, so a replay after a
   * crash cannot bring it back. Absent names are fine.
   */
  delete(name: string): Promise<boolean> {
    return this.#exclusive(async () => {
      if (this.#pending.has(name)) await this.#destage();
      if (!this.manifest.objects[name]) return false;
      delete this.manifest.objects[name];
      await this.#commitManifest();
      return true;
    });
  }

  /** Destages every pending journal write into stripes now; returns stripes written. */
  destage(): Promise<number> {
    return this.#exclusive(() => this.#destage());
  }

  /** Destages every `destageIntervalMs` on the injected clock until the signal aborts. */
  async runDestager(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.deps.clock.sleep(this.opts.destageIntervalMs, signal);
      } catch {
        return;
      }
      if (this.#pending.size > 0) await this.destage();
    }
  }

  /** Streams an object's bytes, rebuilding damaged stripes on the fly. */
  async *read(name: string): AsyncGenerator<Uint8Array> {
    const pending = this.#pending.get(name);
    if (pending) {
      yield pending.data.slice();
      return;
    }
    const obj = this.manifest.objects[name];
    if (!obj) throw new Deno.errors.NotFound(`no object named ${name}`);
    for (const e of obj.extents) {
      const data = await this.#exclusive(() => this.#readStripeData(e.stripe));
      yield data.subarray(e.offset, e.offset + e.length);
    }
  }

  /** An object's bytes in one array. */
  async get(name: string): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const p of this.read(name)) parts.push(p);
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  /**
   * Reads every stripe, checks block checksums (and parity), and with `repair` rewrites damaged
   * shards onto their target, or a spare target when theirs is down. Records the scrub time.
   */
  async scrub(opts: ScrubOptions): Promise<ScrubReport> {
    const report: ScrubReport = { stripes: 0, bytesRead: 0, findings: [], unrecoverable: [] };
    const limiter = new RateLimiter(this.deps.clock, opts.bytesPerSecond ?? Infinity);
    const ids = Object.keys(this.manifest.stripes).map(Number).sort((a, b) => a - b);
    for (const id of ids) {
      if (opts.signal?.aborted) break;
      // The lock is taken per stripe so reads and writes interleave with a long pass.
      const bytes = await this.#exclusive(async () => {
        const stripe = this.manifest.stripes[id];
        if (!stripe) return 0;
        const before = report.findings.length;
        const n = await this.#scrubStripe(stripe, opts, report);
        // Persist moved placements as they happen, not only at the end of a long pass.
        if (opts.repair && report.findings.slice(before).some((f) => f.repaired)) {
          await this.#commitManifest();
        }
        return n;
      });
      report.stripes++;
      report.bytesRead += bytes;
      opts.onProgress?.({ done: report.stripes, total: ids.length, bytes: report.bytesRead });
      try {
        await limiter.consume(bytes, opts.signal);
      } catch {
        break; // aborted while pacing
      }
    }
    return await this.#exclusive(async () => {
      this.manifest.lastScrub = {
        at: this.deps.clock.now(),
        stripes: report.stripes,
        problems: report.findings.length,
        repaired: report.findings.filter((f) => f.repaired).length,
        unrecoverable: report.unrecoverable.length,
      };
      await this.#commitManifest();
      this.#lastStripe = null;
      return report;
    });
  }

  /**
   * Starts rebuilding missing and corrupt shards in the background (FR-205): a repair pass
   * over every stripe (checksums only, parity is the scrubber's job) that callers can watch
   * and abort. Reads and writes interleave with it stripe by stripe.
   */
  startReconstruction(
    opts: { reprovision?: boolean; bytesPerSecond?: number } = {},
  ): ReconstructionJob {
    const ac = new AbortController();
    let progress: Progress = {
      done: 0,
      total: Object.keys(this.manifest.stripes).length,
      bytes: 0,
    };
    const done = this.scrub({
      repair: true,
      parity: false,
      reprovision: opts.reprovision,
      bytesPerSecond: opts.bytesPerSecond,
      signal: ac.signal,
      onProgress: (p) => (progress = p),
    });
    return { progress: () => progress, done, abort: () => ac.abort() };
  }

  /** Summary of objects, stripes, targets and journal. */
  async stat(): Promise<StoreStat> {
    const stripes: Record<StripeHealth, number> = { healthy: 0, degraded: 0, lost: 0 };
    const perTarget = new Map<string, number>();
    let stored = 0;
    for (const s of Object.values(this.manifest.stripes)) {
      stripes[s.health]++;
      stored += s.shardSize * s.placement.length;
      for (const t of s.placement) perTarget.set(t, (perTarget.get(t) ?? 0) + 1);
    }
    const targets = [];
    for (const t of this.manifest.targets) {
      const healthy = await this.#targets.get(t.id)!.healthy();
      targets.push({ id: t.id, path: t.path, healthy, shards: perTarget.get(t.id) ?? 0 });
    }
    return {
      code: this.manifest.code,
      kernel: this.deps.kernel.name,
      stripeSizeBytes: this.manifest.stripeSizeBytes,
      objects: this.list().length,
      logicalBytes: Object.values(this.manifest.objects).reduce((n, o) => n + o.size, 0) +
        [...this.#pending.values()].reduce((n, p) => n + p.data.length, 0),
      storedBytes: stored,
      stripes,
      targets,
      journal: {
        pendingWrites: this.#pending.size,
        bytes: this.journal.size,
        destagedSeq: this.manifest.journal.destagedSeq,
      },
      lastScrub: this.manifest.lastScrub,
    };
  }

  /** Closes the journal. */
  close(): void {
    this.journal.close();
  }

  // ---- internals (called under the lock) ----

  /** Flushes every target; called before the manifest names newly written shards. */
  async #flushTargets(): Promise<void> {
    await Promise.all([...this.#targets.values()].map((t) => t.flush().catch(() => {})));
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  async #destage(): Promise<number> {
    if (this.#pending.size === 0) return 0;
    const entries = [...this.#pending.entries()].sort((a, b) => a[1].seq - b[1].seq);
    const maxSeq = entries[entries.length - 1][1].seq;
    const stripeSize = this.manifest.stripeSizeBytes;
    const objects = new Map<string, StoredObject>();
    let buf = new Uint8Array(stripeSize);
    let fill = 0;
    let written = 0;
    // Extents waiting for the stripe id of the buffer being filled.
    let open: { name: string; offset: number; length: number }[] = [];
    const flush = async () => {
      const id = await this.#writeStripe(buf.subarray(0, fill));
      for (const o of open) {
        objects.get(o.name)!.extents.push({ stripe: id, offset: o.offset, length: o.length });
      }
      open = [];
      buf = new Uint8Array(stripeSize);
      fill = 0;
      written++;
    };
    for (const [name, { data }] of entries) {
      const sha = createHash("sha256").update(data);
      objects.set(name, {
        size: data.length,
        sha256: sha.digest("hex"),
        extents: [],
        createdAt: this.deps.clock.now(),
      });
      let off = 0;
      while (off < data.length) {
        const n = Math.min(stripeSize - fill, data.length - off);
        buf.set(data.subarray(off, off + n), fill);
        open.push({ name, offset: fill, length: n });
        fill += n;
        off += n;
        if (fill === stripeSize) await flush();
      }
    }
    if (fill > 0) await flush();
    for (const [name, obj] of objects) this.manifest.objects[name] = obj;
    this.manifest.journal.destagedSeq = maxSeq;
    await this.#commitManifest();
    // Only now may the journal forget: the manifest names the stripes holding the writes.
    await this.journal.reset();
    this.#pending.clear();
    this.stats.destagedStripes += written;
    return written;
  }

  /** Encodes and writes one stripe; returns its id (recorded in the manifest by the caller). */
  async #writeStripe(data: Uint8Array): Promise<number> {
    const k = this.#codec.dataShards;
    const n = this.#codec.totalShards;
    const shardSize = Math.max(1, Math.ceil(data.length / k));
    const padded = new Uint8Array(shardSize * k);
    padded.set(data);
    const shards = Array.from(
      { length: n },
      (_, i) =>
        i < k ? padded.subarray(i * shardSize, (i + 1) * shardSize) : new Uint8Array(shardSize),
    );
    this.#codec.encode(shards);
    const id = this.manifest.nextStripeId++;
    const placement = await this.#place(id, n);
    const stripe: Stripe = {
      id,
      generation: 1,
      dataBytes: data.length,
      shardSize,
      placement,
      health: "healthy",
    };
    const results = await Promise.allSettled(shards.map((s, i) => this.#writeShard(stripe, i, s)));
    const failed = results.filter((r) => r.status === "rejected").length;
    if (failed > 0) {
      const lost = results.flatMap((r, i) => (r.status === "rejected" ? [i] : []));
      if (!this.#codec.canRecover(lost)) {
        throw new Error(
          `stripe ${id}: ${failed} of ${n} shard writes failed; data would not be recoverable`,
        );
      }
      stripe.health = "degraded";
      this.deps.logger.warn("stripe written degraded", { stripe: id, failedShards: lost });
    }
    this.manifest.stripes[id] = stripe;
    return id;
  }

  /** Chooses n distinct targets for a stripe, rotating the start so load spreads evenly. */
  async #place(id: number, n: number): Promise<string[]> {
    const all = this.manifest.targets.map((t) => t.id);
    const turn = Math.floor(id / (this.manifest.placementRun ?? 1));
    const rotated = all.map((_, i) => all[(turn + i) % all.length]);
    const healthy: string[] = [];
    const down: string[] = [];
    for (const t of rotated) ((await this.#targets.get(t)!.healthy()) ? healthy : down).push(t);
    // Healthy targets first; a down one only when there is no other (the stripe is then degraded).
    return [...healthy, ...down].slice(0, n);
  }

  async #writeShard(stripe: Stripe, i: number, data: Uint8Array): Promise<void> {
    const file = encodeShardFile(
      {
        stripeId: stripe.id,
        shardIndex: i,
        generation: stripe.generation,
        shardSize: stripe.shardSize,
        blockSize: this.manifest.blockSize,
      },
      data,
      this.deps.hasher,
    );
    await this.#targets.get(stripe.placement[i])!.write(shardFileName(stripe.id, i), file);
  }

  async #readShard(stripe: Stripe, i: number): Promise<ShardRead> {
    let file: Uint8Array | null;
    try {
      file = await this.#targets.get(stripe.placement[i])!.read(shardFileName(stripe.id, i));
    } catch {
      file = null;
    }
    if (!file) return { data: null, badBlocks: [], problem: "missing" };
    const parsed = decodeShardFile(file, this.deps.hasher);
    if (
      !parsed || parsed.header.stripeId !== stripe.id || parsed.header.shardIndex !== i ||
      parsed.header.shardSize !== stripe.shardSize ||
      parsed.header.blockSize !== this.manifest.blockSize
    ) {
      return { data: null, badBlocks: [], problem: "checksum" };
    }
    return {
      data: parsed.data,
      badBlocks: parsed.badBlocks,
      problem: parsed.badBlocks.length > 0 ? "checksum" : null,
    };
  }

  /**
   * Rebuilds every missing shard and every bad block in place, block range by block range: a
   * range is decoded from the shards whose blocks there are good, so a stripe with m lost
   * shards still heals a flipped byte in a further shard. Throws (writing nothing the caller
   * keeps) when some range lacks enough good blocks.
   */
  #recover(stripe: Stripe, reads: ShardRead[], dataOnly = false): Uint8Array[] {
    const { shardSize } = stripe;
    const bs = this.manifest.blockSize;
    const blocks = Math.ceil(shardSize / bs);
    const full = reads.map((r) => r.data ?? new Uint8Array(shardSize));
    const lostAt = (b: number) =>
      reads.flatMap((r, i) => (!r.data || r.badBlocks.includes(b) ? [i] : []));
    for (let b = 0; b < blocks;) {
      const lost = lostAt(b);
      let end = b + 1;
      while (end < blocks && sameList(lostAt(end), lost)) end++;
      if (lost.length > 0) {
        if (!this.#codec.canRecover(lost)) {
          const k = this.#codec.dataShards;
          throw new Error(
            `stripe ${stripe.id} is unrecoverable: shards [${lost.join(", ")}] missing or corrupt` +
              ` in blocks ${b}..${end - 1}, need k=${k} good shards, have ${
                reads.length - lost.length
              }`,
          );
        }
        const lo = b * bs;
        const hi = Math.min(end * bs, shardSize);
        const slots: ShardSlot[] = full.map((
          s,
          i,
        ) => (lost.includes(i) ? null : s.subarray(lo, hi)));
        this.#codec.reconstruct(slots, dataOnly);
        for (const i of lost) {
          if (!dataOnly || i < this.#codec.dataShards) full[i].set(slots[i] as Uint8Array, lo);
        }
      }
      b = end;
    }
    return full;
  }

  /** The stripe's user bytes: data shards when intact, else rebuilt from any k good shards. */
  async #readStripeData(id: number): Promise<Uint8Array> {
    if (this.#lastStripe?.id === id) return this.#lastStripe.data;
    const stripe = this.manifest.stripes[id];
    if (!stripe) throw new Error(`manifest names stripe ${id} but does not describe it`);
    const k = this.#codec.dataShards;
    const n = this.#codec.totalShards;
    const reads: ShardRead[] = await Promise.all(
      Array.from({ length: k }, (_, i) => this.#readShard(stripe, i)),
    );
    this.stats.shardReads += k;
    let shards = reads.map((r) => r.data);
    if (reads.some((r) => r.problem)) {
      // Read only the parity the code says it needs (LRC: the local group's), then everything.
      const lostData = reads.flatMap((r, i) => (r.problem ? [i] : []));
      const unread: ShardRead = { data: null, badBlocks: [], problem: "missing" };
      const planned = new Set(this.#codec.readPlan(lostData));
      const all: ShardRead[] = [...reads, ...new Array<ShardRead>(n - k).fill(unread)];
      const readParity = async (want: (i: number) => boolean) => {
        const idx = Array.from({ length: n - k }, (_, j) => k + j).filter(
          (i) => all[i] === unread && want(i),
        );
        const got = await Promise.all(idx.map((i) => this.#readShard(stripe, i)));
        idx.forEach((i, j) => (all[i] = got[j]));
        this.stats.shardReads += idx.length;
      };
      await readParity((i) => planned.has(i));
      try {
        shards = this.#recover(stripe, all, true);
      } catch {
        await readParity(() => true);
        shards = this.#recover(stripe, all, true);
      }
      this.stats.degradedReads++;
      this.deps.metrics?.ecDegradedReads.inc();
    }
    const out = new Uint8Array(stripe.dataBytes);
    for (let i = 0, off = 0; i < k && off < out.length; i++, off += stripe.shardSize) {
      out.set(
        (shards[i] as Uint8Array).subarray(0, Math.min(stripe.shardSize, out.length - off)),
        off,
      );
    }
    this.#lastStripe = { id, data: out };
    return out;
  }

  /** Scrubs one stripe; returns bytes read. */
  async #scrubStripe(stripe: Stripe, opts: ScrubOptions, report: ScrubReport): Promise<number> {
    const n = this.#codec.totalShards;
    const reads = await Promise.all(
      Array.from({ length: n }, (_, i) => this.#readShard(stripe, i)),
    );
    const bytes = reads.reduce((s, r) => s + (r.data?.length ?? 0), 0);
    const slots: ShardSlot[] = reads.map((r) => r.data);
    const bad: { shard: number; kind: ScrubFinding["kind"] }[] = reads.flatMap((r, i) =>
      r.problem ? [{ shard: i, kind: r.problem }] : []
    );
    if (bad.length === 0 && (opts.parity ?? true) && !this.#codec.verify(slots as Uint8Array[])) {
      // Checksums pass but parity disagrees: find the one shard whose exclusion makes it agree.
      const culprit = this.#locateParityCulprit(slots as Uint8Array[]);
      bad.push({ shard: culprit ?? -1, kind: "parity" });
    }
    stripe.lastScrub = this.deps.clock.now();
    if (bad.length === 0) {
      stripe.health = "healthy";
      return bytes;
    }
    for (const b of bad) this.deps.metrics?.ecScrubErrors.inc({ kind: b.kind });
    let healed: Uint8Array[] | null = null;
    if (!bad.some((b) => b.shard < 0)) {
      try {
        if (bad[0].kind === "parity") {
          const trial: ShardSlot[] = slots.slice();
          trial[bad[0].shard] = null;
          this.#codec.reconstruct(trial);
          healed = trial as Uint8Array[];
        } else healed = this.#recover(stripe, reads);
      } catch (e) {
        this.deps.logger.error("stripe cannot be repaired", { stripe: stripe.id, error: e });
      }
    }
    if (!healed) {
      stripe.health = bad.some((b) => b.shard < 0) ? "degraded" : "lost";
      report.unrecoverable.push(stripe.id);
      for (const b of bad) {
        report.findings.push({ stripe: stripe.id, shard: b.shard, kind: b.kind, repaired: false });
      }
      return bytes;
    }
    if (!opts.repair) {
      stripe.health = "degraded";
      for (const b of bad) {
        report.findings.push({ stripe: stripe.id, shard: b.shard, kind: b.kind, repaired: false });
      }
      return bytes;
    }
    let allRepaired = true;
    stripe.generation++;
    for (const b of bad) {
      const target = await this.#repairTarget(stripe, b.shard, opts.reprovision ?? false);
      let repaired = false;
      if (target) {
        const old = stripe.placement[b.shard];
        stripe.placement[b.shard] = target;
        try {
          await this.#writeShard(stripe, b.shard, healed[b.shard]);
          repaired = true;
          if (old !== target) {
            await this.#targets.get(old)!.remove(shardFileName(stripe.id, b.shard)).catch(() => {});
          }
          this.stats.reconstructedShards++;
          this.deps.metrics?.ecReconstructedShards.inc();
        } catch (e) {
          stripe.placement[b.shard] = old;
          this.deps.logger.warn("shard rewrite failed", {
            stripe: stripe.id,
            shard: b.shard,
            error: e,
          });
        }
      }
      allRepaired &&= repaired;
      report.findings.push({
        stripe: stripe.id,
        shard: b.shard,
        kind: b.kind,
        repaired,
        target: repaired ? target! : undefined,
      });
    }
    stripe.health = allRepaired ? "healthy" : "degraded";
    return bytes;
  }

  /** Where a rebuilt shard goes: its own target if up, else a spare not used by the stripe. */
  async #repairTarget(stripe: Stripe, shard: number, reprovision: boolean): Promise<string | null> {
    const own = this.#targets.get(stripe.placement[shard])!;
    if (await own.healthy()) return own.id;
    const used = new Set(stripe.placement);
    for (const t of this.manifest.targets) {
      if (!used.has(t.id) && (await this.#targets.get(t.id)!.healthy())) return t.id;
    }
    if (reprovision) {
      await own.provision();
      return own.id;
    }
    return null;
  }

  #locateParityCulprit(shards: Uint8Array[]): number | null {
    for (let i = 0; i < shards.length; i++) {
      const trial: ShardSlot[] = shards.slice();
      trial[i] = null;
      if (!this.#codec.canRecover([i])) continue;
      this.#codec.reconstruct(trial);
      const fixed = trial as Uint8Array[];
      if (this.#codec.verify(fixed) && !bytesEqual(fixed[i], shards[i])) return i;
    }
    return null;
  }

  /**
   * Makes the in-memory manifest durable: new shards are flushed first, the manifest replaced,
   * and only then are stripes no object references any more (overwritten) deleted, so a crash
   * at any point leaves the saved manifest pointing at shards that exist.
   */
  async #commitManifest(): Promise<void> {
    const live = new Set<number>();
    for (const o of Object.values(this.manifest.objects)) {
      for (const e of o.extents) live.add(e.stripe);
    }
    const dead = Object.values(this.manifest.stripes).filter((s) => !live.has(s.id));
    for (const s of dead) delete this.manifest.stripes[s.id];
    await this.#flushTargets();
    await saveManifest(`${this.dir}/${MANIFEST}`, this.manifest);
    for (const s of dead) {
      await Promise.all(
        s.placement.map((t, i) =>
          this.#targets.get(t)!.remove(shardFileName(s.id, i)).catch(() => {})
        ),
      );
      if (this.#lastStripe?.id === s.id) this.#lastStripe = null;
    }
  }
}

/** Journal payload of a write: name length u16 | name | data. */
export function encodeWrite(name: string, data: Uint8Array): Uint8Array {
  const n = new TextEncoder().encode(name);
  if (n.length > 0xffff) throw new RangeError("object name too long");
  const out = new Uint8Array(2 + n.length + data.length);
  new DataView(out.buffer).setUint16(0, n.length, true);
  out.set(n, 2);
  out.set(data, 2 + n.length);
  return out;
}

/** Inverse of encodeWrite. */
export function decodeWrite(p: Uint8Array): { name: string; data: Uint8Array } {
  const len = new DataView(p.buffer, p.byteOffset, p.byteLength).getUint16(0, true);
  return { name: new TextDecoder().decode(p.subarray(2, 2 + len)), data: p.slice(2 + len) };
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
