/**
 * The storage model every layer shares: tiers, pools, volumes and their replicas, as
 * CoucheStor reads them from Mayastor (field meanings follow Mayastor's v0 API). Types only.
 */

/** Storage tier of a pool, from its labels (or hardware discovery). */
export type Tier = "hot" | "warm" | "cold";

/** The tiers, fastest first. */
export const TIERS: readonly Tier[] = ["hot", "warm", "cold"];

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

/** An io-engine node as the control plane's scheduler sees it. */
export interface MayastorNode {
  id: string;
  /** Cordon labels on the node (the scheduler places no new replica on a cordoned node). */
  cordonLabels: string[];
  online: boolean;
}
