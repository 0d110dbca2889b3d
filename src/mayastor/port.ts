/**
 * VolumeBackend: the one port through which migrations see Mayastor (the storage model
 * it speaks is src/model/storage.ts). Adapter: the Mayastor 2.x REST adapter.
 */
import type { Pool, Volume } from "../model/storage.ts";

/** Why a backend call failed, with the endpoint and the backend's own message. */
export class BackendError extends Error {
  constructor(
    message: string,
    readonly endpoint: string,
    readonly status?: number,
    readonly retryable = false,
  ) {
    super(message);
    this.name = "BackendError";
  }
}

/** The operations CoucheStor performs on Mayastor. */
export interface VolumeBackend {
  /** All pools with their labels and capacity. */
  listPools(signal?: AbortSignal): Promise<Pool[]>;
  /** All volumes with replicas and rebuild progress. */
  listVolumes(signal?: AbortSignal): Promise<Volume[]>;
  /** One volume, or undefined when it does not exist. */
  getVolume(uuid: string, signal?: AbortSignal): Promise<Volume | undefined>;
  /**
   * Adds a replica of the volume on the chosen pool and returns its uuid. The
   * replica starts rebuilding; it is not usable until Online at 100%.
   */
  addReplica(volumeUuid: string, poolId: string, signal?: AbortSignal): Promise<string>;
  /** Removes exactly this replica (never "any" replica), leaving the others untouched. */
  retireReplica(volumeUuid: string, replicaUuid: string, signal?: AbortSignal): Promise<void>;
}
