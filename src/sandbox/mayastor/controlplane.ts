/**
 * The core agent's shared operations (`core/` = `control-plane/agents/src/bin/core/`): volume
 * state from the nexus and the owned replicas (`core/volume/registry.rs`), replica spec
 * creation and destruction with their owner rules (`core/pool/replica_operations.rs`,
 * `core/controller/resources/operations_helper.rs` start_create / start_destroy_by), making a
 * replica reachable from a nexus node and attaching it (`core/nexus/operations_helper.rs`), and
 * nexus creation from a volume's healthy owned replicas (`core/volume/operations_helper.rs`).
 * The REST handlers (volumes.ts, resources.ts) and the reconcilers build on these.
 */
import { Svc } from "./errors.ts";
import type { IoEngine } from "./ioengine.ts";
import {
  bdevUri,
  nvmfUri,
  type SimNexus,
  type SimReplica,
  type SimVolume,
  uriUuid,
} from "./model.ts";
import { nexusChildren } from "./scheduler.ts";
import type { ClusterState } from "./state.ts";

/** Volume status plus the live nexus it was read from. */
export interface VolumeStateView {
  status: "Online" | "Degraded" | "Faulted" | "Unknown";
  nexus?: SimNexus;
}

/** Who asks for a replica's destruction (`ReplicaOwners` disowner). */
export type Disowner = { volume: string } | "all" | "none";

/** A replica creation request (`CreateReplica`); `content` seeds its bytes (zeros otherwise). */
export type CreateReplicaRequest =
  & Pick<SimReplica, "uuid" | "pool" | "size" | "thin" | "share" | "managed">
  & { owner?: string; content?: Uint8Array };

/** The control plane's shared operations over the cluster records and io-engines. */
export class ControlPlane {
  constructor(readonly s: ClusterState, readonly io: IoEngine) {}

  /**
   * `volume_state_with_replicas` (registry.rs): a published volume has its nexus's status, but
   * an Online nexus whose child count differs from `num_replicas` makes the volume Degraded;
   * a published volume without nexus state is Unknown; an unpublished one is Online with at
   * least `num_replicas` owned replicas, Faulted with none, Degraded in between.
   */
  volumeState(v: SimVolume): VolumeStateView {
    const nexus = this.s.targetNexus(v);
    if (nexus?.live) {
      const st = this.io.nexusStatus(nexus);
      const status = st === "Online" && nexus.children.length !== v.numReplicas ? "Degraded" : st;
      return { status, nexus };
    }
    if (v.target) return { status: "Unknown" };
    const owned = v.replicas.size;
    if (owned >= v.numReplicas) return { status: "Online" };
    return { status: owned === 0 ? "Faulted" : "Degraded" };
  }

  /** A volume or VolumeNotFound. */
  volume(uuid: string): SimVolume {
    const v = this.s.volumes.get(uuid);
    if (!v) throw Svc.volumeNotFound(uuid);
    return v;
  }

  /**
   * `OperationGuardArc<ReplicaSpec>::create`: a cordoned node refuses new replicas; an existing
   * spec answers AlreadyExists; io-engine needs its node up, the pool present and, for a thick
   * replica, the whole size free (else ResourceExhausted, ENOSPC).
   */
  async createReplica(req: CreateReplicaRequest): Promise<SimReplica> {
    const pool = this.s.pools.get(req.pool);
    if (!pool) throw Svc.poolNotFound(req.pool);
    const node = this.s.nodes.get(pool.node);
    if (!node) throw Svc.nodeNotFound(pool.node);
    if (node.cordonLabels.length > 0) throw Svc.cordonedNode(node.id);
    const existing = this.s.replicas.get(req.uuid);
    if (existing) {
      throw existing.status === "Deleting"
        ? Svc.pendingDeletion("Replica", req.uuid)
        : Svc.alreadyExists("Replica", req.uuid);
    }
    if (!node.online) {
      throw Svc.grpc("Unavailable", "create_replica", `status: Unavailable, node ${node.id}`);
    }
    if (pool.lost) {
      throw Svc.grpc("NotFound", "create_replica", `status: NotFound, pool ${pool.id} not found`);
    }
    const free = pool.capacity - this.s.usedBytes(pool.id);
    if (!req.thin && free < req.size) {
      throw Svc.grpc(
        "ResourceExhausted",
        "create_replica",
        `status: ResourceExhausted, message: "ENOSPC: pool ${pool.id} has ${free} bytes free"`,
      );
    }
    await this.s.store.create(pool.id, req.uuid, req.size, req.content);
    const r: SimReplica = {
      uuid: req.uuid,
      pool: pool.id,
      size: req.size,
      thin: req.thin,
      share: req.share,
      managed: req.managed,
      owners: { nexuses: [] },
      status: "Created",
      allocated: req.thin ? (req.content?.length ?? 0) : req.size,
      path: this.s.store.pathOf(pool.id, req.uuid),
    };
    this.s.addReplica(r);
    if (req.owner) this.s.own(r, req.owner);
    return r;
  }

