/**
 * The simulated cluster's records, split the way Mayastor splits them: control-plane specs
 * (`control-plane/stor-port/src/types/v0/store/*.rs`: volume, replica with `managed` and
 * `owners`, nexus with Replica/Uri children, node cordon labels, pool labels), the io-engine
 * state (nexus and child states, rebuilds) and the persistent NexusInfo that io-engine writes
 * (`io-engine/src/bdev/nexus/nexus_persistence.rs`).
 */
import type { WorkloadProfile } from "./profiles.ts";

/** Pool/replica/child state (`ChildState` in `stor-port/src/types/v0/transport/child.rs`). */
export type HealthState = "Unknown" | "Online" | "Degraded" | "Faulted";

/** Why a child is in its state (`ChildStateReason`). */
export type ChildReason =
  | "None"
  | "OutOfSync"
  | "NoSpace"
  | "CannotOpen"
  | "IoFailure"
  | "RebuildFailed"
  | "ByClient";

/** A storage tier, as the CoucheStor tier label spells it. */
export type Tier = "hot" | "warm" | "cold";

/** An io-engine node; cordon labels are named (`store/node.rs` CordonedState). */
export interface SimNode {
  id: string;
  labels: Record<string, string>;
  cordonLabels: string[];
  /** False while the node's io-engine is down (no pool, replica or nexus state). */
  online: boolean;
}

/** A disk pool: spec labels are what the scheduler's topology filter reads. */
export interface SimPool {
  id: string;
  uuid: string;
  node: string;
  capacity: number;
  /** PoolSpec.labels (the DiskPool operator adds `openebs.io/created-by`). */
  labels: Record<string, string>;
  /** The DiskPool CR's `spec.topology.labelled`, fixed at creation. */
  topologyLabels: Record<string, string>;
  /** The pool's disk is gone: io-engine reports no pool (and no replica on it). */
  lost: boolean;
}

/** ReplicaOwners (`stor-port/src/types/v0/transport/replica.rs`). */
export interface ReplicaOwners {
  volume?: string;
  nexuses: string[];
}

/** A replica spec plus the file holding its bytes. */
export interface SimReplica {
  uuid: string;
  pool: string;
  size: number;
  thin: boolean;
  share: "none" | "nvmf";
  /** Created by the control plane (volume replicas) rather than through the REST API. */
  managed: boolean;
  owners: ReplicaOwners;
  status: "Created" | "Deleting";
  /** Bytes the lvol has allocated (thick: all of it). */
  allocated: number;
  path: string;
}

/** Progress of one child's rebuild; bytes may be fractional between steps. */
export interface Rebuild {
  doneBytes: number;
  lastMs: number;
  /** Fault the child once this many bytes are rebuilt (an injected fault). */
  failAtBytes?: number;
}

/** A nexus child: spec kind (replica or raw URI) and its io-engine state. */
export interface SimChild {
  uri: string;
  /** Set when the spec records it as `NexusChild::Replica` (else a raw `NexusChild::Uri`). */
  replica?: string;
  state: HealthState;
  reason: ChildReason;
  rebuild?: Rebuild;
  /** In the nexus spec but not in io-engine (left out when the nexus was recreated). */
  missing?: boolean;
  /** When io-engine faulted it, if it did. */
  faultedAt?: number;
  /** io-engine logs writes while a device-loss fault lasts, so it can partially rebuild. */
  ioLog?: boolean;
}

/** Cumulative IO counters of a nexus (io-engine stats), advanced lazily up to `lastMs`. */
export interface Counters {
  readOps: number;
  writeOps: number;
  bytesRead: number;
  bytesWritten: number;
  readLatencyUs: number;
  writeLatencyUs: number;
  lastMs: number;
}

/** A nexus: the spec (owner, children) and whether io-engine currently has it. */
export interface SimNexus {
  uuid: string;
  node: string;
  size: number;
  /** The volume that owns it. */
  owner?: string;
  children: SimChild[];
  /** io-engine has this nexus (false after an io-engine restart until it is recreated). */
  live: boolean;
  counters: Counters;
}

/** The children io-engine reports (the spec may list more after a recreate). */
export function stateChildren(n: SimNexus): SimChild[] {
  return n.children.filter((c) => !c.missing);
}

/** NexusInfo as io-engine persists it, keyed by nexus uuid. */
export interface NexusInfo {
  cleanShutdown: boolean;
  children: { uuid: string; healthy: boolean }[];
}

/** A volume's placement topology (`Topology` in `stor-port/src/types/v0/transport/volume.rs`). */
export interface VolumeTopology {
  poolInclusion?: Record<string, string>;
  nodeInclusion?: Record<string, string>;
  nodeExclusion?: Record<string, string>;
  /** Explicit node topology: replicas only on these nodes. */
  allowedNodes?: string[];
}

/** A volume spec plus its workload (the simulator's IO source). */
export interface SimVolume {
  uuid: string;
  size: number;
  numReplicas: number;
  thin: boolean;
  selfHeal: boolean;
  labels?: Record<string, string>;
  topology?: VolumeTopology;
  /** `spec.target`: where the nexus lives. */
  target?: { node: string; nexus: string; protocol: "nvmf" };
  publishContext?: Record<string, string>;
  /** The nexus whose NexusInfo tells replica health (the last target). */
  healthInfoId?: string;
  /** Replica uuids this volume owns (an index of `owners.volume`). */
  replicas: Set<string>;
  profile: WorkloadProfile;
  /** SHA-256 of the content a seeded volume started with. */
  originalHash?: string;
}

/** NVMe-oF URI of a shared replica, as io-engine builds it (`nqn.2019-05.io.openebs:<uuid>`). */
export function nvmfUri(node: string, uuid: string): string {
  return `nvmf://${node}:8420/nqn.2019-05.io.openebs:${uuid}?uuid=${uuid}`;
}

/** Loopback URI of an unshared replica (how a nexus on the same node opens it). */
export function bdevUri(uuid: string): string {
  return `bdev:///${uuid}?uuid=${uuid}`;
}

/** The replica's current URI: nvmf when shared, bdev when not. */
export function replicaUri(r: SimReplica, node: string): string {
  return r.share === "nvmf" ? nvmfUri(node, r.uuid) : bdevUri(r.uuid);
}

/** The `uuid` query parameter of a child URI (`ChildUri::uuid_str`). */
export function uriUuid(uri: string): string | undefined {
  try {
    return new URL(uri).searchParams.get("uuid") ?? undefined;
  } catch {
    return undefined;
  }
}

/** Zeroed counters starting at `now`. */
export function zeroCounters(now: number): Counters {
  return {
    readOps: 0,
    writeOps: 0,
    bytesRead: 0,
    bytesWritten: 0,
    readLatencyUs: 0,
    writeLatencyUs: 0,
    lastMs: now,
  };
}

/** `ChildState`'s PartialOrd: Faulted < Unknown < Degraded < Online (`transport/child.rs`). */
export function childStateRank(s: HealthState): number {
  return { Faulted: 0, Unknown: 1, Degraded: 2, Online: 3 }[s];
}
