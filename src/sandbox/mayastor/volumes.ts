/**
 * Volume operations of the core agent (`core/` = `control-plane/agents/src/bin/core/`):
 * creation with the scheduler's pools (`core/volume/operations.rs` CreateVolumeExe,
 * `core/volume/specs.rs` create_volume_replicas), destruction, publish/unpublish
 * (`ResourcePublishing`), and `replica_count` changes with their preconditions
 * (`core/volume/specs.rs` start_update_op SetReplica) and effects
 * (`core/volume/operations_helper.rs` increase_volume_replica / decrease_volume_replica).
 */
import type { CreateVolumeBody, PublishVolumeBody } from "./bodies.ts";
import type { ControlPlane, CreateReplicaRequest } from "./controlplane.ts";
import { Svc } from "./errors.ts";
import type { SimReplica, SimVolume, VolumeTopology } from "./model.ts";
import { anchorProfile } from "./profiles.ts";
import { poolCandidates, RemovalCandidates, targetNode } from "./scheduler.ts";

/** The volume spec's topology from a CreateVolumeBody's Topology. */
export function topologyOf(t: CreateVolumeBody["topology"]): VolumeTopology | undefined {
  if (!t) return undefined;
  const out: VolumeTopology = {};
  const node = t.node_topology;
  if (node && "labelled" in node) {
    out.nodeInclusion = node.labelled.inclusion;
    out.nodeExclusion = node.labelled.exclusion;
  }
  if (node && "explicit" in node) out.allowedNodes = node.explicit.allowed_nodes;
  if (t.pool_topology) out.poolInclusion = t.pool_topology.labelled.inclusion;
  return out;
}

/**
 * A replica the control plane creates for a volume (`volume_replica_candidates`): managed,
 * owned by the volume, unshared until a nexus on another node needs it.
 */
export function volumeReplica(
  v: SimVolume,
  pool: string,
  content?: Uint8Array,
): CreateReplicaRequest {
  return {
    uuid: crypto.randomUUID(),
    pool,
    size: v.size,
    thin: v.thin,
    share: "none",
    managed: true,
    owner: v.uuid,
    content,
  };
}

/** Volume operations over the shared control-plane helpers. */
export class VolumeOps {
  constructor(readonly cp: ControlPlane) {}

  /**
   * PUT /volumes/{id}: replicas on the scheduler's candidate pools, one per node (spread
   * labels too), each owned by the volume and managed; too few candidates answers
   * NotEnoughResources, too few created ReplicaCreateNumber (and the created ones go).
   */
  async create(
    uuid: string,
    body: CreateVolumeBody,
    seed?: { content?: Uint8Array; pools?: string[] },
  ): Promise<SimVolume> {
    const s = this.cp.s;
    const existing = s.volumes.get(uuid);
    if (existing) throw Svc.alreadyExists("Volume", uuid);
    const topology = topologyOf(body.topology);
    if (topology?.allowedNodes?.length && body.replicas > topology.allowedNodes.length) {
      throw Svc.invalidArguments();
    }
    const v: SimVolume = {
      uuid,
      size: body.size,
      numReplicas: body.replicas,
      thin: body.thin,
      selfHeal: body.policy.self_heal,
      labels: body.labels,
      topology,
      replicas: new Set(),
      profile: anchorProfile({ kind: "idle" }, s.now()),
    };
    s.volumes.set(uuid, v);
    s.touch();
    try {
      await this.#createReplicas(v, body.replicas, seed);
    } catch (e) {
      s.volumes.delete(uuid);
      s.touch();
      throw e;
    }
    return v;
  }

