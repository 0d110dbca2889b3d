/**
 * The Mayastor v2 simulator as real HTTP servers on 127.0.0.1: api-rest's `/v0` (routes.ts),
 * the test-facing admin API under `/sim` (admin.ts), and one metrics exporter per node on its
 * own port, as the exporter DaemonSet runs one pod per io-engine node (exporter.ts).
 * `startMayastorSim()` is the entry point. Calls run one at a time against the model, each
 * after bringing the cluster to the clock's now (due reconcile passes, rebuild progress).
 */
import type { Clock } from "../../clock.ts";
import type { DiskPoolCR } from "../../mayastor/diskpool.ts";
import { admin, applyFault, clearFaults, replicaHashes } from "./admin.ts";
import { SimCluster, type SimPoolConfig, type SimVolumeConfig, TIER_LABEL } from "./cluster.ts";
import { fileSha256, ReplicaStore } from "./datastore.ts";
import { SimError, Svc } from "./errors.ts";
import { renderAllMetrics, renderNodeMetrics } from "./exporter.ts";
import { ApiFaults, type FaultMatch, type HangMode } from "./faults.ts";
import type { WorkloadProfile } from "./profiles.ts";
import type { ReconcileTiming } from "./reconcilers.ts";
import { route } from "./routes.ts";

/** Options of startMayastorSim. */
export interface MayastorSimOptions {
  /** Directory for replica files (created if missing; left in place on close). */
  dataDir: string;
  clock: Clock;
  pools: SimPoolConfig[];
  volumes?: SimVolumeConfig[];
  /** Rebuild speed; default 64 MiB/s. */
  rebuildBytesPerSec?: number;
  /** Reconcile periods (upstream: 10 s busy, 30 s idle, 10 min faulted-child wait). */
  timing?: Partial<ReconcileTiming>;
  /** False: reconcile passes run only on `reconcile()` / `POST /sim/reconcile`. */
  reconcile?: boolean;
}

/** Faults on demand (also reachable as POST /sim/faults). */
export interface SimFaults {
  /** The pool's disk is gone (no pool or replica state; its children fault) or comes back. */
  poolOffline(poolId: string, offline?: boolean): void;
  /** The node's io-engine is down (its nexuses are lost) or comes back. */
  nodeOffline(node: string, offline?: boolean): void;
  /** Rebuilds stop progressing (children stay Degraded) until cleared. */
  stallRebuilds(on?: boolean): void;
  /** Rebuilds in progress, and new ones, fail (child Faulted) until cleared. */
  failRebuilds(on?: boolean): void;
  /** A replica's nexus child faults now, or when its rebuild reaches `atPercent`. */
  faultReplica(replica: string, opts?: { atPercent?: number; ioLog?: boolean }): void;
  /** The next rebuild to start faults when it reaches `atPercent`. */
  faultNextRebuild(atPercent: number): void;
  /** Matching `/v0` calls answer `status` (see faults.ts for matching). */
  apiErrors(status: number, opts?: FaultMatch): void;
  /** Matching `/v0` calls hang (before or after the control plane acts) until cleared. */
  hangApi(on?: boolean, opts?: FaultMatch & { mode?: HangMode }): void;
  /** io-engine restart on `node` (all if omitted): its nexuses are lost, then recreated. */
  restartIoEngine(node?: string): void;
  /** Clears every fault (pools and nodes come back). */
  clear(): void;
  /** `/v0` calls a hang holds right now. */
  held(): number;
}

