/**
 * The simulated Mayastor v2 cluster: nodes with io-engines, pools, the core agent's operations
 * (controlplane.ts, volumes.ts, resources.ts), its reconcilers on the injected clock
 * (reconcilers.ts) and the io-engines below them (ioengine.ts), each rule modelled on the
 * upstream source cited where it lives. The HTTP layer (server.ts) renders this state in the
 * v0 REST shapes.
 *
 * Besides the control-plane model it offers test fixtures, which real Mayastor has no API for:
 * volumes seeded with random bytes on chosen pools (a test layout), faults (pool disk lost,
 * node down, io-engine restart, a replica's child faulting, rebuilds stalling or failing),
 * workload profiles driving the IO counters, and volume bytes read and written for data checks.
 */
import type { Clock } from "../../clock.ts";
import { ControlPlane } from "./controlplane.ts";
import { randomBytes, type ReplicaStore, sha256Hex } from "./datastore.ts";
import { IoEngine } from "./ioengine.ts";
import {
  type Counters,
  type SimNexus,
  type SimReplica,
  type SimVolume,
  stateChildren,
  type Tier,
  zeroCounters,
} from "./model.ts";
import { anchorProfile, ioShape, opsBetween, type WorkloadProfile } from "./profiles.ts";
import { DEFAULT_TIMING, ReconcileLoop, Reconcilers, type ReconcileTiming } from "./reconcilers.ts";
import { CREATED_BY_KEY, ResourceOps } from "./resources.ts";
import { ClusterState } from "./state.ts";
import { VolumeOps } from "./volumes.ts";

/** CoucheStor's tier label key (its default pool selectors match it). */
export const TIER_LABEL = "storage.billyronks.io/tier";

/** A pool the simulator starts with (on a node created on first mention). */
export interface SimPoolConfig {
  id: string;
  node: string;
  capacityBytes: number;
  /** Adds the topology label `storage.billyronks.io/tier=<tier>`. */
  tier?: Tier;
  /** More topology labels (the DiskPool's `spec.topology.labelled`). */
  labels?: Record<string, string>;
}

/** A seeded volume: filled with random bytes, replicas on chosen pools (or scheduled). */
export interface SimVolumeConfig {
  uuid?: string;
  sizeBytes: number;
  /** Pools of its replicas (one per node); omitted: `replicas` on the scheduler's pools. */
  pools?: string[];
  replicas?: number;
  thin?: boolean;
  /** Pool inclusion labels, as a volume created with a pool topology has. */
  poolTopology?: Record<string, string>;
  /** Node of the nexus; default the first replica's node. `null` leaves it unpublished. */
  targetNode?: string | null;
  profile?: WorkloadProfile;
}

/** Options of the simulated cluster. */
export interface SimClusterOptions {
  clock: Clock;
  store: ReplicaStore;
  /** Rebuild speed in bytes per second. */
  rebuildBytesPerSec: number;
  timing?: Partial<ReconcileTiming>;
  /** False: reconcilers run only when asked (`reconcileNow`). */
  reconcile?: boolean;
}

/** The simulated control plane plus io-engines. */
export class SimCluster extends ClusterState {
  readonly io: IoEngine;
  readonly cp: ControlPlane;
  readonly volumeOps: VolumeOps;
  readonly resourceOps: ResourceOps;
  readonly reconcilers: Reconcilers;
  readonly loop: ReconcileLoop;

  constructor(o: SimClusterOptions) {
    super(o.clock, o.store);
    this.io = new IoEngine(this, o.rebuildBytesPerSec);
    this.cp = new ControlPlane(this, this.io);
    this.volumeOps = new VolumeOps(this.cp);
    this.resourceOps = new ResourceOps(this.cp);
    this.reconcilers = new Reconcilers(this.cp, this.volumeOps, { ...DEFAULT_TIMING, ...o.timing });
    this.loop = new ReconcileLoop(
      this.reconcilers,
      (t) => this.io.step(t),
      () => this.epoch,
      o.clock.now(),
      o.reconcile ?? true,
    );
  }

  /** Adds a pool (and its node). Labels are the topology labels plus the operator's own. */
  addPool(c: SimPoolConfig): void {
    if (this.pools.has(c.id)) throw new Error(`pool ${c.id} already exists`);
    if (!this.nodes.has(c.node)) {
      this.nodes.set(c.node, { id: c.node, labels: {}, cordonLabels: [], online: true });
    }
    const topology = { ...(c.tier ? { [TIER_LABEL]: c.tier } : {}), ...(c.labels ?? {}) };
    this.pools.set(c.id, {
      id: c.id,
      uuid: crypto.randomUUID(),
      node: c.node,
      capacity: c.capacityBytes,
      // context.rs create_or_import: the operator adds created-by to the topology labels.
      labels: { [CREATED_BY_KEY]: "operator-diskpool", ...topology },
      topologyLabels: topology,
      lost: false,
    });
    this.touch();
  }

