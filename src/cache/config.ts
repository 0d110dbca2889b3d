/**
 * Cache configuration (validated with zod where it enters from flags or files) and the
 * one function that assembles L1 + L2 + L3 into a TieredCache from it.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { L2Cache } from "./l2.ts";
import { compressedBackend, DirectoryBackend, type L3Backend } from "./l3.ts";
import { TieredCache } from "./tiered.ts";

/** Validated cache settings. */
export const CacheConfigSchema = z.object({
  /** L1 byte bound. */
  l1MaxBytes: z.number().int().min(1024).default(256 << 20),
  /** L1 shard count (power of two). */
  l1Shards: z.number().int().positive().refine((n) => (n & (n - 1)) === 0, {
    message: "must be a power of two",
  }).default(1024),
  l1Policy: z.enum(["s3fifo", "wtinylfu", "lru"]).default("s3fifo"),
  /** L2 file; omit to run without L2. */
  l2Path: z.string().min(1).optional(),
  l2SizeBytes: z.number().int().positive().default(1 << 30),
  l2RegionBytes: z.number().int().positive().default(1 << 20),
  l2Compress: z.boolean().default(true),
  /** Directory of the plain L3 adapter (used when no other backend is passed in). */
  l3Dir: z.string().min(1).optional(),
  l3Compress: z.boolean().default(true),
  writeMode: z.enum(["through", "back"]).default("through"),
  /** Write-back journal (required with writeMode "back"). */
  journalPath: z.string().min(1).optional(),
}).refine((c) => c.writeMode !== "back" || c.journalPath !== undefined, {
  message: "writeMode 'back' needs journalPath",
  path: ["journalPath"],
});

/** Cache settings after validation and defaults. */
export type CacheConfig = z.infer<typeof CacheConfigSchema>;

/** What the cache needs from the composition root. */
export interface CacheDeps {
  metrics?: Metrics;
  logger?: Logger;
  clock?: Clock;
  /** The cold backend (e.g. the erasure-coded store); defaults to the directory adapter. */
  l3?: L3Backend;
}

/** An assembled cache and the way to shut it down. */
export interface BuiltCache {
  cache: TieredCache;
  l2: L2Cache | undefined;
  /** Stops the cache and closes L2 (write-back leftovers stay in the journal). */
  close(): void;
}

/** Validates `raw` and builds the tiered cache; throws zod or L2 errors with clear messages. */
export function buildTieredCache(raw: unknown, deps: CacheDeps = {}): BuiltCache {
  const cfg = CacheConfigSchema.parse(raw);
  let l3 = deps.l3;
  if (!l3) {
    if (!cfg.l3Dir) throw new TypeError("cache: l3Dir is required when no L3 backend is given");
    l3 = new DirectoryBackend({ root: cfg.l3Dir });
  }
  if (cfg.l3Compress) l3 = compressedBackend(l3);
  const l2 = cfg.l2Path
    ? L2Cache.open({
      path: cfg.l2Path,
      sizeBytes: cfg.l2SizeBytes,
      regionBytes: cfg.l2RegionBytes,
      compress: cfg.l2Compress,
    })
    : undefined;
  try {
    const cache = new TieredCache({
      l1MaxBytes: cfg.l1MaxBytes,
      l1Shards: cfg.l1Shards,
      l1Policy: cfg.l1Policy,
      l2,
      l3,
      metrics: deps.metrics,
      logger: deps.logger,
      clock: deps.clock,
      writeMode: cfg.writeMode,
      journalPath: cfg.journalPath,
    });
    return {
      cache,
      l2,
      close: () => {
        cache.close();
        l2?.close();
      },
    };
  } catch (e) {
    l2?.close();
    throw e;
  }
}