/** A running simulator. */
export interface MayastorSim {
  /** api-rest base URL including `/v0`. */
  url: string;
  /** Each node's metrics exporter (`/metrics`), by node id. */
  metricsUrls: Record<string, string>;
  /** TEST FIXTURE: every exporter's series in one `/metrics` (plus EC-tier series). */
  metricsUrl: string;
  /** Admin base URL (`/sim`). */
  adminUrl: string;
  faults: SimFaults;
  /** The model (for assertions); change it only through its methods. */
  cluster: SimCluster;
  /** Seeds (and by default publishes) a volume; returns its uuid. */
  addVolume(c: SimVolumeConfig): Promise<string>;
  /** Sets a volume's workload profile. */
  setProfile(volumeUuid: string, profile: WorkloadProfile): void;
  /** Brings the cluster to the clock's now (requests do this too). */
  tick(): Promise<void>;
  /** Runs a reconcile pass now (the garbage collectors too when `gc`). */
  reconcile(gc?: boolean): Promise<void>;
  /** SHA-256 of every replica file a volume owns, by replica uuid. */
  replicaHashes(volumeUuid: string): Promise<Record<string, string>>;
  /** SHA-256 of one replica's file. */
  replicaHash(replicaUuid: string): Promise<string>;
  /** SHA-256 of the content the volume was seeded with. */
  originalHash(volumeUuid: string): string | undefined;
  /** Directory holding a pool's EC shard directories (delete it to destroy the pool's shards). */
  ecRoot(poolId: string): string;
  /** DiskPool CRs mirroring the pools (for a DiskPoolSource or the sandbox API server). */
  diskPools(): DiskPoolCR[];
  /** Runs `f` alone (no request in between), after bringing the cluster to now. */
  exclusive<T>(f: () => Promise<T>): Promise<T>;
  /** Stops every server (hung requests are released). */
  close(): Promise<void>;
}

