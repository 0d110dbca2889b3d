/**
 * The simulated Mayastor cluster: pools on nodes, volumes with replicas (real
 * files), a nexus per published volume whose new children rebuild at a set
 * byte rate driven by the injected Clock, and per-volume IO counters driven by
 * workload profiles. The HTTP layer (server.ts) renders this state in the v0
 * REST shapes; all mutations go through the methods here.
 *
 * Control-plane behaviour mirrored from Mayastor: raising `num_replicas` makes
 * the scheduler place replicas itself; lowering it removes replicas in the
 * control plane's order (replicas that are not nexus children first, then
 * unhealthy children, then the rest); a replica added as a nexus child joins
 * the volume and rebuilds from a healthy child; a pool whose node is down has no
 * state and its children fault. There is no background self-healing.
 */
import { TIER_LABEL_KEY } from "../../api/meta.ts";
import type { Clock } from "../../clock.ts";
import { choosePool } from "../../tiering/pools.ts";
import type { Pool, Tier, Volume } from "../../model/storage.ts";
import type { HealthState } from "../../mayastor/rest_schemas.ts";
import { randomBytes, ReplicaStore, sha256Hex } from "./datastore.ts";
import { anchorProfile, ioShape, opsBetween, type WorkloadProfile } from "./profiles.ts";

/** A pool the simulator starts with. */
export interface SimPoolConfig {
  id: string;
  node: string;
  capacityBytes: number;
  /** Adds the label `storage.billyronks.io/tier=<tier>` (the default tier selectors match it). */
  tier?: Tier;
  labels?: Record<string, string>;
}

/** A volume the simulator starts with (created, filled with random bytes, published). */
export interface SimVolumeConfig {
  uuid?: string;
  sizeBytes: number;
  /** Pool ids of its replicas. */
  pools: string[];
  /** Node of the nexus; default the first replica's node. `null` leaves it unpublished. */
  targetNode?: string | null;
  profile?: WorkloadProfile;
  /** PersistentVolume name for the `pv_name` metric label; default `pvc-<uuid>`. */
  pvName?: string;
}

/** Mayastor-style failure of an operation: HTTP status plus RestJsonError kind. */
export class SimError extends Error {
  constructor(readonly status: number, readonly kind: string, message: string) {
    super(message);
    this.name = "SimError";
  }
}

/** Pool label the `tier` config sets: CoucheStor's tier label, so default pool selectors match. */
export const TIER_LABEL = TIER_LABEL_KEY;

/** A simulated pool; `offline` means its io-engine node is down. */
interface SimPool {
  id: string;
  uuid: string;
  node: string;
  capacity: number;
  labels: Record<string, string>;
  offline: boolean;
}

/** A simulated replica and the file holding its bytes. */
interface SimReplica {
  uuid: string;
  pool: string;
  size: number;
  shared: boolean;
  volume?: string;
  path: string;
}

/** Progress of one child's rebuild (bytes may be fractional between steps). */
interface Rebuild {
  doneBytes: number;
  lastMs: number;
  failed: boolean;
}

/** A nexus child: the replica it points at, its state and its rebuild. */
interface SimChild {
  replica: string;
  uri: string;
  state: HealthState;
  rebuild?: Rebuild;
}

/** Cumulative IO counters of a volume, advanced lazily up to `lastMs`. */
interface Counters {
  readOps: number;
  writeOps: number;
  bytesRead: number;
  bytesWritten: number;
  lastMs: number;
}

/** A simulated volume: replicas, optional nexus, workload and counters. */
interface SimVolume {
  uuid: string;
  size: number;
  numReplicas: number;
  replicas: Set<string>;
  nexus?: { uuid: string; node: string; children: SimChild[] };
  profile: WorkloadProfile;
  pvName: string;
  counters: Counters;
  originalHash?: string;
}

/** Rebuild fault modes. */
export type RebuildFault = "none" | "stall" | "fail";

/** Replica URI as io-engine shares it over NVMe-oF (the nexus child id). */
export function replicaUri(node: string, uuid: string): string {
  return `nvmf://${node}:8420/nqn.2019-05.io.openebs:${uuid}?uuid=${uuid}`;
}

