/** The public types of the stripe store, shared by its facade (store.ts) and its parts. */
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../observability/log.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { Kernel } from "../kernels/kernel.ts";
import type { BlockHasher } from "./checksum.ts";
import type { CodeParams } from "./codec.ts";
import type { Manifest, StripeHealth } from "./manifest.ts";
import type { ShardTarget } from "./target.ts";

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

/** Run-time settings (not persisted). */
export interface EcStoreOptions {
  /** Journal size at which destaging starts, as a share of journalCapacityBytes (default 50). */
  destageThresholdPercent?: number;
  /** Journal capacity (default 64 MiB). */
  journalCapacityBytes?: number;
  /** How often runDestager destages pending writes (default 30 s). */
  destageIntervalMs?: number;
  /**
   * Write nothing: the journal is replayed without being cut or created, the manifest is never
   * saved, and every mutating call throws (get, stat and verify-only scrubs work).
   */
  readOnly?: boolean;
  /**
   * Open even when the manifest fails its checksum (read-only stores only), so `ec verify` can
   * report what it says; reads still check every extent, stripe and object.
   */
  allowUntrustedManifest?: boolean;
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
  /** Told of every unusable shard a read stepped around (a degraded read still succeeds). */
  onShardProblem?: (p: ShardProblemNote) => void;
}

/** A shard a read could not use, and why. */
export interface ShardProblemNote {
  stripe: number;
  shard: number;
  target: string;
  kind: "missing" | "checksum" | "identity";
  detail?: string;
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

/** Progress of a long operation: stripes done of total, and bytes done of totalBytes. */
export interface Progress {
  done: number;
  total: number;
  bytes: number;
  /** Bytes the whole operation will handle, when known (0 when not). */
  totalBytes?: number;
}

/** Kinds of problems a scrub finds in a shard. */
export type FindingKind = "missing" | "checksum" | "parity" | "identity" | "data";

/** One problem found by a scrub. */
export interface ScrubFinding {
  stripe: number;
  shard: number;
  kind: FindingKind;
  repaired: boolean;
  /** Target the repaired shard now lives on. */
  target?: string;
  /** What exactly is wrong (e.g. whose shard a foreign one is). */
  detail?: string;
}

/** An object whose manifest entry does not match the stripes it names. */
export interface ExtentProblem {
  object: string;
  /** Index of the extent in the object's list (-1: the object as a whole). */
  extent: number;
  problem: string;
}

/** What a scrub or repair did. */
export interface ScrubReport {
  stripes: number;
  bytesRead: number;
  findings: ScrubFinding[];
  unrecoverable: number[];
  /** Objects whose extents do not match their stripes (swapped or edited extents). */
  extentProblems: ExtentProblem[];
  /** Set when the manifest fails its own checksum (the scrub then only reports). */
  manifestProblem?: string;
  /** Damaged journal records found at open (acknowledged writes lost; later ones kept). */
  journalProblems: JournalDamageReport[];
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

/** A damaged journal record as `stat` reports it. */
export interface JournalDamageReport {
  offset: number;
  length: number;
  seq?: number;
  /** Object the record wrote, when its head was intact. */
  name?: string;
  reason: string;
}

/** A summary for `ec stat`. */
export interface StoreStat {
  storeId: string;
  code: CodeParams;
  kernel: string;
  stripeSizeBytes: number;
  objects: number;
  logicalBytes: number;
  storedBytes: number;
  stripes: Record<StripeHealth, number>;
  /** Each target; a down one says why when it knows (e.g. a device of another store). */
  targets: { id: string; path: string; healthy: boolean; shards: number; problem?: string }[];
  journal: {
    /** Writes the journal holds and the stripes not yet (lost ones are in `damaged`). */
    pendingWrites: number;
    bytes: number;
    destagedSeq: number;
    /** Damaged records replay stepped over (acknowledged records after them were kept). */
    damaged: JournalDamageReport[];
  };
  lastScrub?: Manifest["lastScrub"];
}

/** Options of put. */
export interface PutOptions {
  /** Called after each stripe is durable on its targets. */
  onProgress?: (p: Progress) => void;
  /** Size of the source, when known, reported as totalBytes. */
  totalBytes?: number;
}

/** Options of read/get. */
export interface ReadOptions {
  onProgress?: (p: Progress) => void;
}
