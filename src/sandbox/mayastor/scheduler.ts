/**
 * The control plane's scheduler, rule by rule (`core/` = `control-plane/agents/src/bin/core/`):
 * where a new volume replica goes (`core/controller/scheduling/volume.rs` AddVolumeReplica with
 * the filters of `volume_policy/{mod,node,pool,thick,simple}.rs`), which replica a decrease
 * removes (`DecreaseVolumeReplica`, `ChildSorters` in `scheduling/mod.rs`,
 * `ReplicaRemovalCandidates`), which replicas a nexus is created or re-filled with
 * (`scheduling/nexus.rs` CreateVolumeNexus, `AddVolumeNexusReplicas`) and where a volume is
 * published (`NexusTargetNode`, `core/volume/scheduling.rs`). It reads the cluster through
 * `ClusterView` and never changes it.
 */
import {
  childStateRank,
  type NexusInfo,
  type SimChild,
  type SimNexus,
  type SimNode,
  type SimPool,
  type SimReplica,
  type SimVolume,
} from "./model.ts";
import { type Criterion, weightedCompare } from "./weights.ts";

/** What the scheduler reads. */
export interface ClusterView {
  readonly nodes: ReadonlyMap<string, SimNode>;
  readonly pools: ReadonlyMap<string, SimPool>;
  readonly replicas: ReadonlyMap<string, SimReplica>;
  readonly nexuses: ReadonlyMap<string, SimNexus>;
  /** NexusInfo from the persistent store. */
  nexusInfo(nexus: string | undefined): NexusInfo | undefined;
  /** io-engine reports the pool (node up, disk present). */
  poolLive(pool: SimPool): boolean;
  /** io-engine reports the replica. */
  replicaLive(r: SimReplica): boolean;
  /** The replica's current URI. */
  uriOf(r: SimReplica): string;
  /** Pool state `used` (allocated bytes). */
  usedBytes(pool: string): number;
  /** Pool `committed` (sum of replica sizes). */
  committedBytes(pool: string): number;
  /** Replicas io-engine reports on the pool. */
  replicasOn(pool: string): number;
}

/** Thin-provisioning arguments of the core agent (`core/main.rs` defaults). */
export const THIN_ARGS = { poolCommitment: 250, volumeCommitment: 40, volumeCommitmentInitial: 40 };
/** `PoolBaseFilters::free_space_watermark`: 16 MiB. */
const FREE_SPACE_WATERMARK = 16 * 1024 * 1024;

/** A pool as the scheduler grades it (`PoolItem` / `PoolWrapper`). */
interface PoolItem {
  pool: SimPool;
  node: SimNode;
  free: number;
  committed: number;
  replicas: number;
}