/** The simulated control plane plus io-engines. */
export class SimCluster {
  readonly pools = new Map<string, SimPool>();
  readonly replicas = new Map<string, SimReplica>();
  readonly volumes = new Map<string, SimVolume>();
  /** Volumes with a rebuild in progress (so advance() stays cheap with many volumes). */
  readonly #rebuilding = new Set<string>();
  /** Committed bytes per pool, kept up to date so placement stays O(pools). */
  readonly #used = new Map<string, number>();
  #sorted: string[] | undefined;
  rebuildFault: RebuildFault = "none";

  constructor(
    readonly clock: Clock,
    readonly store: ReplicaStore,
    /** Rebuild speed in bytes per second. */
    public rebuildBytesPerSec: number,
  ) {}

  // ---- pools ------------------------------------------------------------------------------

  /** Adds a pool. */
  addPool(c: SimPoolConfig): void {
    if (this.pools.has(c.id)) throw new SimError(409, "AlreadyExists", `pool ${c.id} exists`);
    this.pools.set(c.id, {
      id: c.id,
      uuid: crypto.randomUUID(),
      node: c.node,
      capacity: c.capacityBytes,
      labels: { ...(c.tier ? { [TIER_LABEL]: c.tier } : {}), ...(c.labels ?? {}) },
      offline: false,
    });
  }

  /** Bytes committed to replicas on a pool (thick provisioning). */
  usedBytes(poolId: string): number {
    return this.#used.get(poolId) ?? 0;
  }

