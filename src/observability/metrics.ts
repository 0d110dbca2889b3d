/**
 * Every metric family CoucheStor exposes, in one registry. Modules receive the
 * `Metrics` object (never a global) and only record into it.
 */
import client from "prom-client";
import { VERSION } from "../version.ts";

/** The product's metric families, bound to one registry. */
export interface Metrics {
  registry: client.Registry;
  buildInfo: client.Gauge<"version" | "codec_kernel">;
  reconcilesTotal: client.Counter<"controller" | "result">;
  reconcileDuration: client.Histogram<"controller">;
  migrationsTotal: client.Counter<"from" | "to" | "result">;
  activeMigrations: client.Gauge<string>;
  volumesByTier: client.Gauge<"policy" | "tier">;
  metricsQueryFailures: client.Counter<"policy" | "reason">;
  ecStripes: client.Gauge<"policy" | "state">;
  ecBytes: client.Gauge<"policy" | "kind">;
  ecDegradedReads: client.Counter<string>;
  ecReconstructedShards: client.Counter<string>;
  ecScrubErrors: client.Counter<"kind">;
  cacheHits: client.Counter<"tier">;
  cacheMisses: client.Counter<"tier">;
  cacheEvictions: client.Counter<"tier">;
  cachePromotions: client.Counter<"from" | "to">;
  cacheDemotions: client.Counter<"from" | "to">;
  cacheBytes: client.Gauge<"tier">;
  cacheHitRatio: client.Gauge<"tier">;
  cacheGetSeconds: client.Histogram<"tier">;
  deviceInfo: client.Gauge<"node" | "device" | "transport" | "tier" | "model">;
  /** Run before the cache families are read on a scrape (caches export plain counters here). */
  cacheCollectors: Set<() => void>;
  deviceHealthy: client.Gauge<"node" | "device" | "tier">;
  deviceTemperature: client.Gauge<"node" | "device">;
  /** Volumes of a policy by the reason of the last pass (tiering/reasons.ts VOLUME_REASONS). */
  volumeDecisions: client.Gauge<"policy" | "reason">;
  /** Finished moves by result (migration/history.ts resultLabel), in seconds. */
  migrationDuration: client.Histogram<"result">;
  /** Deadline of each move in flight (unix seconds); removed when the move finishes. */
  migrationDeadline: client.Gauge<"policy" | "volume">;
  /** How long CoucheStor's move cordon stayed on the other nodes, per replica step. */
  cordonWindow: client.Histogram<never>;
  /** 1 while this process leads (acts), 0 while it waits for the Lease. */
  leader: client.Gauge<"identity">;
}

