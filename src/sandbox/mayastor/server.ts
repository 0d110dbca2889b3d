/**
 * The Mayastor simulator as real HTTP servers on 127.0.0.1: api-rest's `/v0`
 * endpoints (same paths and JSON shapes as the v0 OpenAPI spec), an admin API
 * under `/sim` for faults and workloads, and the io-engine metrics exporter's
 * `/metrics` on a second port. `startMayastorSim()` is the entry point.
 */
import { z } from "zod";
import type { Clock } from "../../clock.ts";
import type { DiskPoolCR } from "../../mayastor/diskpool.ts";
import {
  CreateReplicaBodySchema,
  CreateVolumeBodySchema,
  PublishVolumeBodySchema,
} from "../../mayastor/rest_schemas.ts";
import {
  type RebuildFault,
  SimCluster,
  SimError,
  type SimPoolConfig,
  type SimVolumeConfig,
} from "./cluster.ts";
import { fileSha256, ReplicaStore } from "./datastore.ts";
import { type WorkloadProfile, WorkloadProfileSchema } from "./profiles.ts";
import {
  renderChild,
  renderDiskPools,
  renderMetrics,
  renderNexus,
  renderPool,
  renderReplica,
  renderVolume,
} from "./render.ts";

/** Options of startMayastorSim. */
export interface MayastorSimOptions {
  /** Directory for replica files (created if missing; left in place on close). */
  dataDir: string;
  clock: Clock;
  pools: SimPoolConfig[];
  volumes?: SimVolumeConfig[];
  /** Rebuild speed; default 64 MiB/s. */
  rebuildBytesPerSec?: number;
}

/** Faults on demand (also reachable as POST /sim/faults). */
export interface SimFaults {
  /** The pool's node goes down (no pool state, its children fault) or comes back. */
  poolOffline(poolId: string, offline?: boolean): void;
  /** Rebuilds stop progressing (children stay Degraded) until cleared. */
  stallRebuilds(on?: boolean): void;
  /** Rebuilds in progress, and new ones, fail (child Faulted) until cleared. */
  failRebuilds(on?: boolean): void;
  /** The next `count` /v0 calls (all, when omitted) matching `match` answer `status`. */
  apiErrors(status: 500 | 503, opts?: { count?: number; match?: string }): void;
  /** /v0 calls matching `match` hang until cleared (or the client gives up). */
  hangApi(on?: boolean, opts?: { match?: string }): void;
  /** io-engine restart: IO counters of volumes targeted on `node` (all if omitted) reset. */
  restartIoEngine(node?: string): void;
  /** Clears every fault (pools come back online). */
  clear(): void;
}

/** A running simulator. */
export interface MayastorSim {
  /** api-rest base URL including `/v0`. */
  url: string;
  /** The exporter's `/metrics` URL. */
  metricsUrl: string;
  /** Admin base URL (`/sim`). */
  adminUrl: string;
  faults: SimFaults;
  /** The model (for assertions); mutate it only through its methods. */
  cluster: SimCluster;
  /** Creates (and by default publishes) a volume; returns its uuid. */
  addVolume(c: SimVolumeConfig): Promise<string>;
  /** Sets a volume's workload profile. */
  setProfile(volumeUuid: string, profile: WorkloadProfile): void;
  /** Brings rebuilds up to the clock's now (requests do this too). */
  tick(): Promise<void>;
  /** SHA-256 of every replica file of a volume, by replica uuid. */
  replicaHashes(volumeUuid: string): Promise<Record<string, string>>;
  /** SHA-256 of the content the volume was created with. */
  originalHash(volumeUuid: string): string | undefined;
  /** Directory holding a pool's EC shard directories (delete it to destroy the pool's shards). */
  ecRoot(poolId: string): string;
  /** DiskPool CRs mirroring the pools (for a DiskPoolSource or the sandbox API server). */
  diskPools(): DiskPoolCR[];
  /** Runs `f` alone (no request in between), after bringing rebuilds up to now. */
  exclusive<T>(f: () => Promise<T>): Promise<T>;
  /** Stops both servers (hung requests are released). */
  close(): Promise<void>;
}

const FaultBodySchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("pool-offline"), pool: z.string(), offline: z.boolean().optional() }),
  z.object({ kind: z.literal("rebuild"), mode: z.enum(["none", "stall", "fail"]) }),
  z.object({
    kind: z.literal("api-error"),
    status: z.union([z.literal(500), z.literal(503)]),
    count: z.number().int().positive().optional(),
    match: z.string().optional(),
  }),
  z.object({ kind: z.literal("api-hang"), on: z.boolean(), match: z.string().optional() }),
  z.object({ kind: z.literal("io-engine-restart"), node: z.string().optional() }),
]);

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function restError(status: number, kind: string, details: string): Response {
  return json({ details, message: details, kind }, status);
}

/** Starts the simulator's HTTP servers on 127.0.0.1 (ephemeral ports). */
export async function startMayastorSim(opts: MayastorSimOptions): Promise<MayastorSim> {
  await Deno.mkdir(opts.dataDir, { recursive: true });
  const cluster = new SimCluster(
    opts.clock,
    new ReplicaStore(opts.dataDir),
    opts.rebuildBytesPerSec ?? 64 * 1024 * 1024,
  );
  for (const p of opts.pools) cluster.addPool(p);
  for (const v of opts.volumes ?? []) await cluster.createVolume(v);

  // One operation at a time: rebuild copies and mutations never interleave.
  let chain: Promise<unknown> = Promise.resolve();
  const locked = <T>(f: () => Promise<T>): Promise<T> => {
    const run = chain.then(f, f);
    chain = run.catch(() => {});
    return run;
  };

  let errorFault: { status: number; remaining?: number; match?: string } | undefined;
  let hangFault: { match?: string } | undefined;
  let releaseHangs: () => void = () => {};
  let hangGate = new Promise<void>((r) => (releaseHangs = r));
  const openHangs = () => {
    releaseHangs();
    hangGate = new Promise<void>((r) => (releaseHangs = r));
  };

  const faults: SimFaults = {
    poolOffline: (pool, offline = true) => cluster.setPoolOffline(pool, offline),
    stallRebuilds: (on = true) => setRebuild(on ? "stall" : "none"),
    failRebuilds: (on = true) => setRebuild(on ? "fail" : "none"),
    apiErrors: (status, o = {}) => (errorFault = { status, remaining: o.count, match: o.match }),
    hangApi: (on = true, o = {}) => {
      hangFault = on ? { match: o.match } : undefined;
      if (!on) openHangs();
    },
    restartIoEngine: (node) => cluster.restartIoEngine(node),
    clear: () => {
      errorFault = undefined;
      hangFault = undefined;
      openHangs();
      cluster.rebuildFault = "none";
      for (const p of cluster.pools.values()) if (p.offline) cluster.setPoolOffline(p.id, false);
    },
  };
  function setRebuild(mode: RebuildFault) {
    cluster.rebuildFault = mode;
  }

  const api = async (req: Request, parts: string[], url: URL): Promise<Response> => {
    const endpoint = `${req.method} /${parts.join("/")}`;
    if (hangFault && (!hangFault.match || endpoint.includes(hangFault.match))) {
      // Held until the fault is cleared or the simulator closes; the client times out.
      await hangGate;
    }
    if (errorFault && (!errorFault.match || endpoint.includes(errorFault.match))) {
      const f = errorFault;
      if (f.remaining !== undefined && --f.remaining <= 0) errorFault = undefined;
      return f.status === 503
        ? restError(503, "Unavailable", "simulated: service unavailable")
        : restError(500, "Internal", "simulated: internal error");
    }
    return await locked(async () => {
      await cluster.advance();
      return await route(req, parts, url);
    });
  };

  const body = async <T>(req: Request, schema: z.ZodType<T>): Promise<T> => {
    let raw: unknown;
    try {
      raw = await req.json();
    } catch {
      throw new SimError(400, "Deserialize", "body is not JSON");
    }
    const r = schema.safeParse(raw);
    if (!r.success) {
      throw new SimError(400, "InvalidArgument", r.error.issues.map((i) => i.message).join("; "));
    }
    return r.data;
  };

  const replicaOrThrow = (id: string) => {
    const r = cluster.replicas.get(id);
    if (!r) throw new SimError(404, "NotFound", `replica ${id} not found`);
    return r;
  };

  async function route(req: Request, p: string[], url: URL): Promise<Response> {
    const m = req.method;
    const n = p.length;
    // /nodes
    if (m === "GET" && n === 1 && p[0] === "nodes") {
      const nodes = [...new Set([...cluster.pools.values()].map((x) => x.node))].sort();
      return json(nodes.map((id) => ({
        id,
        spec: { id, grpcEndpoint: `${id}:10124` },
        state: { id, grpcEndpoint: `${id}:10124`, status: "Online" },
      })));
    }
    // /pools, /pools/{id}, /nodes/{node}/pools
    if (m === "GET" && n === 1 && p[0] === "pools") {
      return json([...cluster.pools.keys()].sort().map((id) => renderPool(cluster, id)));
    }
    if (m === "GET" && n === 2 && p[0] === "pools") {
      if (!cluster.pools.has(p[1])) throw new SimError(404, "NotFound", `pool ${p[1]} not found`);
      return json(renderPool(cluster, p[1]));
    }
    if (m === "GET" && n === 3 && p[0] === "nodes" && p[2] === "pools") {
      return json(
        [...cluster.pools.values()].filter((x) => x.node === p[1]).map((x) =>
          renderPool(cluster, x.id)
        ),
      );
    }
    // replicas
    if (m === "GET" && n === 1 && p[0] === "replicas") {
      return json([...cluster.replicas.values()].map((r) => renderReplica(cluster, r)));
    }
    if (m === "GET" && n === 2 && p[0] === "replicas") {
      return json(renderReplica(cluster, replicaOrThrow(p[1])));
    }
    const poolReplica = n === 4 && p[0] === "pools" && p[2] === "replicas"
      ? { node: undefined, pool: p[1], id: p[3] }
      : n === 6 && p[0] === "nodes" && p[2] === "pools" && p[4] === "replicas"
      ? { node: p[1], pool: p[3], id: p[5] }
      : undefined;
    if (poolReplica) {
      const pool = cluster.pools.get(poolReplica.pool);
      if (!pool || (poolReplica.node !== undefined && pool.node !== poolReplica.node)) {
        throw new SimError(404, "NotFound", `pool ${poolReplica.pool} not found`);
      }
      if (m === "GET") {
        const r = replicaOrThrow(poolReplica.id);
        if (r.pool !== pool.id) throw new SimError(404, "NotFound", "replica not in pool");
        return json(renderReplica(cluster, r));
      }
      if (m === "PUT") {
        const b = await body(req, CreateReplicaBodySchema);
        const r = await cluster.createReplica(pool.id, poolReplica.id, b.size, b.share === "nvmf");
        return json(renderReplica(cluster, r));
      }
      if (m === "DELETE") {
        await cluster.destroyReplica(poolReplica.id, pool.id);
        return new Response(null, { status: 204 });
      }
    }
    // nexuses
    if (m === "GET" && n === 1 && p[0] === "nexuses") {
      return json(
        [...cluster.volumes.values()].filter((v) => v.nexus).map((v) => renderNexus(cluster, v)),
      );
    }
    if (n >= 2 && p[0] === "nexuses") {
      const v = cluster.volumeOfNexus(p[1]);
      if (m === "GET" && n === 2) return json(renderNexus(cluster, v));
      if (m === "GET" && n === 3 && p[2] === "children") {
        return json(v.nexus!.children.map((c) => renderChild(v, c)));
      }
      if (n === 4 && p[2] === "children") {
        if (m === "PUT") return json(renderChild(v, cluster.addChild(p[1], p[3])));
        if (m === "DELETE") {
          cluster.removeChild(p[1], p[3]);
          return new Response(null, { status: 204 });
        }
        if (m === "GET") {
          const c = v.nexus!.children.find((x) => x.uri === p[3]);
          if (!c) throw new SimError(404, "NotFound", `child ${p[3]} not found`);
          return json(renderChild(v, c));
        }
      }
    }
    // volumes
    if (m === "GET" && n === 1 && p[0] === "volumes") {
      const max = Number(url.searchParams.get("max_entries") ?? "0");
      const start = Number(url.searchParams.get("starting_token") ?? "0");
      const only = url.searchParams.get("volume_id");
      if (!Number.isInteger(max) || max < 0 || !Number.isInteger(start) || start < 0) {
        throw new SimError(400, "InvalidArgument", "max_entries/starting_token must be >= 0");
      }
      const ids = only ? (cluster.volumes.has(only) ? [only] : []) : cluster.sortedVolumeIds();
      const end = max === 0 ? ids.length : Math.min(ids.length, start + max);
      const entries = [];
      for (let i = start; i < end; i++) {
        entries.push(renderVolume(cluster, cluster.volumes.get(ids[i])!));
      }
      return json(end < ids.length ? { entries, next_token: end } : { entries });
    }
    if (n >= 2 && p[0] === "volumes") {
      const id = p[1];
      if (n === 2 && m === "GET") return json(renderVolume(cluster, cluster.volume(id)));
      if (n === 2 && m === "PUT") {
        const b = await body(req, CreateVolumeBodySchema);
        const v = await cluster.createVolume({ uuid: id, sizeBytes: b.size, replicas: b.replicas });
        return json(renderVolume(cluster, v));
      }
      if (n === 2 && m === "DELETE") {
        await cluster.deleteVolume(id);
        return new Response(null, { status: 204 });
      }
      if (n === 4 && m === "PUT" && p[2] === "replica_count") {
        await cluster.setReplicaCount(id, Number(p[3]));
        return json(renderVolume(cluster, cluster.volume(id)));
      }
      if (n === 3 && p[2] === "target") {
        if (m === "PUT") {
          const b = await body(req, PublishVolumeBodySchema);
          const v = cluster.volume(id);
          const first = cluster.replicas.get([...v.replicas][0] ?? "");
          const node = b.node ?? (first ? cluster.nodeOf(first) : undefined);
          if (!node) throw new SimError(412, "FailedPrecondition", "no node to publish on");
          cluster.publish(id, node);
          return json(renderVolume(cluster, v));
        }
        if (m === "DELETE") {
          cluster.unpublish(id);
          return json(renderVolume(cluster, cluster.volume(id)));
        }
      }
    }
    throw new SimError(404, "NotFound", `no route for ${m} /v0/${p.join("/")}`);
  }

  /** Admin routes of the EC cold tier: volume bytes, replica release/creation, shard dirs. */
  const ecAdmin = async (req: Request, p: string[], url: URL): Promise<Response | undefined> => {
    const m = req.method;
    const num = (name: string) => {
      const x = Number(url.searchParams.get(name) ?? "NaN");
      if (!Number.isSafeInteger(x) || x < 0) {
        throw new SimError(400, "InvalidArgument", `${name} must be a non-negative integer`);
      }
      return x;
    };
    if (p[0] === "volumes" && p.length === 3 && p[2] === "data" && m === "GET") {
      const replica = url.searchParams.get("replica") ?? undefined;
      const data = await locked(() =>
        cluster.readData(p[1], num("offset"), num("length"), replica)
      );
      return new Response(data as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": "application/octet-stream" },
      });
    }
    if (
      p[0] === "volumes" && p.length === 5 && p[2] === "replicas" && p[4] === "data" &&
      m === "PUT"
    ) {
      const data = new Uint8Array(await req.arrayBuffer());
      await locked(() => cluster.writeData(p[1], p[3], num("offset"), data));
      return new Response(null, { status: 204 });
    }
    if (p[0] === "volumes" && p.length === 3 && p[2] === "release" && m === "POST") {
      const b = await body(req, z.object({ replicas: z.array(z.string()) }));
      await locked(() => cluster.releaseReplicas(p[1], b.replicas));
      return new Response(null, { status: 204 });
    }
    if (p[0] === "volumes" && p.length === 3 && p[2] === "replicas" && m === "POST") {
      const b = await body(req, z.object({ pool: z.string().min(1) }));
      return json({ uuid: await locked(() => cluster.addEmptyReplica(p[1], b.pool)) });
    }
    if (p[0] === "volumes" && p.length === 4 && p[2] === "replicas" && m === "DELETE") {
      await locked(() => cluster.removeReplica(p[1], p[3]));
      return new Response(null, { status: 204 });
    }
    if (p[0] === "pools" && p.length === 4 && p[2] === "ec") {
      if (m === "PUT") return json({ path: await locked(() => cluster.ecDir(p[1], p[3])) });
      if (m === "DELETE") {
        await locked(() => cluster.removeEcDir(p[1], p[3]));
        return new Response(null, { status: 204 });
      }
    }
    return undefined;
  };

  const admin = async (req: Request, p: string[], url: URL): Promise<Response> => {
    const ec = await ecAdmin(req, p, url);
    if (ec) return ec;
    if (req.method === "POST" && p.length === 1 && p[0] === "faults") {
      const f = await body(req, FaultBodySchema);
      await locked(async () => {
        await cluster.advance();
        switch (f.kind) {
          case "pool-offline":
            return faults.poolOffline(f.pool, f.offline ?? true);
          case "rebuild":
            return setRebuild(f.mode);
          case "api-error":
            return faults.apiErrors(f.status, { count: f.count, match: f.match });
          case "api-hang":
            return faults.hangApi(f.on, { match: f.match });
          case "io-engine-restart":
            return faults.restartIoEngine(f.node);
        }
      });
      return new Response(null, { status: 204 });
    }
    if (req.method === "DELETE" && p.length === 1 && p[0] === "faults") {
      faults.clear();
      return new Response(null, { status: 204 });
    }
    if (req.method === "PUT" && p.length === 3 && p[0] === "volumes" && p[2] === "profile") {
      const prof = await body(req, WorkloadProfileSchema);
      await locked(() => Promise.resolve(cluster.setProfile(p[1], prof)));
      return new Response(null, { status: 204 });
    }
    if (req.method === "GET" && p.length === 3 && p[0] === "volumes" && p[2] === "hashes") {
      return json(await locked(() => replicaHashes(p[1])));
    }
    if (req.method === "POST" && p.length === 1 && p[0] === "tick") {
      await locked(() => cluster.advance());
      return new Response(null, { status: 204 });
    }
    throw new SimError(404, "NotFound", `no admin route ${req.method} /sim/${p.join("/")}`);
  };

  async function replicaHashes(volumeUuid: string): Promise<Record<string, string>> {
    const v = cluster.volume(volumeUuid);
    const out: Record<string, string> = {};
    for (const id of [...v.replicas].sort()) {
      const r = cluster.replicas.get(id);
      if (r) out[id] = await fileSha256(r.path);
    }
    return out;
  }

  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const parts = url.pathname.split("/").filter((s) => s !== "").map((s) => decodeURIComponent(s));
    try {
      if (parts[0] === "v0") return await api(req, parts.slice(1), url);
      if (parts[0] === "sim") return await admin(req, parts.slice(1), url);
      return restError(404, "NotFound", `no route ${url.pathname}`);
    } catch (e) {
      if (e instanceof SimError) return restError(e.status, e.kind, e.message);
      return restError(500, "Internal", e instanceof Error ? e.message : String(e));
    }
  };

  const apiServer = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  const metricsServer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      if (new URL(req.url).pathname !== "/metrics") {
        return new Response("not found", { status: 404 });
      }
      const text = await locked(() => Promise.resolve(renderMetrics(cluster)));
      return new Response(text, { headers: { "content-type": "text/plain; version=0.0.4" } });
    },
  );
  const base = `http://127.0.0.1:${apiServer.addr.port}`;

  return {
    url: `${base}/v0`,
    adminUrl: `${base}/sim`,
    metricsUrl: `http://127.0.0.1:${metricsServer.addr.port}/metrics`,
    faults,
    cluster,
    addVolume: (c) => locked(async () => (await cluster.createVolume(c)).uuid),
    setProfile: (id, prof) => cluster.setProfile(id, prof),
    tick: () => locked(() => cluster.advance()),
    replicaHashes: (id) => locked(() => replicaHashes(id)),
    originalHash: (id) => cluster.volumes.get(id)?.originalHash,
    ecRoot: (pool) => cluster.store.ecRoot(pool),
    diskPools: () => renderDiskPools(cluster),
    exclusive: (f) =>
      locked(async () => {
        await cluster.advance();
        return await f();
      }),
    close: async () => {
      hangFault = undefined;
      openHangs();
      await Promise.all([apiServer.shutdown(), metricsServer.shutdown()]);
    },
  };
}