  /** Creates a volume seeded with random bytes and (by default) publishes it. */
  async seedVolume(c: SimVolumeConfig): Promise<SimVolume> {
    const uuid = c.uuid ?? crypto.randomUUID();
    const content = randomBytes(c.sizeBytes);
    const v = await this.volumeOps.create(uuid, {
      policy: { self_heal: true },
      replicas: c.pools?.length ?? c.replicas ?? 1,
      size: c.sizeBytes,
      thin: c.thin ?? false,
      topology: c.poolTopology
        ? { pool_topology: { labelled: { inclusion: c.poolTopology, exclusion: {} } } }
        : undefined,
    }, { content, pools: c.pools });
    v.originalHash = await sha256Hex(content);
    if (c.profile) v.profile = anchorProfile(c.profile, this.now());
    if (c.targetNode !== null) {
      const first = this.replicas.get([...v.replicas][0] ?? "");
      const node = c.targetNode ?? (first ? this.nodeOf(first) : undefined);
      this.publish(uuid, { publish_context: {}, protocol: "nvmf", node });
    }
    return v;
  }

  /** A volume or VolumeNotFound. */
  volume(uuid: string): SimVolume {
    return this.cp.volume(uuid);
  }

  // ---- time ----------------------------------------------------------------------------

  /** Brings the cluster to clock.now(): due reconcile passes and rebuild progress. */
  async advance(): Promise<void> {
    await this.loop.catchUp(this.now());
  }

  /** Runs one reconcile pass now (with the garbage collectors when `gc`). */
  async reconcileNow(gc = false): Promise<void> {
    await this.loop.runNow(this.now(), gc);
  }

  // ---- faults (test fixtures) -------------------------------------------------------------

  /** The pool's disk disappears (no pool or replica state; its children fault) or returns. */
  setPoolLost(pool: string, lost: boolean): void {
    const p = this.pools.get(pool);
    if (!p) throw new Error(`no pool ${pool}`);
    p.lost = lost;
    this.devicesEpoch++;
    this.touch();
  }

  /** The node's io-engine goes down (its nexuses are lost) or comes back. */
  setNodeOnline(node: string, online: boolean): void {
    const n = this.nodes.get(node);
    if (!n) throw new Error(`no node ${node}`);
    n.online = online;
    this.devicesEpoch++;
    if (!online) {
      for (const x of this.nexuses.values()) {
        if (x.node === node) this.io.loseNexus(x);
      }
    } else {
      this.loop.trigger("NodeStateChangeOnline", this.now());
    }
    this.touch();
  }

  /**
   * io-engine restarts on `node` (every node when omitted): its nexuses are lost without a
   * clean shutdown (the control plane recreates them, with fresh IO counters).
   */
  restartIoEngine(node?: string): void {
    for (const n of this.nexuses.values()) {
      if (node === undefined || n.node === node) this.io.loseNexus(n);
    }
    // The restarted io-engine registers again: the core agent wakes its reconcilers.
    this.loop.trigger("NodeStateChangeOnline", this.now());
  }

  /** PUT /volumes/{id}/target, waking the reconcilers when the volume comes up Degraded. */
  publish(uuid: string, body: Parameters<VolumeOps["publish"]>[1]): SimVolume {
    const v = this.volumeOps.publish(uuid, body);
    if (this.cp.volumeState(v).status === "Degraded") {
      this.loop.trigger("VolumeDegraded", this.now());
    }
    return v;
  }

  /**
   * Faults the nexus child of a replica now, or once its next rebuild reaches `atPercent`.
   * Without an IO log (the default) the control plane replaces the replica (a hot spare).
   */
  faultReplica(uuid: string, opts: { atPercent?: number; ioLog?: boolean } = {}): void {
    if (opts.atPercent !== undefined) {
      this.io.faultAt.set(uuid, opts.atPercent);
      for (const n of this.nexuses.values()) {
        for (const c of stateChildren(n)) {
          if (c.replica === uuid && c.rebuild) {
            c.rebuild.failAtBytes = (opts.atPercent * n.size) / 100;
          }
        }
      }
      return;
    }
    for (const n of this.nexuses.values()) {
      for (const c of stateChildren(n)) {
        if (c.replica !== uuid && !c.uri.includes(uuid)) continue;
        this.io.faultChild(n, c, "IoFailure");
        c.ioLog = opts.ioLog ?? false;
      }
    }
  }

