/**
 * The simulated cluster's records and the facts derived from them that every layer reads:
 * what io-engine can see (a pool on a down node or a lost disk is not reported, nor are its
 * replicas), pool usage, replica URIs and the persistent NexusInfo. Mutations of ownership go
 * through `own`/`disown` so a volume's replica index stays equal to `owners.volume`.
 */
import type { Clock } from "../../clock.ts";
import type { ReplicaStore } from "./datastore.ts";
import {
  type NexusInfo,
  replicaUri,
  type SimNexus,
  type SimNode,
  type SimPool,
  type SimReplica,
  type SimVolume,
} from "./model.ts";
import type { ClusterView } from "./scheduler.ts";

/** The cluster's records plus the derived views the scheduler reads. */
export class ClusterState implements ClusterView {
  readonly nodes = new Map<string, SimNode>();
  readonly pools = new Map<string, SimPool>();
  readonly replicas = new Map<string, SimReplica>();
  readonly nexuses = new Map<string, SimNexus>();
  readonly volumes = new Map<string, SimVolume>();
  /** The persistent store's NexusInfo entries, by nexus uuid. */
  readonly nexusInfos = new Map<string, NexusInfo>();
  /** Bumped by every change; lets idle reconcile passes be skipped when nothing moved. */
  epoch = 0;
  /** Bumped when a device may have gone (pool lost, node down, replica destroyed). */
  devicesEpoch = 0;
  #sorted: string[] | undefined;

  constructor(readonly clock: Clock, readonly store: ReplicaStore) {}

  /** Records that something changed (invalidates cached orders, wakes the reconcilers). */
  touch(): void {
    this.epoch++;
    this.#sorted = undefined;
  }

  /** Volume uuids in a stable order (pagination walks this). */
  sortedVolumeIds(): string[] {
    this.#sorted ??= [...this.volumes.keys()].sort();
    return this.#sorted;
  }

  /** NexusInfo of a nexus, if io-engine ever wrote one. */
  nexusInfo(nexus: string | undefined): NexusInfo | undefined {
    return nexus === undefined ? undefined : this.nexusInfos.get(nexus);
  }

  /** io-engine reports the pool: its node is up and its disk present. */
  poolLive(p: SimPool): boolean {
    return !p.lost && (this.nodes.get(p.node)?.online ?? false);
  }

  /** io-engine reports the replica (its pool is live and it is not being destroyed away). */
  replicaLive(r: SimReplica): boolean {
    const p = this.pools.get(r.pool);
    return p !== undefined && this.poolLive(p);
  }

  /** Node of a replica's pool. */
  nodeOf(r: SimReplica): string {
    return this.pools.get(r.pool)?.node ?? "";
  }

  /** The replica's current URI (depends on whether it is shared). */
  uriOf(r: SimReplica): string {
    return replicaUri(r, this.nodeOf(r));
  }

  /** Records a new replica (and its pool's usage). */
  addReplica(r: SimReplica): void {
    this.replicas.set(r.uuid, r);
    const u = this.#usage(r.pool);
    u.used += r.allocated;
    u.committed += r.size;
    u.count++;
    this.touch();
  }

  /** Forgets a replica (and frees its pool's usage). */
  deleteReplica(r: SimReplica): void {
    if (!this.replicas.delete(r.uuid)) return;
    this.devicesEpoch++;
    const u = this.#usage(r.pool);
    u.used -= r.allocated;
    u.committed -= r.size;
    u.count--;
    this.touch();
  }

  /** Sets how many bytes a replica has allocated. */
  setAllocated(r: SimReplica, bytes: number): void {
    if (this.replicas.get(r.uuid) === r) this.#usage(r.pool).used += bytes - r.allocated;
    r.allocated = bytes;
  }

  /** Pool state `used`: the bytes its replicas have allocated. */
  usedBytes(pool: string): number {
    return this.#usage(pool).used;
  }

  /** Pool `committed`: the sum of its replicas' sizes. */
  committedBytes(pool: string): number {
    return this.#usage(pool).committed;
  }

  /** Replicas io-engine reports on the pool. */
  replicasOn(pool: string): number {
    return this.#usage(pool).count;
  }

  #usage(pool: string): { used: number; committed: number; count: number } {
    let u = this.#pools.get(pool);
    if (!u) this.#pools.set(pool, u = { used: 0, committed: 0, count: 0 });
    return u;
  }

  readonly #pools = new Map<string, { used: number; committed: number; count: number }>();

  /** Makes `volume` the replica's volume owner. */
  own(r: SimReplica, volume: string): void {
    this.disownVolume(r);
    r.owners.volume = volume;
    this.volumes.get(volume)?.replicas.add(r.uuid);
    this.touch();
  }

  /** Drops the replica's volume owner. */
  disownVolume(r: SimReplica): void {
    const v = r.owners.volume;
    if (v === undefined) return;
    this.volumes.get(v)?.replicas.delete(r.uuid);
    r.owners.volume = undefined;
    this.touch();
  }

  /** `ReplicaOwners::disown_all`. */
  disownAll(r: SimReplica): void {
    this.disownVolume(r);
    r.owners.nexuses = [];
    this.touch();
  }

  /** The nexus a volume's spec targets, if any. */
  targetNexus(v: SimVolume): SimNexus | undefined {
    return v.target ? this.nexuses.get(v.target.nexus) : undefined;
  }

  /** The volume with this uuid, if any. */
  volumeOf(uuid: string | undefined): SimVolume | undefined {
    return uuid === undefined ? undefined : this.volumes.get(uuid);
  }

  /** Now, on the injected clock. */
  now(): number {
    return this.clock.now();
  }
}