  async #createReplicas(
    v: SimVolume,
    want: number,
    seed?: { content?: Uint8Array; pools?: string[] },
  ): Promise<void> {
    const s = this.cp.s;
    // A seeded volume names its pools (a test layout); otherwise the scheduler picks.
    const candidates = seed?.pools
      ? seed.pools.map((id) => {
        const p = s.pools.get(id);
        if (!p) throw Svc.poolNotFound(id);
        return p;
      })
      : poolCandidates(s, v);
    if (want > 0 && candidates.length === 0) throw Svc.notEnough("pools", 0, 1);
    if (want > candidates.length) throw Svc.notEnough("pools", candidates.length, want);
    const created: SimReplica[] = [];
    for (const pool of candidates) {
      if (created.length >= want) break;
      // operations.rs: never re-use a node (nor a node sharing an exclusion label value).
      const sameNode = created.some((r) =>
        s.nodeOf(r) === pool.node || this.#sameSpread(v, r, pool.node)
      );
      if (sameNode) {
        if (seed?.pools) throw Svc.invalidArguments();
        continue;
      }
      try {
        created.push(await this.cp.createReplica(volumeReplica(v, pool.id, seed?.content)));
      } catch (e) {
        if (seed?.pools) throw e;
        // "continue trying..."
      }
    }
    if (created.length < want) {
      for (const r of created) await this.cp.destroyReplica(r, "all").catch(() => {});
      throw Svc.replicaCreateNumber(v.uuid);
    }
  }

  /** `spread_label_is_same`: nodes sharing a value of a node-topology exclusion key. */
  #sameSpread(v: SimVolume, r: SimReplica, node: string): boolean {
    const keys = Object.keys(v.topology?.nodeExclusion ?? {});
    if (keys.length === 0) return false;
    const a = this.cp.s.nodes.get(this.cp.s.nodeOf(r))?.labels ?? {};
    const b = this.cp.s.nodes.get(node)?.labels ?? {};
    return keys.some((k) => k in a && k in b && a[k] === b[k]);
  }

  /**
   * DELETE /volumes/{id}: its nexus goes (disowning), then every owned replica is destroyed
   * (disown all); a replica on an unreachable node stays Deleting for the garbage collector.
   */
  async destroy(uuid: string): Promise<void> {
    const s = this.cp.s;
    const v = this.cp.volume(uuid);
    for (const n of [...s.nexuses.values()].filter((n) => n.owner === uuid)) {
      this.cp.destroyNexus(n);
      s.nexusInfos.delete(n.uuid);
    }
    if (v.healthInfoId) s.nexusInfos.delete(v.healthInfoId);
    for (const id of [...v.replicas]) {
      const r = s.replicas.get(id);
      if (r) await this.cp.destroyReplica(r, "all").catch(() => {});
    }
    s.volumes.delete(uuid);
    s.touch();
  }

  /**
   * PUT /volumes/{id}/target (`publish`, `next_target_node`, `create_nexus`): refuses a
   * published volume, iscsi, an offline or cordoned node; otherwise creates the nexus from
   * the volume's healthy owned replicas and records the target.
   */
  publish(uuid: string, body: PublishVolumeBody): SimVolume {
    const s = this.cp.s;
    const v = this.cp.volume(uuid);
    if (v.target) throw Svc.volumeAlreadyPublished(uuid, v.target.node);
    let node = body.node;
    if (node === undefined) {
      node = targetNode(s, v);
      if (!node) throw Svc.notEnough("nodes", 0, 1);
    } else {
      const n = s.nodes.get(node);
      if (!n) throw Svc.nodeNotFound(node);
      if (!n.online) throw Svc.nodeNotOnline(node);
    }
    if (body.protocol !== "nvmf") throw Svc.invalidShareProtocol(uuid, "Some(Iscsi)");
    const last = v.healthInfoId;
    const nexus = this.cp.createVolumeNexus(v, node);
    v.target = { node, nexus: nexus.uuid, protocol: "nvmf" };
    v.publishContext = body.publish_context;
    v.healthInfoId = nexus.uuid;
    // The previous target's NexusInfo is deleted once the new one exists.
    if (last && last !== nexus.uuid) s.nexusInfos.delete(last);
    s.touch();
    return v;
  }

  /** DELETE /volumes/{id}/target: the nexus is destroyed (clean shutdown kept in NexusInfo). */
  unpublish(uuid: string, force: boolean): SimVolume {
    const s = this.cp.s;
    const v = this.cp.volume(uuid);
    if (!v.target) throw Svc.volumeNotPublished(uuid);
    const nexus = s.targetNexus(v);
    if (nexus) {
      const nodeUp = s.nodes.get(nexus.node)?.online ?? false;
      if (!nodeUp && !force) throw Svc.nodeNotOnline(nexus.node);
      this.cp.destroyNexus(nexus);
    }
    v.target = undefined;
    v.publishContext = undefined;
    s.touch();
    return v;
  }

  /**
   * PUT /volumes/{id}/replica_count/{n}. Preconditions (specs.rs SetReplica): a published
   * volume without nexus state is NotReady; the same count, a count below 1, a change of more
   * than one, or an increase of a volume that is not Online are all refused (412).
   */
  async setReplicaCount(uuid: string, n: number): Promise<SimVolume> {
    const v = this.cp.volume(uuid);
    const state = this.cp.volumeState(v);
    if (!!v.target !== !!state.nexus) throw Svc.notReady("Volume", uuid);
    if (n === v.numReplicas) throw Svc.replicaCountAchieved(uuid, v.numReplicas);
    if (n < 1) throw Svc.lastReplica("", uuid);
    if (Math.abs(n - v.numReplicas) > 1) throw Svc.replicaChangeCount();
    if (state.status !== "Online" && n > v.numReplicas) {
      throw Svc.replicaIncrease(uuid, state.status);
    }
    if (n > v.numReplicas) await this.#increase(v, n);
    else await this.#decrease(v, n);
    return v;
  }

  /**
   * `increase_volume_replica`: the first candidate pool that takes the replica gets it (no
   * candidate: NotEnoughResources); it is attached to the nexus if the volume is published;
   * the count is committed only when both steps succeed.
   */
  async #increase(v: SimVolume, n: number): Promise<void> {
    const replica = await this.createVolumeReplica(v);
    const nexus = this.cp.s.targetNexus(v);
    if (nexus) this.cp.attachReplica(nexus, replica);
    v.numReplicas = n;
    this.cp.s.touch();
  }

  /** `create_volume_replica_with` over `volume_replica_candidates`. */
  async createVolumeReplica(v: SimVolume): Promise<SimReplica> {
    const candidates = poolCandidates(this.cp.s, v);
    if (candidates.length === 0) throw Svc.notEnough("pools", 0, 1);
    let last: unknown = Svc.notEnough("replicas", 0, 1);
    for (const pool of candidates) {
      try {
        return await this.cp.createReplica(volumeReplica(v, pool.id));
      } catch (e) {
        last = e;
      }
    }
    throw last;
  }

  /**
   * `decrease_volume_replica`: the removal order's first candidate leaves the nexus
   * (`remove_replica`, which disowns it from the nexus) and is destroyed on behalf of the
   * volume; with no candidate the count is simply committed (ReplicaRemovalNoCandidates).
   */
  async #decrease(v: SimVolume, n: number): Promise<void> {
    const candidate = new RemovalCandidates(this.cp.s, v, n).next();
    if (candidate) {
      const nexus = this.cp.s.targetNexus(v);
      if (nexus?.children.some((c) => c.replica === candidate.replica.uuid)) {
        this.cp.removeReplicaFromNexus(nexus, candidate.replica);
      }
      await this.cp.destroyReplica(candidate.replica, { volume: v.uuid });
    }
    v.numReplicas = n;
    this.cp.s.touch();
  }
}
