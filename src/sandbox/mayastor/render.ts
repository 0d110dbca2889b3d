/**
 * The simulated cluster in api-rest's v0 JSON shapes, as `control-plane/rest/openapi-specs/
 * v0_api_spec.yaml` defines them (Node, Pool, Replica, Nexus, Child, Volume, Specs) and as the
 * server fills them: `state.replica_topology` lists only the replicas the volume owns
 * (`core/volume/registry.rs`), a pool or replica io-engine does not report has no state, a
 * child's `state_reason` is only ever OutOfSpace (the spec's enum; other reasons map to none).
 */
import type { SimCluster } from "./cluster.ts";
import { IoEngine } from "./ioengine.ts";
import {
  type HealthState,
  type SimChild,
  type SimNexus,
  type SimNode,
  type SimReplica,
  type SimVolume,
  stateChildren,
} from "./model.ts";

/** Lvol cluster size (io-engine's default 4 MiB) for replica space usage. */
const CLUSTER_SIZE = 4 * 1024 * 1024;

/** A v0 Child. */
export interface RestChild {
  uri: string;
  state: HealthState;
  rebuildProgress?: number;
  state_reason?: "OutOfSpace";
}

/** A v0 Nexus. */
export interface RestNexus {
  uuid: string;
  node: string;
  size: number;
  state: "Online" | "Degraded" | "Faulted";
  children: RestChild[];
  deviceUri: string;
  rebuilds: number;
  protocol: "nvmf";
}

/** A v0 ReplicaTopology entry. */
export interface RestReplicaTopology {
  node?: string;
  pool?: string;
  state: HealthState;
  "child-status"?: HealthState;
  "rebuild-progress"?: number;
  usage?: {
    capacity: number;
    allocated: number;
    allocated_snapshots: 0;
    allocated_all_snapshots: 0;
  };
}

/** A v0 VolumeSpec. */
export interface RestVolumeSpec {
  uuid: string;
  size: number;
  num_replicas: number;
  status: string;
  target?: { node: string; protocol: "nvmf" };
  labels?: Record<string, string>;
  topology?: unknown;
  policy: { self_heal: boolean };
  thin: boolean;
  num_snapshots: number;
}

/** A v0 Volume. */
export interface RestVolume {
  spec: RestVolumeSpec;
  state: {
    uuid: string;
    size: number;
    status: "Unknown" | "Online" | "Degraded" | "Faulted";
    target?: RestNexus;
    replica_topology: Record<string, RestReplicaTopology>;
    usage: Record<string, number>;
  };
}

/** A v0 Node. */
export function renderNode(n: SimNode) {
  const grpcEndpoint = `${n.id}:10124`;
  return {
    id: n.id,
    spec: {
      grpcEndpoint,
      id: n.id,
      ...(Object.keys(n.labels).length ? { labels: n.labels } : {}),
      ...(n.cordonLabels.length
        ? { cordondrainstate: { cordonedstate: { cordonlabels: [...n.cordonLabels] } } }
        : {}),
    },
    state: { grpcEndpoint, id: n.id, status: n.online ? "Online" : "Offline" },
  };
}

/** A v0 Pool (no `state` while io-engine does not report it). */
export function renderPool(c: SimCluster, id: string) {
  const p = c.pools.get(id)!;
  const disks = [`aio:///dev/sim/${p.id}`];
  return {
    id: p.id,
    spec: { disks, id: p.id, labels: { ...p.labels }, node: p.node, status: "Created" },
    ...(c.poolLive(p)
      ? {
        state: {
          capacity: p.capacity,
          disks: [`${disks[0]}?uuid=${p.uuid}`],
          id: p.id,
          node: p.node,
          status: "Online",
          used: Math.min(p.capacity, c.usedBytes(p.id)),
          committed: c.committedBytes(p.id),
        },
      }
      : {}),
  };
}

/** A v0 Replica (the io-engine state of a replica). */
export function renderReplica(c: SimCluster, r: SimReplica) {
  return {
    node: c.nodeOf(r),
    pool: r.pool,
    poolUuid: c.pools.get(r.pool)?.uuid,
    share: r.share,
    size: r.size,
    space: {
      capacity_bytes: r.size,
      allocated_bytes: r.allocated,
      allocated_bytes_snapshots: 0,
      cluster_size: CLUSTER_SIZE,
      clusters: Math.ceil(r.size / CLUSTER_SIZE),
      allocated_clusters: Math.ceil(r.allocated / CLUSTER_SIZE),
    },
    state: "Online",
    thin: r.thin,
    uri: c.uriOf(r),
    uuid: r.uuid,
    kind: "Regular",
  };
}

/** A v0 Child. */
export function renderChild(n: SimNexus, ch: SimChild): RestChild {
  const out: RestChild = { uri: ch.uri, state: ch.state };
  const p = IoEngine.progress(n, ch);
  if (p !== undefined) out.rebuildProgress = p;
  if (ch.reason === "NoSpace") out.state_reason = "OutOfSpace";
  return out;
}

