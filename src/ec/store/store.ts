/**
 * The erasure-coded stripe store (facade): objects are cut into stripes of `stripeSizeBytes`,
 * each stripe into k data shards plus parity, one shard per target. The manifest is the source
 * of truth; small writes go through the write-ahead journal and are destaged into full stripes.
 * The work is split as MinIO splits it: encode.ts (put, stripes), decode.ts (reads, degraded
 * reads), heal.ts (scrub, repair), destage.ts (journal → stripes), shard_format.ts (bitrot).
 */
import { StoreCore } from "./core.ts";
import { objectProblems, readObject } from "./decode.ts";
import { destageWrites, pendingFromReplay, type PendingWrite } from "./destage.ts";
import { putObject } from "./encode.ts";
import { recordScrub, scrubPass } from "./heal.ts";
import { IntegrityError } from "./integrity.ts";
import { Journal, type JournalDamage } from "./journal.ts";
import {
  type DecodedManifest,
  FileManifestStore,
  type Manifest,
  MANIFEST_VERSION,
  type ManifestStore,
  type StoredObject,
  type Stripe,
  type StripeHealth,
  type TargetEntry,
} from "./manifest.ts";
import { DirectoryTarget, type ShardTarget } from "./target.ts";
import type {
  EcStoreConfig,
  EcStoreDeps,
  EcStoreOptions,
  EcStoreStats,
  JournalDamageReport,
  Progress,
  PutOptions,
  ReadOptions,
  ReconstructionJob,
  ScrubOptions,
  ScrubReport,
  StoreStat,
} from "./types.ts";
import { createStripeCodec } from "./codec.ts";
import type { CodeParams } from "./codec.ts";

// The facade's callers need only this module: names, errors and types of the parts.
export { parseShardFileName, shardFileName } from "./core.ts";
export { IntegrityError } from "./integrity.ts";
export type * from "./types.ts";

/** Where a target's directory is: an absolute path as is, a relative one under the store. */
export function targetDir(storeDir: string, path: string): string {
  return path.startsWith("/") ? path : `${storeDir}/${path}`;
}

const MANIFEST = "manifest.json";
const JOURNAL = "journal.log";

/** How a store is laid out (directory stores here; device stores in device_store.ts). */
export interface Layout {
  manifests: ManifestStore;
  /** Journal file (absent: the store takes puts only). */
  journalPath?: string;
  /** Opens target entry t (index i in the manifest's list). */
  openTarget: (t: TargetEntry, i: number, m: Manifest) => ShardTarget;
  /** Device stores: stripe slots per device. */
  slots?: number;
}

/** The store. Operations are serialised; one process owns a store. */
export class EcStore {
  readonly #core: StoreCore;
  readonly #journal: Journal | null;
  readonly #pending: Map<string, PendingWrite>;
  readonly #damage: JournalDamage[];
  readonly #opts: Required<Omit<EcStoreOptions, "readOnly" | "allowUntrustedManifest">>;
  readonly #manifestProblem?: string;