/** Creates a fresh registry with every family registered (and default process metrics). */
export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new client.Registry();
  if (opts.defaultMetrics ?? true) client.collectDefaultMetrics({ register: registry });
  const r = [registry];
  const cacheCollectors = new Set<() => void>();
  const m: Metrics = {
    registry,
    buildInfo: new client.Gauge({
      name: "couchestor_build_info",
      help: "Build information; the value is always 1.",
      labelNames: ["version", "codec_kernel"] as const,
      registers: r,
    }),
    reconcilesTotal: new client.Counter({
      name: "couchestor_reconciles_total",
      help: "Reconciliations by controller and result (success, error, requeue).",
      labelNames: ["controller", "result"] as const,
      registers: r,
    }),
    reconcileDuration: new client.Histogram({
      name: "couchestor_reconcile_duration_seconds",
      help: "Time spent in one reconcile.",
      labelNames: ["controller"] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
      registers: r,
    }),
    migrationsTotal: new client.Counter({
      name: "couchestor_migrations_total",
      help: "Volume migrations by source tier, target tier and result.",
      labelNames: ["from", "to", "result"] as const,
      registers: r,
    }),
    activeMigrations: new client.Gauge({
      name: "couchestor_active_migrations",
      help: "Migrations in flight.",
      registers: r,
    }),
    volumesByTier: new client.Gauge({
      name: "couchestor_volumes",
      help: "Volumes watched by a StoragePolicy, by current tier.",
      labelNames: ["policy", "tier"] as const,
      registers: r,
    }),
    metricsQueryFailures: new client.Counter({
      name: "couchestor_metrics_query_failures_total",
      help: "IOPS queries that failed; no tiering decision is made when one fails.",
      labelNames: ["policy", "reason"] as const,
      registers: r,
    }),
    ecStripes: new client.Gauge({
      name: "couchestor_ec_stripes",
      help: "Erasure-coded stripes by policy and state.",
      labelNames: ["policy", "state"] as const,
      registers: r,
    }),
    ecBytes: new client.Gauge({
      name: "couchestor_ec_bytes",
      help: "Bytes under erasure coding: kind=logical (user data) or stored (data + parity).",
      labelNames: ["policy", "kind"] as const,
      registers: r,
    }),
    ecDegradedReads: new client.Counter({
      name: "couchestor_ec_degraded_reads_total",
      help: "Stripe reads that had to rebuild a missing or corrupt shard on the fly.",
      registers: r,
    }),
    ecReconstructedShards: new client.Counter({
      name: "couchestor_ec_reconstructed_shards_total",
      help: "Shards rebuilt in the background onto a healthy target.",
      registers: r,
    }),
    ecScrubErrors: new client.Counter({
      name: "couchestor_ec_scrub_errors_total",
      help: "Scrub problems by kind: missing, checksum, parity, identity (foreign), data.",
      labelNames: ["kind"] as const,
      registers: r,
    }),
    cacheHits: new client.Counter({
      name: "couchestor_cache_hits_total",
      help: "Cache hits by tier (l1, l2, l3).",
      labelNames: ["tier"] as const,
      registers: r,
      // The first cache family read on a scrape: let caches flush their plain counters.
      collect: () => {
        for (const f of cacheCollectors) f();
      },
    }),
    cacheMisses: new client.Counter({
      name: "couchestor_cache_misses_total",
      help: "Cache misses by tier.",
      labelNames: ["tier"] as const,
      registers: r,
    }),
    cacheEvictions: new client.Counter({
      name: "couchestor_cache_evictions_total",
      help: "Entries evicted by tier.",
      labelNames: ["tier"] as const,
      registers: r,
    }),
    cachePromotions: new client.Counter({
      name: "couchestor_cache_promotions_total",
      help: "Entries promoted to a faster tier.",
      labelNames: ["from", "to"] as const,
      registers: r,
    }),
    cacheDemotions: new client.Counter({
      name: "couchestor_cache_demotions_total",
      help: "Entries demoted to a slower tier.",
      labelNames: ["from", "to"] as const,
      registers: r,
    }),
    cacheBytes: new client.Gauge({
      name: "couchestor_cache_bytes",
      help: "Bytes held by each cache tier.",
      labelNames: ["tier"] as const,
      registers: r,
    }),
    cacheHitRatio: new client.Gauge({
      name: "couchestor_cache_hit_ratio",
      help: "Hits / (hits + misses) per tier since start.",
      labelNames: ["tier"] as const,
      registers: r,
    }),
    cacheGetSeconds: new client.Histogram({
      name: "couchestor_cache_get_duration_seconds",
      help: "Latency of cache gets by the tier that answered.",
      labelNames: ["tier"] as const,
      buckets: [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1],
      registers: r,
    }),
    deviceInfo: new client.Gauge({
      name: "couchestor_device_info",
      help: "One series per block device found by discovery, with the tier proposed for it.",
      labelNames: ["node", "device", "transport", "tier", "model"] as const,
      registers: r,
    }),
    cacheCollectors,
    deviceHealthy: new client.Gauge({
      name: "couchestor_device_healthy",
      help: "1 when SMART reports the device healthy, 0 when failing (absent when unknown).",
      labelNames: ["node", "device", "tier"] as const,
      registers: r,
    }),
    deviceTemperature: new client.Gauge({
      name: "couchestor_device_temperature_celsius",
      help: "Device temperature from SMART.",
      labelNames: ["node", "device"] as const,
      registers: r,
    }),
    volumeDecisions: new client.Gauge({
      name: "couchestor_volume_decisions",
      help: "Volumes of a StoragePolicy by the reason of its last pass (Promote, InCooldown, " +
        "BackingOff, AwaitingApproval, …).",
      labelNames: ["policy", "reason"] as const,
      registers: r,
    }),
    migrationDuration: new client.Histogram({
      name: "couchestor_migration_duration_seconds",
      help: "How long finished volume migrations took, by result.",
      labelNames: ["result"] as const,
      // Moves copy whole replicas: seconds for small volumes, up to hours for large ones.
      buckets: [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400],
      registers: r,
    }),
    migrationDeadline: new client.Gauge({
      name: "couchestor_migration_deadline_timestamp_seconds",
      help: "When each migration in flight must be done (start + migrationTimeout), unix " +
        "seconds; a volume past it is stuck mid-move.",
      labelNames: ["policy", "volume"] as const,
      registers: r,
    }),
    cordonWindow: new client.Histogram({
      name: "couchestor_move_cordon_window_seconds",
      help: "How long a replica step kept every other node cordoned (the new replica's " +
        "placement window; other volumes cannot get replicas there meanwhile).",
      // One REST call: milliseconds normally; seconds mean a slow or hanging control plane.
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: r,
    }),
    leader: new client.Gauge({
      name: "couchestor_leader",
      help: "1 while this operator process leads (moves volumes), 0 while it stands by.",
      labelNames: ["identity"] as const,
      registers: r,
    }),
  };
  m.buildInfo.set({ version: VERSION, codec_kernel: "unknown" }, 1);
  return m;
}