  // ---- workload and counters -----------------------------------------------------------

  /** Sets a volume's workload (ramps start now unless they say when). */
  setProfile(uuid: string, profile: WorkloadProfile): void {
    const v = this.volume(uuid);
    const n = this.targetNexus(v);
    if (n?.live) this.#advanceCounters(v, n.counters, this.now());
    v.profile = anchorProfile(profile, this.now());
  }

  /** The IO counters of a volume's nexus now (zero when it has no live nexus). */
  countersOf(uuid: string): Readonly<Counters> {
    const v = this.volume(uuid);
    const n = this.targetNexus(v);
    if (!n?.live) return zeroCounters(this.now());
    this.#advanceCounters(v, n.counters, this.now());
    return n.counters;
  }

  /** TEST FIXTURE: IO counters of a volume the sandbox EC tier serves (no replicas). */
  ecCounters(uuid: string): Readonly<Counters> {
    const v = this.volume(uuid);
    let k = this.#ec.get(uuid);
    if (!k) this.#ec.set(uuid, k = zeroCounters(this.now()));
    this.#advanceCounters(v, k, this.now());
    return k;
  }

  readonly #ec = new Map<string, Counters>();

  /** Advances counters to `now` from the volume's profile. */
  #advanceCounters(v: SimVolume, k: Counters, now: number): void {
    if (now <= k.lastMs) return;
    const ops = opsBetween(v.profile, k.lastMs, now);
    const { readRatio, blockSize } = ioShape(v.profile);
    const reads = ops * readRatio, writes = ops * (1 - readRatio);
    k.readOps += reads;
    k.writeOps += writes;
    k.bytesRead += reads * blockSize;
    k.bytesWritten += writes * blockSize;
    // A nominal 100 µs per read and 200 µs per write.
    k.readLatencyUs += reads * 100;
    k.writeLatencyUs += writes * 200;
    k.lastMs = now;
  }

  // ---- volume bytes (test fixtures) --------------------------------------------------------

  /** Replicas that hold the volume's current data: healthy children, or owned when unpublished. */
  dataReplicas(v: SimVolume): SimReplica[] {
    const n = this.targetNexus(v);
    const replicas = n?.live
      ? stateChildren(n).filter((c) => c.state === "Online").map((c) => this.cp.childReplica(c.uri))
      : [...v.replicas].map((id) => this.replicas.get(id));
    return replicas.filter((r): r is SimReplica => r !== undefined && this.replicaLive(r));
  }

  /** Bytes [offset, offset+length) of a volume, from the given replica or a healthy one. */
  async readData(uuid: string, offset: number, length: number, replica?: string) {
    const v = this.volume(uuid);
    checkRange(v, offset, length);
    const r = replica !== undefined ? this.#ownedReplica(v, replica) : this.dataReplicas(v)[0];
    if (!r) throw new Error(`volume ${uuid} has no healthy replica`);
    return await this.store.readRange(r.path, offset, length);
  }

  /** Writes bytes into one replica of a volume (a rehydrating replica). */
  async writeData(uuid: string, replica: string, offset: number, data: Uint8Array) {
    const v = this.volume(uuid);
    checkRange(v, offset, data.length);
    const r = this.#ownedReplica(v, replica);
    if (!this.replicaLive(r)) throw new Error(`replica ${replica} is not reachable`);
    await this.store.writeRange(r.path, offset, data);
  }

  /** Writes bytes through the volume: every replica that is not faulted gets them. */
  async writeVolumeData(uuid: string, offset: number, data: Uint8Array): Promise<void> {
    const v = this.volume(uuid);
    checkRange(v, offset, data.length);
    const n = this.targetNexus(v);
    // The nexus writes to every child that is not faulted (raw ones too).
    const replicas = n?.live
      ? stateChildren(n).filter((c) => c.state !== "Faulted").map((c) =>
        this.cp.childReplica(c.uri)
      )
      : [...v.replicas].map((id) => this.replicas.get(id));
    for (const r of replicas) {
      if (r && this.replicaLive(r)) await this.store.writeRange(r.path, offset, data);
    }
  }

  #ownedReplica(v: SimVolume, id: string): SimReplica {
    const r = v.replicas.has(id) ? this.replicas.get(id) : undefined;
    if (!r) throw new Error(`replica ${id} is not part of volume ${v.uuid}`);
    return r;
  }
}

function checkRange(v: SimVolume, offset: number, length: number): void {
  if (offset < 0 || length < 0 || offset + length > v.size) {
    throw new RangeError(`range ${offset}+${length} outside volume ${v.uuid} of ${v.size} bytes`);
  }
}

export type { SimNexus, SimReplica, SimVolume };