  private constructor(
    /** The store's directory (undefined for a store that lives on its devices only). */
    readonly dir: string | undefined,
    core: StoreCore,
    journal: Journal | null,
    replay: Replay,
    opts: EcStoreOptions,
    manifestProblem?: string,
  ) {
    this.#core = core;
    this.#journal = journal;
    this.#pending = replay.pending;
    this.#damage = replay.damage;
    this.#manifestProblem = manifestProblem;
    this.#opts = {
      destageThresholdPercent: opts.destageThresholdPercent ?? 50,
      journalCapacityBytes: opts.journalCapacityBytes ?? 64 << 20,
      destageIntervalMs: opts.destageIntervalMs ?? 30_000,
    };
  }

  /** Creates a new store in `dir` (which must not hold one yet) and opens it. */
  static async create(
    dir: string,
    config: EcStoreConfig,
    deps: EcStoreDeps,
    opts: EcStoreOptions = {},
  ): Promise<EcStore> {
    await Deno.mkdir(dir, { recursive: true });
    const manifests = new FileManifestStore(`${dir}/${MANIFEST}`);
    if (await manifests.load().catch(() => true)) {
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
    for (const t of targets) await Deno.mkdir(targetDir(dir, t.path), { recursive: true });
    await manifests.save(
      newManifest(config.code, targets, config, {
        ...(config.placementRun && config.placementRun > 1
          ? { placementRun: config.placementRun }
          : {}),
      }),
    );
    return await EcStore.open(dir, deps, opts);
  }

  /** Opens an existing store and replays its journal (idempotently). */
  static async open(dir: string, deps: EcStoreDeps, opts: EcStoreOptions = {}): Promise<EcStore> {
    const open = deps.openTarget ??
      ((id: string, path: string) => new DirectoryTarget(id, targetDir(dir, path)));
    return await EcStore.openLayout(
      dir,
      {
        manifests: new FileManifestStore(`${dir}/${MANIFEST}`),
        journalPath: `${dir}/${JOURNAL}`,
        openTarget: (t: TargetEntry) => open(t.id, t.path),
      },
      deps,
      opts,
    );
  }

  /** Opens the store in dir, creating it with config when absent. */
  static async openOrCreate(
    dir: string,
    config: EcStoreConfig,
    deps: EcStoreDeps,
    opts: EcStoreOptions = {},
  ): Promise<EcStore> {
    if (await new FileManifestStore(`${dir}/${MANIFEST}`).load()) {
      return await EcStore.open(dir, deps, opts);
    }
    return await EcStore.create(dir, config, deps, opts);
  }

  /** Opens a store from its layout (directory or devices). */
  static async openLayout(
    dir: string | undefined,
    layout: Layout,
    deps: EcStoreDeps,
    opts: EcStoreOptions,
  ): Promise<EcStore> {
    const readOnly = opts.readOnly ?? false;
    const decoded = await layout.manifests.load();
    if (!decoded) throw new Error(`no store at ${layout.manifests.where} (no manifest)`);
    const problem = checkTrust(decoded, readOnly, opts.allowUntrustedManifest ?? false);
    const manifest = decoded.manifest;
    const core = new StoreCore(
      manifest,
      layout.manifests,
      deps,
      manifest.targets.map((t, i) => layout.openTarget(t, i, manifest)),
      readOnly || problem !== undefined,
      layout.slots,
    );
    let journal: Journal | null = null;
    let replay: Replay = { pending: new Map(), damage: [] };
    try {
      if (layout.journalPath) {
        ({ journal, replay } = await replayJournal(layout.journalPath, manifest, core));
      }
    } catch (e) {
      for (const t of core.targets.values()) t.close?.();
      throw e;
    }
    deps.logger.debug("ec store opened", {
      at: layout.manifests.where,
      stripes: Object.keys(manifest.stripes).length,
      replayed: core.stats.journalRecordsReplayed,
    });
    return new EcStore(dir, core, journal, replay, opts, problem);
  }

  /** Counters since open. */
  get stats(): EcStoreStats {
    return this.#core.stats;
  }

  /** The code parameters. */
  get code(): CodeParams {
    return this.#core.manifest.code;
  }

  /** The store's UUID (in every shard header). */
  get storeId(): string {
    return this.#core.manifest.storeId;
  }

  /** Damaged journal records replay stepped over (torn tails included). */
  get journalDamage(): readonly JournalDamage[] {
    return this.#damage;
  }

  /** The damaged journal records (not torn tails) as reported: acknowledged writes lost. */
  journalProblems(): JournalDamageReport[] {
    return this.#damage.filter((d) => !d.tail).map(damageReport);
  }

  /** Set when the store was opened although its manifest fails its checksum (read-only). */
  get manifestProblem(): string | undefined {
    return this.#manifestProblem;
  }

  /** Object names (destaged and pending). */
  list(): string[] {
    const names = [...Object.keys(this.#core.manifest.objects), ...this.#pending.keys()];
    return [...new Set(names)].sort();
  }

  /** The manifest's stripes (read-only view for status reporting, e.g. groupStripes). */
  stripes(): readonly Stripe[] {
    return Object.values(this.#core.manifest.stripes);
  }

  /** The shard targets as the manifest lists them (id, path, kind). */
  targets(): readonly TargetEntry[] {
    return this.#core.manifest.targets;
  }

  /** Metadata of a destaged object, if any. */
  objectInfo(name: string): StoredObject | undefined {
    return this.#core.manifest.objects[name];
  }

  /**
   * Stores a (large) object straight into full stripes, bypassing the journal; its SHA-256 is
   * recorded for every later read. On failure (ENOSPC: a NoSpaceError naming the target) the
   * store is left as it was.
   */
  put(
    name: string,
    source: Uint8Array | AsyncIterable<Uint8Array>,
    opts: PutOptions = {},
  ): Promise<StoredObject> {
    return this.#core.exclusive(async () => {
      this.#core.assertWritable("put");
      // A pending journal write of this name would win on replay after a crash: destage it first
      // so the journal holds nothing older than this put.
      if (this.#pending.has(name)) await this.#destage();
      return await putObject(this.#core, name, source, opts);
    });
  }

  /**
   * A small write: appended to the journal and acknowledged once fdatasync'd; readable at once;
   * destaged into full stripes when the journal passes its threshold.
   */
  write(name: string, data: Uint8Array): Promise<number> {
    return this.#core.exclusive(async () => {
      this.#core.assertWritable("write");
      const journal = this.#journal;
      if (!journal) throw new Error("write: this store has no journal (a device store takes put)");
      const key = new TextEncoder().encode(name);
      const cap = this.#opts.journalCapacityBytes;
      if (journal.size + Journal.recordBytes(key.length, data.length) > cap && this.#pending.size) {
        await this.#destage();
      }
      const seq = await journal.append(key, data);
      this.#pending.set(name, { seq, data: data.slice() });
      if (journal.size >= (cap * this.#opts.destageThresholdPercent) / 100) await this.#destage();
      return seq;
    });
  }

  /**
   * Removes an object; its stripes (no longer referenced) are deleted once the manifest no
   * longer names them. A pending journal write of it is destaged first, so a replay after a
   * crash cannot bring it back. Absent names are fine.
   */
  delete(name: string): Promise<boolean> {
    return this.#core.exclusive(async () => {
      this.#core.assertWritable("delete");
      if (this.#pending.has(name)) await this.#destage();
      if (!this.#core.manifest.objects[name]) return false;
      delete this.#core.manifest.objects[name];
      await this.#core.commitManifest();
      return true;
    });
  }

  /** Destages every pending journal write into stripes now; returns stripes written. */
  destage(): Promise<number> {
    return this.#core.exclusive(() => this.#destage());
  }

  /** Destages every `destageIntervalMs` on the injected clock until the signal aborts. */
  async runDestager(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.#core.deps.clock.sleep(this.#opts.destageIntervalMs, signal);
      } catch {
        return;
      }
      if (this.#pending.size > 0) await this.destage();
    }
  }

  /**
   * Streams an object's bytes, one verified stripe at a time, rebuilding damaged stripes on the
   * fly; the last piece comes only once the whole object's SHA-256 matched. Throws
   * IntegrityError instead of yielding bytes that fail a check.
   */
  async *read(name: string, opts: ReadOptions = {}): AsyncGenerator<Uint8Array> {
    const pending = this.#pending.get(name);
    if (pending) {
      if ("damaged" in pending) {
        throw new IntegrityError("damaged-write", `object ${name}: ${pending.damaged}`);
      }
      const n = pending.data.length;
      opts.onProgress?.({ done: 1, total: 1, bytes: n, totalBytes: n });
      yield pending.data.slice();
      return;
    }
    const obj = this.#core.manifest.objects[name];
    if (!obj) throw new Deno.errors.NotFound(`no object named ${name}`);
    yield* readObject(this.#core, name, obj, opts);
  }

  /** An object's bytes in one array (verified like read). */
  async get(name: string, opts: ReadOptions = {}): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const p of this.read(name, opts)) parts.push(p);
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  /**
   * Reads every stripe, checks block checksums, shard identities, parity and data hashes, and
   * checks every object's extents against the stripes; with `repair` rewrites damaged shards
   * onto their target, or a spare target when theirs is down, and records the scrub. A
   * read-only store only reports (repair throws).
   */
  async scrub(opts: ScrubOptions): Promise<ScrubReport> {
    const core = this.#core;
    if (opts.repair) core.assertWritable("repair");
    const report: ScrubReport = {
      stripes: 0,
      bytesRead: 0,
      findings: [],
      unrecoverable: [],
      extentProblems: await core.exclusive(() => Promise.resolve(this.#auditObjects())),
      ...(this.#manifestProblem ? { manifestProblem: this.#manifestProblem } : {}),
      journalProblems: this.journalProblems(),
    };
    await scrubPass(core, opts, report);
    return await core.exclusive(async () => {
      core.lastStripe = null;
      if (!core.readOnly) await recordScrub(core, report);
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
      total: Object.keys(this.#core.manifest.stripes).length,
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
    const m = this.#core.manifest;
    const stripes: Record<StripeHealth, number> = { healthy: 0, degraded: 0, lost: 0 };
    const perTarget = new Map<string, number>();
    let stored = 0;
    for (const s of Object.values(m.stripes)) {
      stripes[s.health]++;
      stored += storedBytes(s);
      for (const t of s.placement) perTarget.set(t, (perTarget.get(t) ?? 0) + 1);
    }
    const targets = [];
    for (const t of m.targets) {
      const target = this.#core.target(t.id);
      const healthy = await target.healthy();
      const problem = healthy ? undefined : target.problem ?? undefined;
      targets.push({
        id: t.id,
        path: t.path,
        healthy,
        shards: perTarget.get(t.id) ?? 0,
        ...(problem ? { problem } : {}),
      });
    }
    const pendingBytes = [...this.#pending.values()].reduce(
      (n, p) => n + ("data" in p ? p.data.length : 0),
      0,
    );
    return {
      storeId: m.storeId,
      code: m.code,
      kernel: this.#core.deps.kernel.name,
      stripeSizeBytes: m.stripeSizeBytes,
      objects: this.list().length,
      logicalBytes: Object.values(m.objects).reduce((n, o) => n + o.size, 0) + pendingBytes,
      storedBytes: stored,
      stripes,
      targets,
      journal: {
        pendingWrites: [...this.#pending.values()].filter((w) => "data" in w).length,
        bytes: this.#journal?.size ?? 0,
        destagedSeq: m.journal.destagedSeq,
        damaged: this.journalProblems(),
      },
      lastScrub: m.lastScrub,
    };
  }

  /**
   * Puts a new target in the place of target `id` (made by `make` for its shard index), saves
   * the manifest naming it, and returns it; its shards are rebuilt by the next repair.
   */
  replaceTarget(
    id: string,
    path: string,
    make: (shardIndex: number, m: Manifest) => Promise<ShardTarget>,
  ): Promise<ShardTarget> {
    return this.#core.exclusive(async () => {
      const core = this.#core;
      core.assertWritable("replacing a target");
      const i = core.manifest.targets.findIndex((t) => t.id === id);
      if (i < 0) throw new Error(`no target ${id} in this store`);
      const t = await make(i, core.manifest);
      core.targets.get(id)?.close?.();
      core.targets.set(id, t);
      core.manifest.targets[i] = { ...core.manifest.targets[i], path };
      core.lastStripe = null;
      await core.commitManifest();
      return t;
    });
  }

  /**
   * Forgets the decoded stripe kept in memory and drops the targets' OS caches (devices), so a
   * following verify (scrub, get) reads what the targets hold, not what this process wrote.
   */
  dropCaches(): Promise<void> {
    return this.#core.exclusive(async () => {
      this.#core.lastStripe = null;
      for (const t of this.#core.targets.values()) await t.dropCache?.();
    });
  }

  /** Closes the journal and the targets. */
  close(): void {
    this.#journal?.close();
    for (const t of this.#core.targets.values()) t.close?.();
  }

  async #destage(): Promise<number> {
    if (this.#pending.size === 0) return 0;
    this.#core.assertWritable("destage");
    return await destageWrites(this.#core, this.#pending, this.#journal!);
  }

  #auditObjects(): ScrubReport["extentProblems"] {
    return Object.entries(this.#core.manifest.objects).flatMap(([object, obj]) =>
      objectProblems(this.#core, obj).map((p) => ({ object, ...p }))
    );
  }
}

/** What a journal replay leaves: pending writes by name and the damage stepped over. */
interface Replay {
  pending: Map<string, PendingWrite>;
  damage: JournalDamage[];
}

/** Opens and replays the journal (read-only for a read-only store), logging damage. */
async function replayJournal(
  path: string,
  manifest: Manifest,
  core: StoreCore,
): Promise<{ journal: Journal; replay: Replay }> {
  const destaged = manifest.journal.destagedSeq;
  const opened = await Journal.open(path, core.hasher, {
    minNextSeq: destaged + 1,
    readOnly: core.readOnly,
  });
  core.stats.journalRecordsReplayed = opened.records.filter((r) => r.seq > destaged).length;
  logDamage(core.deps, path, opened.damage);
  const pending = pendingFromReplay(opened.records, opened.damage, destaged);
  return { journal: opened.journal, replay: { pending, damage: opened.damage } };
}

/** A fresh manifest for a new store. */
export function newManifest(
  code: CodeParams,
  targets: TargetEntry[],
  config: Pick<EcStoreConfig, "stripeSizeBytes" | "blockSize">,
  extra: Partial<Manifest> = {},
): Manifest {
  if (new Set(targets.map((t) => t.id)).size !== targets.length) {
    throw new Error("target ids must be distinct");
  }
  return {
    version: MANIFEST_VERSION,
    storeId: crypto.randomUUID(),
    code,
    stripeSizeBytes: config.stripeSizeBytes ?? 4 << 20,
    blockSize: config.blockSize ?? 64 << 10,
    targets,
    stripes: {},
    objects: {},
    nextStripeId: 0,
    nextWriteId: 1,
    journal: { destagedSeq: 0 },
    ...extra,
  };
}

/** Bytes a stripe's shards take on their targets. */
function storedBytes(s: Stripe): number {
  return s.shardSize * s.placement.length;
}

/** The manifest problem to report, or throws when an untrusted manifest may not be opened. */
function checkTrust(d: DecodedManifest, readOnly: boolean, allow: boolean): string | undefined {
  if (!d.checksumError) return undefined;
  if (!readOnly || !allow) throw d.checksumError;
  return d.checksumError.message;
}

function damageReport(d: JournalDamage): JournalDamageReport {
  return {
    offset: d.offset,
    length: d.length,
    ...(d.seq !== undefined ? { seq: d.seq } : {}),
    ...(d.key ? { name: new TextDecoder().decode(d.key) } : {}),
    reason: d.reason,
  };
}

function logDamage(deps: EcStoreDeps, path: string, damage: readonly JournalDamage[]): void {
  for (const d of damage) {
    const fields = { journal: path, offset: d.offset, bytes: d.length, reason: d.reason };
    if (d.tail) deps.logger.debug("journal: torn tail ignored", fields);
    else {
      deps.logger.error("journal: damaged record stepped over; later records kept", {
        ...fields,
        ...(d.seq !== undefined ? { seq: d.seq } : {}),
      });
    }
  }
}
