/**
 * Ports of the erasure-coded cold tier: reading and writing a volume's bytes (VolumeData), the
 * replica lifecycle the EC tier needs beyond VolumeBackend (all replicas retired while the
 * stripes hold the data; empty replicas created for rehydration), and shard target directories
 * on cold pools (ShardTargets). Adapters: the Mayastor simulator's admin API (sim.ts) and, for
 * a cluster, the data-mover Job described in docs/ec-tier.md (cluster.ts, not in this build).
 */

/** Reads and writes a volume's bytes. */
export interface VolumeData {
  /**
   * Bytes [offset, offset+length) of the volume as one healthy replica holds them, or as the
   * named replica holds them (to verify a rehydrated replica on its own).
   */
  read(
    volumeUuid: string,
    offset: number,
    length: number,
    opts?: { replica?: string; signal?: AbortSignal },
  ): Promise<Uint8Array>;
  /** Writes bytes at `offset` of one replica of the volume (a replica being rehydrated). */
  write(
    volumeUuid: string,
    replicaUuid: string,
    offset: number,
    data: Uint8Array,
    signal?: AbortSignal,
  ): Promise<void>;
}

/** Replica operations of the EC tier (Mayastor can neither hold zero replicas nor seed one). */
export interface EcReplicaLifecycle {
  /**
   * Retires the listed replicas of a volume whose data now lives in EC stripes (the volume
   * stays, unpublished, with no replica). Replicas already gone are fine.
   */
  releaseReplicas(
    volumeUuid: string,
    replicas: readonly string[],
    signal?: AbortSignal,
  ): Promise<void>;
  /** Creates an empty replica of an EC-tiered volume on the pool; its bytes are written next. */
  createReplica(volumeUuid: string, poolId: string, signal?: AbortSignal): Promise<string>;
  /** Destroys a replica a rehydration created (its rollback); absent is fine. */
  removeReplica(volumeUuid: string, replicaUuid: string, signal?: AbortSignal): Promise<void>;
}

/** Shard target directories on cold pools, one per (pool, volume). */
export interface ShardTargets {
  /** Creates (if needed) and returns the directory for the volume's shards on the pool. */
  ensure(poolId: string, volume: string, signal?: AbortSignal): Promise<string>;
  /** Deletes the volume's shard directory on the pool (missing is fine). */
  remove(poolId: string, volume: string, signal?: AbortSignal): Promise<void>;
}

/** Everything the EC tier does to volumes and pools. */
export interface EcTierPorts {
  data: VolumeData;
  replicas: EcReplicaLifecycle;
  targets: ShardTargets;
}
