/**
 * VolumeBackend: the one port through which moves and the EC tier see Mayastor (the storage
 * model it speaks is src/model/storage.ts). It offers only the levers Mayastor v2 supports
 * (../shared/MAYASTOR.md): reading pools, volumes and nodes, named node cordons that steer the
 * control plane's own scheduler, `replica_count`, and detaching a nexus child. Adapter: the
 * Mayastor 2.x REST adapter (rest.ts).
 */
import type { MayastorNode, Pool, Volume } from "../model/storage.ts";

export type { MayastorNode };

/** Why a backend call failed, with the endpoint and the backend's own message and kind. */
export class BackendError extends Error {
  constructor(
    message: string,
    readonly endpoint: string,
    readonly status?: number,
    readonly retryable = false,
    /** Mayastor's error kind (RestJsonError.kind), e.g. FailedPrecondition, InUse, NotFound. */
    readonly kind?: string,
  ) {
    super(message);
    this.name = "BackendError";
  }
}

/** The operations CoucheStor performs on Mayastor. */
export interface VolumeBackend {
  /** All pools with their labels and capacity. */
  listPools(signal?: AbortSignal): Promise<Pool[]>;
  /** All volumes with their (owned) replicas and rebuild progress. */
  listVolumes(signal?: AbortSignal): Promise<Volume[]>;
  /** One volume, or undefined when it does not exist. */
  getVolume(uuid: string, signal?: AbortSignal): Promise<Volume | undefined>;
  /** Every io-engine node with its cordon labels. */
  listNodes(signal?: AbortSignal): Promise<MayastorNode[]>;
  /** Cordons the node with `label` (already cordoned with it: done). */
  cordonNode(node: string, label: string, signal?: AbortSignal): Promise<void>;
  /** Removes the cordon `label` from the node (not cordoned with it: done). */
  uncordonNode(node: string, label: string, signal?: AbortSignal): Promise<void>;
  /**
   * Sets the volume's `num_replicas` to `n` (one attempt, never retried: an increase makes the
   * control plane create and attach a replica on a pool its scheduler picks, a decrease removes
   * one in its order) and returns the volume as the call left it.
   */
  setReplicaCount(volumeUuid: string, n: number, signal?: AbortSignal): Promise<Volume>;
  /** Detaches the replica's nexus child (not a child any more: done). */
  detachChild(volumeUuid: string, replicaUuid: string, signal?: AbortSignal): Promise<void>;
}