/** DiskPool CRs of the pools (`openebs.io/v1beta2`, k8s/operators/src/pool/diskpool/crd/v1beta2.rs). */
export function diskPoolCrs(c: SimCluster, namespace = "mayastor"): DiskPoolCR[] {
  return [...c.pools.values()].map((p) => {
    const live = c.poolLive(p);
    const used = live ? Math.min(p.capacity, c.usedBytes(p.id)) : 0;
    return {
      apiVersion: "openebs.io/v1beta2",
      kind: "DiskPool",
      // The tier as an admin labels the CR (CoucheStor's install guide); the pool's topology
      // labels, which Mayastor's scheduler reads, in spec.topology.labelled.
      metadata: {
        name: p.id,
        namespace,
        ...(p.topologyLabels[TIER_LABEL]
          ? { labels: { [TIER_LABEL]: p.topologyLabels[TIER_LABEL] } }
          : {}),
      },
      spec: {
        node: p.node,
        disks: [`aio:///dev/sim/${p.id}`],
        topology: { labelled: { ...p.topologyLabels } },
      },
      status: {
        cr_state: "Created",
        pool_status: live ? "Online" : "Unknown",
        capacity: live ? p.capacity : 0,
        used,
        available: live ? Math.max(0, p.capacity - used) : 0,
      },
    };
  });
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function errorResponse(e: unknown): Response {
  const err = e instanceof SimError ? e : new SimError(
    e instanceof RangeError ? 400 : 500,
    "Internal",
    String((e as Error)?.message ?? e),
  );
  return new Response(JSON.stringify(err.body()), {
    status: err.status,
    headers: { "content-type": "application/json" },
  });
}

/** Starts the simulator's HTTP servers on 127.0.0.1 (ephemeral ports). */
export async function startMayastorSim(opts: MayastorSimOptions): Promise<MayastorSim> {
  await Deno.mkdir(opts.dataDir, { recursive: true });
  const cluster = new SimCluster({
    clock: opts.clock,
    store: new ReplicaStore(opts.dataDir),
    rebuildBytesPerSec: opts.rebuildBytesPerSec ?? 64 * 1024 * 1024,
    timing: opts.timing,
    reconcile: opts.reconcile,
  });
  for (const p of opts.pools) cluster.addPool(p);
  for (const v of opts.volumes ?? []) await cluster.seedVolume(v);

  // One operation at a time: rebuild copies, reconcile passes and requests never interleave.
  let chain: Promise<unknown> = Promise.resolve();
  const locked = <T>(f: () => Promise<T>): Promise<T> => {
    const run = chain.then(f, f);
    chain = run.catch(() => {});
    return run;
  };
  const atNow = <T>(f: () => Promise<T>) =>
    locked(async () => {
      await cluster.advance();
      return await f();
    });

  const api = new ApiFaults();
  const faults: SimFaults = {
    poolOffline: (pool, offline = true) =>
      applyFault(cluster, api, { kind: "pool-offline", pool, offline }),
    nodeOffline: (node, offline = true) =>
      applyFault(cluster, api, { kind: "node-offline", node, offline }),
    stallRebuilds: (on = true) => void (cluster.io.rebuildFault = on ? "stall" : "none"),
    failRebuilds: (on = true) => void (cluster.io.rebuildFault = on ? "fail" : "none"),
    faultReplica: (replica, o = {}) => cluster.faultReplica(replica, o),
    faultNextRebuild: (atPercent) => void (cluster.io.faultNextRebuildAt = atPercent),
    apiErrors: (status, o = {}) => api.addError(status, o),
    hangApi: (on = true, o = {}) => on ? api.addHang(o.mode ?? "before", o) : api.clearHangs(),
    restartIoEngine: (node) => cluster.restartIoEngine(node),
    clear: () => clearFaults(cluster, api),
    held: () => api.holding,
  };

  // Resources whose operation guard a call held "during" a hang keeps (their uuids).
  const busy = new Set<string>();
  const uuidsOf = (parts: string[]) =>
    parts.filter((p) => UUID.test(p)).map((p) => p.toLowerCase());

  const v0 = async (req: Request, parts: string[], url: URL): Promise<Response> => {
    const verdict = api.judge(req.method, `/${parts.join("/")}`);
    if (verdict.hang === "before") await api.hold();
    if (verdict.error) return errorResponse(verdict.error);
    if (req.method !== "GET" && uuidsOf(parts).some((id) => busy.has(id))) {
      return errorResponse(Svc.conflict());
    }
    if (verdict.hang === "during") {
      const held = uuidsOf(parts).filter((id) => !busy.has(id));
      held.forEach((id) => busy.add(id));
      await api.hold();
      held.forEach((id) => busy.delete(id));
    }
    const res = await atNow(async () => {
      try {
        return await route(cluster, req, parts, url);
      } catch (e) {
        return errorResponse(e);
      }
    });
    // The control plane acted; the answer is held until the fault is cleared.
    if (verdict.hang === "after") await api.hold();
    return res;
  };

  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const parts = url.pathname.split("/").filter((s) => s !== "").map((s) => decodeURIComponent(s));
    try {
      if (parts[0] === "v0") return await v0(req, parts.slice(1), url);
      if (parts[0] === "sim") return await admin(cluster, api, req, parts.slice(1), url, locked);
      return new Response(null, { status: 404 });
    } catch (e) {
      return errorResponse(e);
    }
  };

  const serve = (h: (req: Request) => Promise<Response> | Response) =>
    Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, h);
  const metricsHandler = (render: () => string) => async (req: Request) => {
    if (new URL(req.url).pathname !== "/metrics") return new Response("not found", { status: 404 });
    const text = await atNow(() => Promise.resolve(render()));
    return new Response(text, { headers: { "content-type": "text/plain; version=0.0.4" } });
  };
  const apiServer = serve(handler);
  const exporters = [...cluster.nodes.keys()].sort().map((node) => ({
    node,
    server: serve(metricsHandler(() => renderNodeMetrics(cluster, node))),
  }));
  const allMetrics = serve(metricsHandler(() => renderAllMetrics(cluster)));
  const base = `http://127.0.0.1:${apiServer.addr.port}`;
  const metricsUrlOf = (s: Deno.HttpServer<Deno.NetAddr>) =>
    `http://127.0.0.1:${s.addr.port}/metrics`;

  return {
    url: `${base}/v0`,
    adminUrl: `${base}/sim`,
    metricsUrls: Object.fromEntries(exporters.map((e) => [e.node, metricsUrlOf(e.server)])),
    metricsUrl: metricsUrlOf(allMetrics),
    faults,
    cluster,
    addVolume: (c) => atNow(async () => (await cluster.seedVolume(c)).uuid),
    setProfile: (id, prof) => cluster.setProfile(id, prof),
    tick: () => atNow(() => Promise.resolve()),
    reconcile: (gc = false) => locked(() => cluster.reconcileNow(gc)),
    replicaHashes: (id) => locked(() => replicaHashes(cluster, id)),
    replicaHash: (id) =>
      locked(() => {
        const r = cluster.replicas.get(id);
        if (!r) throw new Error(`no replica ${id}`);
        return fileSha256(r.path);
      }),
    originalHash: (id) => cluster.volumes.get(id)?.originalHash,
    ecRoot: (pool) => cluster.store.ecRoot(pool),
    diskPools: () => diskPoolCrs(cluster),
    exclusive: (f) => atNow(f),
    close: async () => {
      api.clear();
      await Promise.all(
        [apiServer, allMetrics, ...exporters.map((e) => e.server)].map((s) => s.shutdown()),
      );
    },
  };
}
