/**
 * Renders the simulated cluster in api-rest's v0 JSON shapes (types from the
 * adapter's zod schemas, so both sides agree by construction) and the
 * io-engine metrics exporter's Prometheus text.
 */
import type { DiskPoolCR } from "../../mayastor/diskpool.ts";
import { DISKPOOL_API_VERSION } from "../../mayastor/diskpool.ts";
import type {
  RestChild,
  RestNexus,
  RestPool,
  RestReplica,
  RestReplicaTopology,
  RestVolume,
} from "../../mayastor/rest_schemas.ts";
import { type SimChild, SimCluster, type SimReplica, type SimVolume } from "./cluster.ts";

/** A Pool object (no `state` while its node is down, as api-rest does). */
export function renderPool(c: SimCluster, id: string): RestPool {
  const p = c.pools.get(id)!;
  const disks = [`aio:///dev/sim/${p.id}`];
  const out: RestPool = {
    id: p.id,
    spec: { id: p.id, node: p.node, disks, labels: p.labels, status: "Created" },
  };
  if (!p.offline) {
    const used = c.usedBytes(p.id);
    out.state = {
      id: p.id,
      node: p.node,
      capacity: p.capacity,
      used,
      committed: used,
      disks: [`${disks[0]}?uuid=${p.uuid}`],
      status: "Online",
    };
  }
  return out;
}

/** A Replica object. */
export function renderReplica(c: SimCluster, r: SimReplica): RestReplica {
  const node = c.nodeOf(r);
  return {
    uuid: r.uuid,
    node,
    pool: r.pool,
    poolUuid: c.pools.get(r.pool)?.uuid,
    share: r.shared ? "nvmf" : "none",
    size: r.size,
    state: c.replicaState(r),
    thin: false,
    uri: r.shared
      ? `nvmf://${node}:8420/nqn.2019-05.io.openebs:${r.uuid}?uuid=${r.uuid}`
      : `bdev:///${r.uuid}?uuid=${r.uuid}`,
    kind: "Regular",
  };
}

/** A nexus Child object. */
export function renderChild(v: SimVolume, ch: SimChild): RestChild {
  const out: RestChild = { uri: ch.uri, state: ch.state };
  const p = SimCluster.progress(v, ch);
  if (p !== undefined) out.rebuildProgress = p;
  return out;
}

/** A Nexus object (the volume target). */
export function renderNexus(c: SimCluster, v: SimVolume): RestNexus {
  const n = v.nexus!;
  return {
    uuid: n.uuid,
    node: n.node,
    size: v.size,
    state: c.nexusState(v),
    children: n.children.map((ch) => renderChild(v, ch)),
    deviceUri: `nvmf://${n.node}:8420/nqn.2019-05.io.openebs:nexus-${n.uuid}`,
    rebuilds: n.children.filter((ch) => ch.rebuild && !ch.rebuild.failed).length,
    protocol: "nvmf",
  };
}

/** A Volume object: spec plus state with replica_topology. */
export function renderVolume(c: SimCluster, v: SimVolume): RestVolume {
  const topo: Record<string, RestReplicaTopology> = {};
  for (const id of v.replicas) {
    const r = c.replicas.get(id);
    if (!r) continue;
    const t: RestReplicaTopology = { node: c.nodeOf(r), pool: r.pool, state: c.replicaState(r) };
    const ch = c.childOf(v, id);
    if (ch) {
      t["child-status"] = ch.state;
      const p = SimCluster.progress(v, ch);
      if (p !== undefined) t["rebuild-progress"] = p;
    }
    topo[id] = t;
  }
  const out: RestVolume = {
    spec: {
      uuid: v.uuid,
      size: v.size,
      num_replicas: v.numReplicas,
      status: "Created",
      thin: false,
      policy: { self_heal: true },
      num_snapshots: 0,
    },
    state: {
      uuid: v.uuid,
      size: v.size,
      status: c.volumeStatus(v),
      replica_topology: topo,
    },
  };
  if (v.nexus) {
    out.spec.target = { node: v.nexus.node, protocol: "nvmf" };
    out.state.target = renderNexus(c, v);
  }
  return out;
}

/** DiskPool CRs for the simulated pools (namespace `mayastor`). */
export function renderDiskPools(c: SimCluster, namespace = "mayastor"): DiskPoolCR[] {
  return [...c.pools.values()].map((p) => {
    const used = c.usedBytes(p.id);
    return {
      apiVersion: DISKPOOL_API_VERSION,
      kind: "DiskPool",
      metadata: { name: p.id, namespace, labels: p.labels },
      spec: { node: p.node, disks: [`aio:///dev/sim/${p.id}`] },
      status: {
        cr_state: "Created",
        pool_status: p.offline ? "Unknown" : "Online",
        capacity: p.offline ? 0 : p.capacity,
        used: p.offline ? 0 : used,
        available: p.offline ? 0 : Math.max(0, p.capacity - used),
      },
    };
  });
}

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * The metrics exporter's text: per-volume gauges holding cumulative counts
 * (`volume_*`, labels node and pv_name) and per-pool gauges (`diskpool_*`,
 * labels node and name). Pools whose node is down are absent, as their io-engine is.
 */
export function renderMetrics(c: SimCluster): string {
  const lines: string[] = [];
  const fam = (name: string, help: string) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
  };
  // A volume with no replica lives in the EC cold tier, which serves (and counts) its IO.
  const vols = [...c.volumes.values()].filter((v) => v.nexus || v.replicas.size === 0);
  const counters = new Map(vols.map((v) => [v.uuid, c.countersOf(v.uuid)]));
  const volFamilies = [
    ["volume_num_read_ops", "Number of read operations on the volume", "readOps"],
    ["volume_num_write_ops", "Number of write operations on the volume", "writeOps"],
    ["volume_bytes_read", "Total bytes read from the volume", "bytesRead"],
    ["volume_bytes_written", "Total bytes written to the volume", "bytesWritten"],
  ] as const;
  for (const [name, help, key] of volFamilies) {
    fam(name, help);
    for (const v of vols) {
      const k = counters.get(v.uuid)!;
      lines.push(
        `${name}{node="${esc(v.nexus?.node ?? "ec-tier")}",pv_name="${esc(v.pvName)}"} ${
          Math.floor(k[key])
        }`,
      );
    }
  }
  const pools = [...c.pools.values()].filter((p) => !p.offline);
  const poolFamilies: [string, string, (id: string) => number][] = [
    ["diskpool_total_size_bytes", "Total size of the pool", (id) => c.pools.get(id)!.capacity],
    ["diskpool_used_size_bytes", "Used size of the pool", (id) => c.usedBytes(id)],
    ["diskpool_committed_size_bytes", "Committed size of the pool", (id) => c.usedBytes(id)],
    [
      "diskpool_status",
      "Status of the pool (0, 1, 2, 3) = {Unknown, Online, Degraded, Faulted}",
      () => 1,
    ],
  ];
  for (const [name, help, f] of poolFamilies) {
    fam(name, help);
    for (const p of pools) {
      lines.push(`${name}{node="${esc(p.node)}",name="${esc(p.id)}"} ${f(p.id)}`);
    }
  }
  return lines.join("\n") + "\n";
}
