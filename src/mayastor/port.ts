/**
 * VolumeBackend: the one port through which tiering and migrations see Mayastor.
 * Adapters: the Mayastor 2.x REST adapter (api-rest /v0 + DiskPool CRs) and the
 * legacy MayastorVolume CRD adapter. Field meanings follow Mayastor's v0 API.
 */

/** Storage tier of a pool, from its labels (or hardware discovery). */
export type Tier = "hot" | "warm" | "cold";

/** A Mayastor disk pool as the tiering code needs it. */
export interface Pool {
  /** Pool id (the DiskPool name). */
  id: string;
  node: string;
  /** Online / Degraded / Faulted / Unknown, as Mayastor reports it. */
  status: "Online" | "Degraded" | "Faulted" | "Unknown";
  capacityBytes: number;
  usedBytes: number;
  /** Labels of the DiskPool CR (and topology labels); pool selectors match these. */
  labels: Record<string, string>;
}

/** State of one replica of a volume. */
export interface Replica {
  /** Replica uuid. */
  uuid: string;
  pool: string;
  node: string;
  /** Online / Degraded / Faulted / Unknown. */
  state: "Online" | "Degraded" | "Faulted" | "Unknown";
  /** Rebuild progress 0..100 while the nexus child rebuilds; undefined when not rebuilding. */
  rebuildProgress?: number;
  /** The nexus child state for this replica, when the volume is published. */
  childState?: "Online" | "Degraded" | "Faulted" | "Unknown";
}

/** A Mayastor volume and its replicas. */
export interface Volume {
  /** Volume uuid; equals the PersistentVolume's CSI volumeHandle. */
  uuid: string;
  sizeBytes: number;
  /** spec.num_replicas */
  replicaCount: number;
  /** state.status: Online / Degraded / Faulted / Unknown. */
  status: "Online" | "Degraded" | "Faulted" | "Unknown";
  replicas: Replica[];
  /** Node hosting the nexus (target), when published. */
  targetNode?: string;
}

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
