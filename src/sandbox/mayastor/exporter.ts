/**
 * The io-engine metrics exporter (openebs/mayastor-extensions `metrics-exporter/src/bin/
 * io_engine/`): one per node (a DaemonSet pod on port 9502 reading its own io-engine, node name
 * from MY_NODE_NAME), so each node's exporter reports only that node's pools and nexuses.
 * Families (`collector/{pool,nexus_stat}.rs`): `diskpool_{total,used,committed}_size_bytes` and
 * `diskpool_status` with labels node and name; `volume_{bytes_read,num_read_ops,bytes_written,
 * num_write_ops,read_latency_us,write_latency_us}` with labels node and pv_name = "pvc-" + the
 * nexus name (the volume uuid). All are gauges holding the io-engine's cumulative counts, so a
 * recreated nexus starts from zero and an unpublished volume has no series.
 */
import type { SimCluster } from "./cluster.ts";

const POOL_FAMILIES = [
  ["diskpool_total_size_bytes", "Total size of the pool in bytes"],
  ["diskpool_used_size_bytes", "Used size of the pool in bytes"],
  ["diskpool_committed_size_bytes", "Committed size of the pool in bytes"],
  ["diskpool_status", "Status of the pool"],
] as const;

const VOLUME_FAMILIES = [
  ["volume_bytes_read", "Total bytes read from the volume", "bytesRead"],
  ["volume_num_read_ops", "Number of read operations on the volume", "readOps"],
  ["volume_bytes_written", "Total bytes written on the volume", "bytesWritten"],
  ["volume_num_write_ops", "Number of write operations on the volume", "writeOps"],
  ["volume_read_latency_us", "Total read latency on the volume in usec", "readLatencyUs"],
  ["volume_write_latency_us", "Total write latency on the volume in usec", "writeLatencyUs"],
] as const;

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** One sample line (labels in name order, as the prometheus crate sorts them). */
function sample(name: string, labels: Record<string, string>, value: number): string {
  const ls = Object.keys(labels).sort().map((k) => `${k}="${esc(labels[k])}"`).join(",");
  return `${name}{${ls}} ${Math.floor(value)}`;
}

/** Samples of every family, by family name, for the given nodes. */
function collect(c: SimCluster, nodes: Set<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (family: string, line: string) => {
    const list = out.get(family) ?? [];
    list.push(line);
    out.set(family, list);
  };
  for (const p of [...c.pools.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    if (!nodes.has(p.node) || !c.poolLive(p)) continue;
    const labels = { node: p.node, name: p.id };
    const values = [p.capacity, c.usedBytes(p.id), c.committedBytes(p.id), 1 /* PoolOnline */];
    POOL_FAMILIES.forEach(([name], i) => add(name, sample(name, labels, values[i])));
  }
  for (const v of c.volumes.values()) {
    const n = c.targetNexus(v);
    if (!n?.live || !nodes.has(n.node)) continue;
    const k = c.countersOf(v.uuid);
    for (const [name, , key] of VOLUME_FAMILIES) {
      add(name, sample(name, { node: n.node, pv_name: `pvc-${v.uuid}` }, k[key]));
    }
  }
  return out;
}

/** Exposition text for the families that have samples, sorted by name (`Registry::gather`). */
function text(families: Map<string, string[]>): string {
  const help = new Map<string, string>(
    [...POOL_FAMILIES, ...VOLUME_FAMILIES].map((f) => [f[0], f[1]]),
  );
  const lines: string[] = [];
  for (const name of [...families.keys()].sort()) {
    lines.push(`# HELP ${name} ${help.get(name) ?? name}`, `# TYPE ${name} gauge`);
    lines.push(...families.get(name)!);
  }
  return lines.length ? lines.join("\n") + "\n" : "";
}

/** What the exporter on `node` serves. */
export function renderNodeMetrics(c: SimCluster, node: string): string {
  return text(collect(c, new Set([node])));
}

/**
 * TEST FIXTURE, not an upstream exporter: every node's exporter in one text (what a Prometheus
 * scraping them all would hold), plus the sandbox EC tier's series for archived volumes (a
 * volume without replicas, whose IO the EC tier serves; node "ec-tier").
 */
export function renderAllMetrics(c: SimCluster): string {
  const families = collect(c, new Set(c.nodes.keys()));
  for (const v of c.volumes.values()) {
    if (v.replicas.size !== 0 || v.target) continue;
    const k = c.ecCounters(v.uuid);
    for (const [name, , key] of VOLUME_FAMILIES) {
      const list = families.get(name) ?? [];
      list.push(sample(name, { node: "ec-tier", pv_name: `pvc-${v.uuid}` }, k[key]));
      families.set(name, list);
    }
  }
  return text(families);
}