/** A v0 Nexus (the io-engine state; only children io-engine has). */
export function renderNexus(c: SimCluster, n: SimNexus): RestNexus {
  const children = stateChildren(n);
  return {
    children: children.map((ch) => renderChild(n, ch)),
    deviceUri: `nvmf://${n.node}:8420/nqn.2019-05.io.openebs:${n.owner ?? n.uuid}`,
    node: n.node,
    rebuilds: children.filter((ch) => ch.rebuild).length,
    protocol: "nvmf",
    size: n.size,
    state: c.io.nexusStatus(n),
    uuid: n.uuid,
  };
}

/** `replica_topology` entry of an owned replica (`Registry::replica_topology`). */
function topologyEntry(c: SimCluster, r: SimReplica, nexus?: SimNexus): RestReplicaTopology {
  const node = c.nodeOf(r) || undefined;
  if (!c.replicaLive(r)) {
    const child = nexus?.children.find((ch) => ch.replica === r.uuid && !ch.missing);
    return {
      node,
      pool: r.pool,
      state: "Unknown",
      ...(child ? { "child-status": child.state } : {}),
      ...(child && IoEngine.progress(nexus!, child) !== undefined
        ? { "rebuild-progress": IoEngine.progress(nexus!, child) }
        : {}),
    };
  }
  const uri = c.uriOf(r);
  const child = nexus ? stateChildren(nexus).find((ch) => ch.uri === uri) : undefined;
  const out: RestReplicaTopology = {
    node,
    pool: r.pool,
    state: "Online",
    usage: {
      capacity: r.size,
      allocated: r.allocated,
      allocated_snapshots: 0,
      allocated_all_snapshots: 0,
    },
  };
  if (child) {
    out["child-status"] = child.state;
    const p = IoEngine.progress(nexus!, child);
    if (p !== undefined) out["rebuild-progress"] = p;
  }
  return out;
}

/** The v0 VolumeSpec (no `num_paths`/`protocol`: the real server never sends them). */
function renderVolumeSpec(v: SimVolume): RestVolumeSpec {
  return {
    uuid: v.uuid,
    size: v.size,
    num_replicas: v.numReplicas,
    status: "Created",
    ...(v.target ? { target: { node: v.target.node, protocol: v.target.protocol } } : {}),
    ...(v.labels ? { labels: v.labels } : {}),
    ...(v.topology?.poolInclusion
      ? {
        topology: {
          pool_topology: { labelled: { inclusion: v.topology.poolInclusion, exclusion: {} } },
        },
      }
      : {}),
    policy: { self_heal: v.selfHeal },
    thin: v.thin,
    num_snapshots: 0,
  };
}

/** A v0 Volume: spec plus state with the owned replicas' topology. */
export function renderVolume(c: SimCluster, v: SimVolume): RestVolume {
  const st = c.cp.volumeState(v);
  const topo: Record<string, RestReplicaTopology> = {};
  let largest = 0, total = 0;
  for (const id of v.replicas) {
    const r = c.replicas.get(id);
    if (!r) continue;
    topo[id] = topologyEntry(c, r, st.nexus ?? c.targetNexus(v));
    if (c.replicaLive(r)) {
      largest = Math.max(largest, r.allocated);
      total += r.allocated;
    }
  }
  return {
    spec: renderVolumeSpec(v),
    state: {
      uuid: v.uuid,
      size: v.size,
      status: st.status,
      ...(st.nexus ? { target: renderNexus(c, st.nexus) } : {}),
      replica_topology: topo,
      usage: {
        capacity: v.size,
        allocated: largest,
        allocated_replica: largest,
        allocated_snapshots: 0,
        allocated_all_snapshots: 0,
        total_allocated: total,
        total_allocated_replicas: total,
        total_allocated_snapshots: 0,
      },
    },
  };
}

/** GET /specs: what the control plane wants (replica `managed` and `owners` live here). */
export function renderSpecs(c: SimCluster) {
  return {
    nexuses: [...c.nexuses.values()].map((n) => ({
      children: n.children.map((ch) => ch.uri),
      managed: true,
      node: n.node,
      ...(n.owner ? { owner: n.owner } : {}),
      share: "nvmf",
      size: n.size,
      status: "Created",
      uuid: n.uuid,
    })),
    pools: [...c.pools.values()].map((p) => ({
      disks: [`aio:///dev/sim/${p.id}`],
      id: p.id,
      labels: { ...p.labels },
      node: p.node,
      status: "Created",
    })),
    replicas: [...c.replicas.values()].map((r) => ({
      managed: r.managed,
      owners: {
        nexuses: [...r.owners.nexuses],
        ...(r.owners.volume ? { volume: r.owners.volume } : {}),
      },
      pool: r.pool,
      poolUuid: c.pools.get(r.pool)?.uuid,
      share: r.share,
      size: r.size,
      status: r.status,
      thin: r.thin,
      uuid: r.uuid,
      kind: "Regular",
    })),
    volumes: [...c.volumes.values()].map(renderVolumeSpec),
  };
}