  /** Records a replica (and its pool's committed bytes). */
  #putReplica(r: SimReplica): void {
    this.replicas.set(r.uuid, r);
    this.#used.set(r.pool, this.usedBytes(r.pool) + r.size);
  }

  /** Forgets a replica (and frees its pool's bytes). */
  #dropReplica(uuid: string): void {
    const r = this.replicas.get(uuid);
    if (!r) return;
    this.replicas.delete(uuid);
    this.#used.set(r.pool, this.usedBytes(r.pool) - r.size);
  }

  /** Takes a pool's node down (state disappears, its children fault) or brings it back. */
  setPoolOffline(poolId: string, offline: boolean): void {
    const p = this.#pool(poolId);
    p.offline = offline;
    if (!offline) return;
    for (const v of this.volumes.values()) {
      for (const c of v.nexus?.children ?? []) {
        if (this.replicas.get(c.replica)?.pool === poolId) {
          c.state = "Faulted";
          if (c.rebuild) c.rebuild.failed = true;
        }
      }
    }
  }

  /** Pools as the port sees them (for the simulator's own scheduler). */
  portPools(): Pool[] {
    return [...this.pools.values()].map((p) => ({
      id: p.id,
      node: p.node,
      status: p.offline ? "Unknown" : "Online",
      capacityBytes: p.offline ? 0 : p.capacity,
      usedBytes: this.usedBytes(p.id),
      labels: p.labels,
    }));
  }

  // ---- replicas ---------------------------------------------------------------------------

  /** PUT /pools/{pool}/replicas/{uuid}: a zero-filled replica not yet in any volume. */
  async createReplica(poolId: string, uuid: string, size: number, share: boolean) {
    const p = this.#pool(poolId);
    if (this.replicas.has(uuid)) {
      throw new SimError(409, "AlreadyExists", `replica ${uuid} already exists`);
    }
    if (p.offline) throw new SimError(503, "Unavailable", `node ${p.node} is not reachable`);
    if (p.capacity - this.usedBytes(poolId) < size) {
      throw new SimError(507, "ResourceExhausted", `pool ${poolId} lacks ${size} free bytes`);
    }
    const path = this.store.pathOf(poolId, uuid);
    await this.store.create(poolId, uuid, size);
    const r: SimReplica = { uuid, pool: poolId, size, shared: share, path };
    this.#putReplica(r);
    return r;
  }

  /** DELETE .../replicas/{uuid}: destroys a replica; a nexus child still on it faults. */
  async destroyReplica(uuid: string, poolId?: string): Promise<void> {
    const r = this.replicas.get(uuid);
    if (!r || (poolId !== undefined && r.pool !== poolId)) {
      throw new SimError(404, "NotFound", `replica ${uuid} not found`);
    }
    // On a down node the control plane records the deletion and finishes it later;
    // for the simulation the replica is gone either way.
    this.#dropReplica(uuid);
    if (r.volume) {
      const v = this.volumes.get(r.volume);
      if (v) {
        v.replicas.delete(uuid);
        for (const c of v.nexus?.children ?? []) {
          if (c.replica === uuid) {
            c.state = "Faulted";
            if (c.rebuild) c.rebuild.failed = true;
          }
        }
      }
    }
    await this.store.remove(r.path);
  }

  /** State of a replica: Unknown while its pool's node is down. */
  replicaState(r: SimReplica): HealthState {
    return this.pools.get(r.pool)?.offline ? "Unknown" : "Online";
  }

  /** Node of a replica. */
  nodeOf(r: SimReplica): string {
    return this.pools.get(r.pool)?.node ?? "";
  }

  // ---- volumes ----------------------------------------------------------------------------

  /** Creates a volume on given pools (or scheduler-chosen ones), filled with random bytes. */
  async createVolume(
    c: SimVolumeConfig | { uuid: string; sizeBytes: number; replicas: number },
  ): Promise<SimVolume> {
    const uuid = c.uuid ?? crypto.randomUUID();
    if (this.volumes.has(uuid)) throw new SimError(409, "AlreadyExists", `volume ${uuid} exists`);
    const v: SimVolume = {
      uuid,
      size: c.sizeBytes,
      numReplicas: "pools" in c ? c.pools.length : c.replicas,
      replicas: new Set(),
      profile: ("profile" in c && c.profile) ? anchorProfile(c.profile, this.clock.now()) : {
        kind: "idle",
      },
      pvName: ("pvName" in c && c.pvName) || `pvc-${uuid}`,
      counters: this.#zeroCounters(),
    };
    const pools = "pools" in c ? c.pools : this.#schedule(v, c.replicas);
    const content = randomBytes(c.sizeBytes);
    v.originalHash = await sha256Hex(content);
    for (const poolId of pools) {
      const p = this.#pool(poolId);
      if (p.capacity - this.usedBytes(poolId) < c.sizeBytes) {
        throw new SimError(507, "ResourceExhausted", `pool ${poolId} is full`);
      }
      const ruuid = crypto.randomUUID();
      const path = this.store.pathOf(poolId, ruuid);
      await this.store.create(poolId, ruuid, c.sizeBytes, content);
      this.#putReplica({
        uuid: ruuid,
        pool: poolId,
        size: c.sizeBytes,
        shared: true,
        volume: uuid,
        path,
      });
      v.replicas.add(ruuid);
    }
    this.volumes.set(uuid, v);
    this.#sorted = undefined;
    if ("pools" in c && c.targetNode !== null && pools.length > 0) {
      this.publish(uuid, c.targetNode ?? this.#pool(pools[0]).node);
    }
    return v;
  }

  /** DELETE /volumes/{id}: the volume and its replicas. */
  async deleteVolume(uuid: string): Promise<void> {
    const v = this.volume(uuid);
    for (const r of [...v.replicas]) {
      const rep = this.replicas.get(r);
      this.#dropReplica(r);
      if (rep) await this.store.remove(rep.path);
    }
    this.volumes.delete(uuid);
    this.#rebuilding.delete(uuid);
    this.#sorted = undefined;
  }

  /** A volume or NotFound. */
  volume(uuid: string): SimVolume {
    const v = this.volumes.get(uuid);
    if (!v) throw new SimError(404, "NotFound", `volume ${uuid} not found`);
    return v;
  }

  /** Volume uuids in a stable order (pagination walks this). */
  sortedVolumeIds(): string[] {
    this.#sorted ??= [...this.volumes.keys()].sort();
    return this.#sorted;
  }

  /** PUT /volumes/{id}/target: a nexus on `node` with every replica as an Online child. */
  publish(uuid: string, node: string): void {
    const v = this.volume(uuid);
    if (v.nexus) {
      if (v.nexus.node === node) return;
      throw new SimError(409, "AlreadyPublished", `volume ${uuid} is published on ${v.nexus.node}`);
    }
    v.nexus = {
      uuid: crypto.randomUUID(),
      node,
      children: [...v.replicas].map((r) => {
        const rep = this.replicas.get(r)!;
        return { replica: r, uri: replicaUri(this.nodeOf(rep), r), state: "Online" };
      }),
    };
  }

  /** DELETE /volumes/{id}/target. */
  unpublish(uuid: string): void {
    const v = this.volume(uuid);
    if (!v.nexus) throw new SimError(412, "NotPublished", `volume ${uuid} is not published`);
    if (v.nexus.children.some((c) => c.rebuild && !c.rebuild.failed)) {
      throw new SimError(409, "InUse", `volume ${uuid} is rebuilding`);
    }
    v.nexus = undefined;
    this.#rebuilding.delete(uuid);
  }

  /** The volume owning a nexus, or NotFound. */
  volumeOfNexus(nexusUuid: string): SimVolume {
    for (const v of this.volumes.values()) if (v.nexus?.uuid === nexusUuid) return v;
    throw new SimError(404, "NotFound", `nexus ${nexusUuid} not found`);
  }

  /** PUT /nexuses/{id}/children/{uri}: joins the replica to the volume and starts its rebuild. */
  addChild(nexusUuid: string, uri: string): SimChild {
    const v = this.volumeOfNexus(nexusUuid);
    const existing = v.nexus!.children.find((c) => c.uri === uri);
    if (existing) return existing;
    const id = /[?&]uuid=([0-9a-f-]{36})/.exec(uri)?.[1] ?? /:([0-9a-f-]{36})$/.exec(uri)?.[1];
    const r = id ? this.replicas.get(id) : undefined;
    if (!r) throw new SimError(404, "NotFound", `no replica behind ${uri}`);
    if (r.volume && r.volume !== v.uuid) {
      throw new SimError(409, "InUse", `replica ${r.uuid} belongs to volume ${r.volume}`);
    }
    if (this.pools.get(r.pool)?.offline) {
      throw new SimError(503, "Unavailable", `node of ${r.pool} is not reachable`);
    }
    r.volume = v.uuid;
    v.replicas.add(r.uuid);
    const child: SimChild = {
      replica: r.uuid,
      uri,
      state: "Degraded",
      rebuild: { doneBytes: 0, lastMs: this.clock.now(), failed: this.rebuildFault === "fail" },
    };
    if (child.rebuild!.failed) child.state = "Faulted";
    v.nexus!.children.push(child);
    this.#rebuilding.add(v.uuid);
    return child;
  }

  /** DELETE /nexuses/{id}/children/{uri}: detaches the child (its replica stays, unused). */
  removeChild(nexusUuid: string, uri: string): void {
    const v = this.volumeOfNexus(nexusUuid);
    const i = v.nexus!.children.findIndex((c) => c.uri === uri);
    if (i < 0) throw new SimError(404, "NotFound", `child ${uri} not in nexus ${nexusUuid}`);
    const c = v.nexus!.children[i];
    const othersHealthy = v.nexus!.children.some((o, j) => j !== i && o.state === "Online");
    if (!othersHealthy) {
      throw new SimError(412, "FailedPrecondition", `cannot remove the last healthy child`);
    }
    v.nexus!.children.splice(i, 1);
    void c;
  }

  /** PUT /volumes/{id}/replica_count/{n}, with the control plane's placement and removal order. */
  async setReplicaCount(uuid: string, n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 1 || n > 255) {
      throw new SimError(400, "InvalidArgument", `replica_count must be 1..255, got ${n}`);
    }
    const v = this.volume(uuid);
    if (n > v.replicas.size) {
      for (const poolId of this.#schedule(v, n - v.replicas.size)) {
        await this.attachReplica(uuid, poolId);
      }
    }
    while (v.replicas.size > n) await this.detachReplica(uuid, this.#removalCandidates(v)[0]);
    v.numReplicas = n;
  }

  /** Control-plane replica add: a replica on `poolId` joins the volume (rebuilding if published). */
  async attachReplica(volumeUuid: string, poolId: string): Promise<string> {
    const v = this.volume(volumeUuid);
    const ruuid = crypto.randomUUID();
    const r = await this.createReplica(poolId, ruuid, v.size, true);
    r.volume = v.uuid;
    v.replicas.add(ruuid);
    if (v.nexus) this.addChild(v.nexus.uuid, replicaUri(this.nodeOf(r), ruuid));
    else await this.#syncUnpublished(v, r);
    return ruuid;
  }

  /** Control-plane replica removal: out of the nexus, then destroyed. */
  async detachReplica(volumeUuid: string, replicaUuid: string): Promise<void> {
    const v = this.volume(volumeUuid);
    if (v.nexus) v.nexus.children = v.nexus.children.filter((c) => c.replica !== replicaUuid);
    await this.destroyReplica(replicaUuid);
  }

  // ---- data and the EC cold tier ------------------------------------------------------------

  /**
   * Bytes [offset, offset+length) of a volume from one replica: the given one, else the first
   * healthy one (an Online replica on a reachable node that is not rebuilding).
   */
  async readData(uuid: string, offset: number, length: number, replica?: string) {
    const v = this.volume(uuid);
    if (offset < 0 || length < 0 || offset + length > v.size) {
      throw new SimError(400, "InvalidArgument", `range ${offset}+${length} outside ${v.size}`);
    }
    const r = replica !== undefined ? this.#replicaOf(v, replica) : this.#healthyReplica(v);
    if (!r) throw new SimError(412, "FailedPrecondition", `volume ${uuid} has no healthy replica`);
    return await this.store.readRange(r.path, offset, length);
  }

  /** Writes bytes at `offset` into one replica of a volume (a rehydrating replica). */
  async writeData(uuid: string, replica: string, offset: number, data: Uint8Array) {
    const v = this.volume(uuid);
    if (offset < 0 || offset + data.length > v.size) {
      throw new SimError(
        400,
        "InvalidArgument",
        `range ${offset}+${data.length} outside ${v.size}`,
      );
    }
    const r = this.#replicaOf(v, replica);
    if (this.pools.get(r.pool)?.offline) {
      throw new SimError(503, "Unavailable", `node of ${r.pool} is not reachable`);
    }
    await this.store.writeRange(r.path, offset, data);
  }

  /**
   * The EC cold tier took the volume's data: its nexus goes away and the listed replicas are
   * destroyed (already-gone ones are fine). The volume stays, with no replica, until rehydrated.
   */
  async releaseReplicas(uuid: string, replicas: readonly string[]): Promise<void> {
    const v = this.volume(uuid);
    v.nexus = undefined;
    this.#rebuilding.delete(uuid);
    for (const id of replicas) {
      if (!v.replicas.has(id)) continue;
      v.replicas.delete(id);
      const r = this.replicas.get(id);
      this.#dropReplica(id);
      if (r) await this.store.remove(r.path);
    }
  }

  /** A new, zero-filled replica of an unpublished volume on `poolId` (data written separately). */
  async addEmptyReplica(uuid: string, poolId: string): Promise<string> {
    const v = this.volume(uuid);
    if (v.nexus) throw new SimError(409, "InUse", `volume ${uuid} is published`);
    if ([...v.replicas].some((id) => this.replicas.get(id)?.pool === poolId)) {
      throw new SimError(409, "AlreadyExists", `volume ${uuid} already has a replica on ${poolId}`);
    }
    const ruuid = crypto.randomUUID();
    const r = await this.createReplica(poolId, ruuid, v.size, true);
    r.volume = uuid;
    v.replicas.add(ruuid);
    return ruuid;
  }

  /** Destroys one replica of a volume (a rehydration rolling back). */
  async removeReplica(uuid: string, replica: string): Promise<void> {
    const v = this.volume(uuid);
    if (!v.replicas.has(replica)) return;
    await this.detachReplica(uuid, replica);
  }

  /** Directory the simulator owns on a pool for one volume's EC shards (created). */
  async ecDir(poolId: string, volume: string): Promise<string> {
    const p = this.#pool(poolId);
    if (p.offline) throw new SimError(503, "Unavailable", `node of ${poolId} is not reachable`);
    const dir = `${this.store.ecRoot(poolId)}/${volume}`;
    await Deno.mkdir(dir, { recursive: true });
    return dir;
  }

  /** Removes a volume's EC shard directory on a pool (missing is fine). */
  async removeEcDir(poolId: string, volume: string): Promise<void> {
    this.#pool(poolId);
    await Deno.remove(`${this.store.ecRoot(poolId)}/${volume}`, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }

  #replicaOf(v: SimVolume, id: string): SimReplica {
    const r = v.replicas.has(id) ? this.replicas.get(id) : undefined;
    if (!r) throw new SimError(404, "NotFound", `replica ${id} is not part of ${v.uuid}`);
    return r;
  }

  #healthyReplica(v: SimVolume): SimReplica | undefined {
    for (const id of v.replicas) {
      const r = this.replicas.get(id);
      if (!r || this.replicaState(r) !== "Online") continue;
      const c = this.childOf(v, id);
      if (v.nexus && (!c || c.state !== "Online" || c.rebuild)) continue;
      return r;
    }
    return undefined;
  }

  /** Sets a volume's workload (ramps start now unless they say when). */
  setProfile(uuid: string, profile: WorkloadProfile): void {
    const v = this.volume(uuid);
    this.#advanceCounters(v, this.clock.now());
    v.profile = anchorProfile(profile, this.clock.now());
  }

  /** io-engine restart: the IO counters of volumes targeted on `node` (all when omitted) reset. */
  restartIoEngine(node?: string): void {
    const now = this.clock.now();
    for (const v of this.volumes.values()) {
      if (node === undefined || v.nexus?.node === node) {
        v.counters = { ...this.#zeroCounters(), lastMs: now };
      }
    }
  }

  // ---- time ---------------------------------------------------------------------------------

  /** Moves rebuilds forward to clock.now(), copying the rebuilt bytes for real. */
  async advance(): Promise<void> {
    const now = this.clock.now();
    for (const id of [...this.#rebuilding]) {
      const v = this.volumes.get(id);
      if (!v?.nexus) {
        this.#rebuilding.delete(id);
        continue;
      }
      let active = false;
      for (const c of v.nexus.children) {
        if (!c.rebuild) continue;
        await this.#stepRebuild(v, c, now);
        if (c.rebuild && !c.rebuild.failed) active = true;
      }
      if (!active) this.#rebuilding.delete(id);
    }
  }

  async #stepRebuild(v: SimVolume, c: SimChild, now: number): Promise<void> {
    const rb = c.rebuild!;
    const dt = Math.max(0, now - rb.lastMs);
    rb.lastMs = now;
    if (rb.failed) {
      c.state = "Faulted";
      return;
    }
    const target = this.replicas.get(c.replica);
    if (!target || this.pools.get(target.pool)?.offline || this.rebuildFault === "fail") {
      rb.failed = true;
      c.state = "Faulted";
      return;
    }
    if (this.rebuildFault === "stall" || dt === 0) return;
    const source = v.nexus!.children
      .map((o) => (o.state === "Online" && !o.rebuild ? this.replicas.get(o.replica) : undefined))
      .find((r) => r && !this.pools.get(r.pool)?.offline);
    if (!source) {
      rb.failed = true;
      c.state = "Faulted";
      return;
    }
    // doneBytes keeps the fraction so many small steps add up to the exact rate.
    const next = Math.min(v.size, rb.doneBytes + (this.rebuildBytesPerSec * dt) / 1000);
    const from = Math.floor(rb.doneBytes);
    await this.store.copyRange(source.path, target.path, from, Math.floor(next) - from);
    rb.doneBytes = next;
    if (next >= v.size) {
      c.rebuild = undefined;
      c.state = "Online";
    }
  }

  /** Rebuild progress in percent; 100 only once every byte is copied. */
  static progress(v: { size: number }, c: SimChild): number | undefined {
    if (!c.rebuild) return undefined;
    return v.size === 0 ? 100 : Math.min(99, Math.floor((c.rebuild.doneBytes * 100) / v.size));
  }

  /** Advances a volume's IO counters to `now` from its profile. */
  #advanceCounters(v: SimVolume, now: number): void {
    const k = v.counters;
    if (now <= k.lastMs) return;
    const ops = opsBetween(v.profile, k.lastMs, now);
    const { readRatio, blockSize } = ioShape(v.profile);
    k.readOps += ops * readRatio;
    k.writeOps += ops * (1 - readRatio);
    k.bytesRead += ops * readRatio * blockSize;
    k.bytesWritten += ops * (1 - readRatio) * blockSize;
    k.lastMs = now;
  }

  /** The IO counters of a volume now. */
  countersOf(uuid: string): Readonly<Counters> {
    const v = this.volume(uuid);
    this.#advanceCounters(v, this.clock.now());
    return v.counters;
  }

  // ---- derived state ------------------------------------------------------------------------

  /** Child of a replica in a volume's nexus. */
  childOf(v: SimVolume, replica: string): SimChild | undefined {
    return v.nexus?.children.find((c) => c.replica === replica);
  }

  /** state.status of a volume. */
  volumeStatus(v: SimVolume): "Online" | "Degraded" | "Faulted" {
    if (v.nexus) {
      const online = v.nexus.children.filter((c) => c.state === "Online").length;
      if (online === 0) return "Faulted";
      return online < v.nexus.children.length || online < v.numReplicas ? "Degraded" : "Online";
    }
    const healthy = [...v.replicas].filter((r) => {
      const rep = this.replicas.get(r);
      return rep && this.replicaState(rep) === "Online";
    }).length;
    if (healthy === 0) return "Faulted";
    return healthy < v.numReplicas ? "Degraded" : "Online";
  }

  /** Nexus state from its children. */
  nexusState(v: SimVolume): HealthState {
    const cs = v.nexus?.children ?? [];
    const online = cs.filter((c) => c.state === "Online").length;
    if (online === 0) return "Faulted";
    return online < cs.length ? "Degraded" : "Online";
  }

  /** The volume as the port would see it (for the scheduler). */
  #portVolume(v: SimVolume): Volume {
    return {
      uuid: v.uuid,
      sizeBytes: v.size,
      replicaCount: v.numReplicas,
      status: this.volumeStatus(v),
      replicas: [...v.replicas].map((r) => {
        const rep = this.replicas.get(r)!;
        return { uuid: r, pool: rep.pool, node: this.nodeOf(rep), state: this.replicaState(rep) };
      }),
    };
  }

  /** Mayastor's own placement: Online, roomy, new to the volume, spread, most free. */
  #schedule(v: SimVolume, count: number): string[] {
    const chosen: string[] = [];
    const view = this.#portVolume(v);
    for (let i = 0; i < count; i++) {
      const c = choosePool(view, this.portPools());
      if (!c.pool) {
        throw new SimError(
          507,
          "ResourceExhausted",
          `no pool can hold another replica of ${v.uuid}`,
        );
      }
      chosen.push(c.pool.id);
      view.replicas.push({
        uuid: `planned-${i}`,
        pool: c.pool.id,
        node: c.pool.node,
        state: "Online",
      });
    }
    return chosen;
  }

  /** Replicas in the order the control plane removes them when num_replicas drops. */
  #removalCandidates(v: SimVolume): string[] {
    const rank = (r: string) => {
      const c = this.childOf(v, r);
      if (v.nexus && !c) return 0; // unused: not a child of the nexus
      if (c && c.state !== "Online") return 1; // unhealthy child
      const rep = this.replicas.get(r);
      if (!rep || this.replicaState(rep) !== "Online") return 1;
      return 2;
    };
    return [...v.replicas].sort((a, b) => rank(a) - rank(b));
  }

  async #syncUnpublished(v: SimVolume, r: SimReplica): Promise<void> {
    const src = [...v.replicas].map((id) => this.replicas.get(id)).find((o) =>
      o && o.uuid !== r.uuid && this.replicaState(o) === "Online"
    );
    if (src) await this.store.copyRange(src.path, r.path, 0, v.size);
  }

  #pool(id: string): SimPool {
    const p = this.pools.get(id);
    if (!p) throw new SimError(404, "NotFound", `pool ${id} not found`);
    return p;
  }

  #zeroCounters(): Counters {
    return { readOps: 0, writeOps: 0, bytesRead: 0, bytesWritten: 0, lastMs: this.clock.now() };
  }
}

export type { SimChild, SimPool, SimReplica, SimVolume };