  /**
   * `start_destroy_by` + io-engine destroy: the disowner is dropped from the owners first (in
   * memory, even when the call then fails); a replica still owned by anyone answers InUse.
   * Otherwise it is disowned entirely and marked Deleting; io-engine destroys it (a missing
   * pool counts as done), or, on a down node, it stays Deleting for the garbage collector.
   */
  async destroyReplica(r: SimReplica, by: Disowner): Promise<void> {
    if (by === "all") this.s.disownAll(r);
    else if (by !== "none" && r.owners.volume === by.volume) this.s.disownVolume(r);
    if (r.owners.volume !== undefined || r.owners.nexuses.length > 0) {
      throw Svc.inUse("Replica", r.uuid);
    }
    r.status = "Deleting";
    this.s.touch();
    const pool = this.s.pools.get(r.pool);
    if (pool && !(this.s.nodes.get(pool.node)?.online ?? false)) {
      throw Svc.grpc("Unavailable", "destroy_replica", `status: Unavailable, node ${pool.node}`);
    }
    this.s.deleteReplica(r);
    await this.s.store.remove(r.path);
  }

  /**
   * `make_replica_accessible`: the same node opens it over loopback (unshare), another node
   * over NVMe-oF (share); returns the child URI.
   */
  makeAccessible(r: SimReplica, nexusNode: string): string {
    const node = this.s.nodeOf(r);
    r.share = node === nexusNode ? "none" : "nvmf";
    this.s.touch();
    return r.share === "nvmf" ? nvmfUri(node, r.uuid) : bdevUri(r.uuid);
  }

  /**
   * `attach_replica` + `add_replica`: the nexus becomes an owner of the replica, the spec
   * records a Replica child and io-engine starts the rebuild.
   */
  attachReplica(nexus: SimNexus, r: SimReplica): void {
    const uri = this.makeAccessible(r, nexus.node);
    if (!r.owners.nexuses.includes(nexus.uuid)) r.owners.nexuses.push(nexus.uuid);
    if (nexus.children.some((c) => c.replica === r.uuid)) {
      throw Svc.childAlreadyExists(nexus.uuid, uri);
    }
    this.io.addChild(nexus, uri, r.uuid);
  }

  /**
   * `remove_replica` (nexus/operations_helper.rs): io-engine removes the child (a child it no
   * longer has counts as removed), then the nexus disowns the replica (`on_remove_disown_replica`).
   */
  removeReplicaFromNexus(nexus: SimNexus, r: SimReplica): void {
    const child = nexus.children.find((c) => c.replica === r.uuid);
    if (child && nexus.live && !child.missing) this.io.removeChild(nexus, child.uri);
    else if (child) nexus.children = nexus.children.filter((c) => c !== child);
    r.owners.nexuses = r.owners.nexuses.filter((n) => n !== nexus.uuid);
    this.s.touch();
  }

  /**
   * Creates a nexus for a volume on `node` (`create_nexus`): owned replicas healthy by the
   * volume's NexusInfo and Online, at most one per node, local first, up to `num_replicas`
   * (just one after an unclean shutdown); none answers NoOnlineReplicas; a cordoned node
   * refuses the nexus. The nexus owns its replicas (`on_create_set_owners`).
   */
  createVolumeNexus(v: SimVolume, node: string): SimNexus {
    const owned = [...v.replicas].map((id) => this.s.replicas.get(id)!).filter(Boolean);
    const pick = nexusChildren(this.s, owned, v.size, this.s.nexusInfo(v.healthInfoId), node);
    const chosen: SimReplica[] = [];
    const nodes = new Set<string>();
    for (const r of pick.items) {
      if (chosen.length >= (pick.one ? 1 : pick.items.length)) break;
      if (nodes.has(this.s.nodeOf(r))) continue;
      chosen.push(r);
      nodes.add(this.s.nodeOf(r));
    }
    chosen.splice(v.numReplicas);
    if (chosen.length === 0) throw Svc.noOnlineReplicas(v.uuid);
    if ((this.s.nodes.get(node)?.cordonLabels.length ?? 0) > 0) throw Svc.cordonedNode(node);
    const uuid = crypto.randomUUID();
    const children = chosen.map((r) => ({ uri: this.makeAccessible(r, node), replica: r.uuid }));
    const nexus = this.io.createNexus({ uuid, node, size: v.size, owner: v.uuid }, children);
    for (const r of chosen) r.owners.nexuses.push(uuid);
    return nexus;
  }

  /** Destroys a nexus: io-engine drops it and the nexus disowns its Replica children. */
  destroyNexus(nexus: SimNexus): void {
    for (const c of nexus.children) {
      const r = c.replica ? this.s.replicas.get(c.replica) : undefined;
      if (r) r.owners.nexuses = r.owners.nexuses.filter((n) => n !== nexus.uuid);
    }
    this.io.destroyNexus(nexus);
  }

  /** The owned replica a nexus child points at, if the child is a volume replica. */
  childReplica(uri: string): SimReplica | undefined {
    const id = uriUuid(uri);
    return id ? this.s.replicas.get(id) : undefined;
  }
}