function poolItems(c: ClusterView): PoolItem[] {
  const out: PoolItem[] = [];
  for (const p of [...c.pools.values()].sort((a, b) => cmp(a.node, b.node) || cmp(a.id, b.id))) {
    const node = c.nodes.get(p.node);
    // PoolItemLister lists the pools io-engine reports (pool wrappers with state).
    if (!node || !c.poolLive(p)) continue;
    out.push({
      pool: p,
      node,
      free: Math.max(0, p.capacity - c.usedBytes(p.id)),
      committed: c.committedBytes(p.id),
      replicas: c.replicasOn(p.id),
    });
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `qualifies_label_criteria` (volume_policy/mod.rs): every key present; empty value = any. */
function qualifies(want: Record<string, string> | undefined, have: Record<string, string>) {
  for (const [k, v] of Object.entries(want ?? {})) {
    if (!(k in have)) return false;
    if (v !== "" && have[k] !== v) return false;
  }
  return true;
}

/** Nodes holding a replica the volume owns (`volume_data_nodes`, volume/specs.rs). */
export function volumeDataNodes(c: ClusterView, v: SimVolume): Set<string> {
  const nodes = new Set<string>();
  for (const id of v.replicas) {
    const r = c.replicas.get(id);
    const p = r && c.pools.get(r.pool);
    if (p) nodes.add(p.node);
  }
  return nodes;
}

/** Largest allocation among the volume's replicas (`AddVolumeReplica::allocated_bytes`). */
function allocatedBytes(c: ClusterView, v: SimVolume): number | undefined {
  if (v.replicas.size === 0) return 0;
  const used = [...v.replicas].map((id) => c.replicas.get(id)!).filter((r) => r && c.replicaLive(r))
    .map((r) => r.allocated);
  return used.length === 0 ? undefined : Math.max(...used);
}

/** The DefaultBasePolicy filters (node, then pool), in upstream order. */
function baseFilter(c: ClusterView, v: SimVolume, items: PoolItem[]): PoolItem[] {
  const used = volumeDataNodes(c, v);
  const thin = v.thin;
  return items
    // node.rs cordoned_for_pool: any cordon label takes the node out.
    .filter((i) => i.node.cordonLabels.length === 0)
    // node.rs online_for_pool
    .filter((i) => i.node.online)
    // node.rs allowed: an explicit topology names the only usable nodes.
    .filter((i) =>
      !v.topology?.allowedNodes?.length || v.topology.allowedNodes.includes(i.pool.node)
    )
    // node.rs unused: never two replicas of a volume on one node.
    .filter((i) => !used.has(i.pool.node))
    // node.rs topology: node inclusion/exclusion labels.
    .filter((i) =>
      !v.topology?.nodeInclusion && !v.topology?.nodeExclusion ||
      qualifies(v.topology.nodeInclusion, i.node.labels) &&
        qualifies(v.topology.nodeExclusion, i.node.labels)
    )
    // pool.rs usable (Faulted/Unknown pools are out; lost pools are not listed at all).
    // pool.rs capacity
    .filter((i) => i.pool.capacity > v.size)
    // pool.rs min_free_space
    .filter((i) => thin ? i.free > FREE_SPACE_WATERMARK : i.free > v.size)
    // pool.rs topology: only volumes created with pool inclusion labels are steered by them.
    .filter((i) =>
      !v.topology?.poolInclusion || Object.keys(v.topology.poolInclusion).length === 0 ||
      qualifies(v.topology.poolInclusion, i.pool.labels)
    );
}

const THICK_SORT: Criterion<PoolItem>[] = [
  // thick.rs: replica count (Lower, 40) then free space (Higher, 60).
  { weight: 40, grading: "lower", value: (i) => i.replicas },
  { weight: 60, grading: "higher", value: (i) => i.free },
];

const THIN_SORT: Criterion<PoolItem>[] = [
  // simple.rs: replica count 25, free space 40, overcommitment 35.
  { weight: 25, grading: "lower", value: (i) => i.replicas },
  { weight: 40, grading: "higher", value: (i) => i.free },
  {
    weight: 35,
    grading: "lower",
    value: (i) => Math.max(0, i.committed - i.pool.capacity),
  },
];

/** SimplePolicy::min_free_space_util (simple.rs). */
function thinMinFree(free: number, allocated: number | undefined, size: number): boolean {
  if (allocated === undefined) return free > size; // no_state_min_free_space_percent = 100
  const pct = allocated === 0 ? THIN_ARGS.volumeCommitmentInitial : THIN_ARGS.volumeCommitment;
  return free > Math.min(allocated + Math.floor((pct * size) / 100), size);
}

/**
 * Pools for a new replica of the volume, best first (`volume_replica_candidates`): ThickPolicy
 * for thick volumes, SimplePolicy for thin ones.
 */
export function poolCandidates(c: ClusterView, v: SimVolume): SimPool[] {
  let items = baseFilter(c, v, poolItems(c));
  if (!v.thin) {
    // thick.rs min_free_space_full_rebuild: a full rebuild needs the whole size.
    items = items.filter((i) => i.free > v.size).sort((a, b) => weightedCompare(THICK_SORT, a, b));
  } else {
    const allocated = allocatedBytes(c, v);
    items = items
      .filter((i) => thinMinFree(i.free, allocated, v.size))
      // pool_overcommit: (size + committed) * 100 < pool_commitment% * capacity.
      .filter((i) => (v.size + i.committed) * 100 < THIN_ARGS.poolCommitment * i.pool.capacity)
      .sort((a, b) => weightedCompare(THIN_SORT, a, b));
  }
  return items.map((i) => i.pool);
}

/** A replica as the removal order sees it (`ReplicaItem`). */
export interface ReplicaItem {
  replica: SimReplica;
  /** io-engine reports it. */
  live: boolean;
  /** The nexus spec records it as a Replica child. */
  childSpec: boolean;
  /** The nexus child at its URI, if any. */
  child?: SimChild;
  /** Its NexusInfo entry, if any. */
  info?: { healthy: boolean };
}

/** `ChildSorters::sort` (scheduling/mod.rs): least wanted first. */
function childSort(a: ReplicaItem, b: ReplicaItem): number {
  // sort_by_health: a replica without info sorts before a healthy one.
  const health = (() => {
    if (!a.info) return b.info?.healthy ? -1 : 0;
    if (b.info && a.info.healthy && !b.info.healthy) return 1;
    if (b.info && !a.info.healthy && b.info.healthy) return -1;
    return 0;
  })();
  if (health !== 0) return health;
  // sort_by_child: as written upstream, a non-child sorts after a child; then child state.
  const child = (() => {
    if (!a.childSpec) return b.childSpec ? 1 : 0;
    if (!b.childSpec) return -1;
    if (a.child && b.child) return childStateRank(a.child.state) - childStateRank(b.child.state);
    if (a.child) return -1;
    if (b.child) return 1;
    return 0;
  })();
  if (child !== 0) return child;
  // A local (unshared) replica is kept over a remote one.
  const aLocal = a.replica.share === "none", bLocal = b.replica.share === "none";
  if (aLocal === bLocal) return 0;
  return aLocal ? 1 : -1;
}

/** Items for every replica the volume owns, in the volume's own order. */
function replicaItems(c: ClusterView, v: SimVolume): ReplicaItem[] {
  const nexus = v.target ? c.nexuses.get(v.target.nexus) : undefined;
  const info = c.nexusInfo(v.healthInfoId);
  return [...v.replicas].map((id) => c.replicas.get(id)!).filter(Boolean).map((r) => {
    const live = c.replicaLive(r);
    const uri = c.uriOf(r);
    return {
      replica: r,
      live,
      childSpec: !!nexus?.children.some((ch) => ch.replica === r.uuid),
      child: live && nexus?.live ? nexus.children.find((ch) => ch.uri === uri) : undefined,
      info: info?.children.find((i) => i.uuid === r.uuid),
    };
  });
}

/**
 * `ReplicaRemovalCandidates` for a decrease to `desired`: unhealthy replicas (by NexusInfo; all
 * are healthy when the volume has no NexusInfo) go first, then healthy ones only while more
 * than `desired` healthy replicas are Online.
 */
export class RemovalCandidates {
  readonly #healthy: ReplicaItem[];
  readonly #unhealthy: ReplicaItem[];

  constructor(c: ClusterView, v: SimVolume, readonly desired: number) {
    const hasInfo = c.nexusInfo(v.healthInfoId) !== undefined;
    const items = replicaItems(c, v).sort(childSort);
    const healthy = (i: ReplicaItem) => i.info ? i.info.healthy : !hasInfo;
    // Least wanted at the front; upstream reverses and pops, i.e. takes from the front.
    this.#healthy = items.filter(healthy);
    this.#unhealthy = items.filter((i) => !healthy(i));
  }

  /** The next replica to remove, or undefined when none may go. */
  next(): ReplicaItem | undefined {
    const u = this.#unhealthy.shift();
    if (u) return u;
    const online = this.#healthy.filter((i) => i.live).length;
    return online > this.desired ? this.#healthy.shift() : undefined;
  }
}

/**
 * Replicas to add to a volume's nexus (`AddVolumeNexusReplicas`): owned, not yet in the nexus
 * spec, Online, big enough; local to the nexus first, then healthy by NexusInfo, then the
 * pool with less free space first (as upstream compares).
 */
export function attachCandidates(c: ClusterView, v: SimVolume, nexus: SimNexus): SimReplica[] {
  const info = c.nexusInfo(nexus.uuid);
  const healthy = (r: SimReplica) =>
    info?.children.find((i) => i.uuid === r.uuid)?.healthy ?? false;
  const free = (r: SimReplica) => {
    const p = c.pools.get(r.pool)!;
    return p.capacity - c.usedBytes(p.id);
  };
  const local = (r: SimReplica) => c.pools.get(r.pool)?.node === nexus.node;
  return [...v.replicas].map((id) => c.replicas.get(id)!).filter((r) =>
    r && !nexus.children.some((ch) => ch.replica === r.uuid) && c.replicaLive(r) &&
    r.size >= v.size
  ).sort((a, b) => {
    if (local(a) !== local(b)) return local(a) ? -1 : 1;
    if (healthy(a) !== healthy(b)) return healthy(a) ? -1 : 1;
    return free(a) - free(b);
  });
}

/**
 * Replicas a nexus is (re)created with (`CreateVolumeNexus` + `healthy_volume_replicas`):
 * healthy by NexusInfo (all on a first creation), Online, big enough, local first. After an
 * unclean shutdown only one ("One") is used and the rest are rebuilt later.
 */
export function nexusChildren(
  c: ClusterView,
  replicas: Iterable<SimReplica>,
  size: number,
  info: NexusInfo | undefined,
  targetNode: string,
): { items: SimReplica[]; one: boolean } {
  const healthy = (r: SimReplica) =>
    info === undefined || (info.children.find((i) => i.uuid === r.uuid)?.healthy ?? false);
  const items = [...replicas].filter((r) => healthy(r) && c.replicaLive(r) && r.size >= size)
    .sort((a, b) => {
      const la = c.pools.get(a.pool)?.node === targetNode;
      const lb = c.pools.get(b.pool)?.node === targetNode;
      return la === lb ? 0 : la ? -1 : 1;
    });
  return { items, one: info !== undefined && !info.cleanShutdown };
}

/**
 * The node a volume is published on when the caller names none (`NexusTargetNode` +
 * `target_node_candidate`): online, uncordoned nodes without a target of this volume, fewest
 * nexuses first; a 1-replica volume is pinned to its replica's node.
 */
export function targetNode(c: ClusterView, v: SimVolume): string | undefined {
  const nexusCount = (n: string) =>
    [...c.nexuses.values()].filter((x) => x.node === n && x.live).length;
  const candidates = [...c.nodes.values()]
    .filter((n) => n.online && n.cordonLabels.length === 0)
    .filter((n) => ![...c.nexuses.values()].some((x) => x.owner === v.uuid && x.node === n.id))
    .sort((a, b) => nexusCount(a.id) - nexusCount(b.id) || cmp(a.id, b.id));
  if (v.numReplicas === 1) {
    const last = [...v.replicas].map((id) => c.replicas.get(id)).filter(Boolean).at(-1);
    const node = last && c.pools.get(last.pool)?.node;
    if (node && candidates.some((n) => n.id === node)) return node;
  }
  return candidates[0]?.id;
}
