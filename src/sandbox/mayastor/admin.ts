/**
 * The simulator's test-facing admin API under `/sim` (no Mayastor counterpart):
 *
 * - `POST /sim/faults` with one of
 *   `{kind:"pool-offline", pool, offline?}` (the pool's disk is gone / back),
 *   `{kind:"node-offline", node, offline?}` (the node's io-engine is down / back),
 *   `{kind:"rebuild", mode:"none"|"stall"|"fail"}`,
 *   `{kind:"replica-fault", replica, atPercent?, ioLog?}` (its child faults now or mid-rebuild;
 *   without an IO log the control plane replaces it: a hot spare),
 *   `{kind:"next-rebuild-fault", atPercent}` (the next rebuild to start faults there),
 *   `{kind:"api-error", status, match?, method?, nth?, count?}`,
 *   `{kind:"api-hang", on, mode?:"before"|"after"|"during", match?, method?, nth?, count?}`,
 *   `{kind:"io-engine-restart", node?}`; `DELETE /sim/faults` clears them all.
 * - `POST /sim/volumes` seeds a volume (SimVolumeConfig: random bytes on chosen pools).
 * - `PUT /sim/volumes/{id}/profile` sets a workload profile.
 * - `GET /sim/volumes/{id}/hashes` SHA-256 of every owned replica; `GET /sim/replicas/{id}/hash`
 *   of any replica; `PUT /sim/volumes/{id}/data?offset=` writes through the volume.
 * - `POST /sim/tick` brings the cluster to now; `POST /sim/reconcile {gc?}` runs a pass now.
 * - EC tier fixtures (outside the Mayastor model, see ec_fixture.ts):
 *   `GET /sim/volumes/{id}/data?offset&length&replica`, `PUT /sim/volumes/{id}/replicas/{r}/data`,
 *   `POST /sim/volumes/{id}/release {replicas}`, `POST /sim/volumes/{id}/replicas {pool}`,
 *   `DELETE /sim/volumes/{id}/replicas/{r}`, `PUT|DELETE /sim/pools/{pool}/ec/{volume}`.
 */
import { z } from "zod";
import { parseBody } from "./bodies.ts";
import type { SimCluster, SimVolumeConfig } from "./cluster.ts";
import { fileSha256 } from "./datastore.ts";
import * as ec from "./ec_fixture.ts";
import { replyError } from "./errors.ts";
import type { ApiFaults } from "./faults.ts";
import type { RebuildFault } from "./ioengine.ts";
import { WorkloadProfileSchema } from "./profiles.ts";
import { json } from "./routes.ts";

const match = {
  match: z.string().optional(),
  method: z.string().optional(),
  nth: z.number().int().positive().optional(),
  count: z.number().int().positive().optional(),
};

const FaultBodySchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("pool-offline"), pool: z.string(), offline: z.boolean().optional() }),
  z.object({ kind: z.literal("node-offline"), node: z.string(), offline: z.boolean().optional() }),
  z.object({ kind: z.literal("rebuild"), mode: z.enum(["none", "stall", "fail"]) }),
  z.object({
    kind: z.literal("replica-fault"),
    replica: z.string(),
    atPercent: z.number().min(0).max(100).optional(),
    ioLog: z.boolean().optional(),
  }),
  z.object({ kind: z.literal("next-rebuild-fault"), atPercent: z.number().min(0).max(100) }),
  z.object({ kind: z.literal("api-error"), status: z.number().int().min(400).max(599), ...match }),
  z.object({
    kind: z.literal("api-hang"),
    on: z.boolean(),
    mode: z.enum(["before", "after", "during"]).optional(),
    ...match,
  }),
  z.object({ kind: z.literal("io-engine-restart"), node: z.string().optional() }),
]);
/** A fault request. */
export type FaultBody = z.infer<typeof FaultBodySchema>;

const SeedSchema = z.object({
  uuid: z.string().optional(),
  sizeBytes: z.number().int().positive(),
  pools: z.array(z.string()).optional(),
  replicas: z.number().int().positive().optional(),
  thin: z.boolean().optional(),
  poolTopology: z.record(z.string(), z.string()).optional(),
  targetNode: z.string().nullable().optional(),
  profile: WorkloadProfileSchema.optional(),
});

/** Applies a fault to the cluster or the API rules. */
export function applyFault(c: SimCluster, api: ApiFaults, f: FaultBody): void {
  switch (f.kind) {
    case "pool-offline":
      return c.setPoolLost(f.pool, f.offline ?? true);
    case "node-offline":
      return c.setNodeOnline(f.node, !(f.offline ?? true));
    case "rebuild":
      c.io.rebuildFault = f.mode as RebuildFault;
      return;
    case "replica-fault":
      return c.faultReplica(f.replica, { atPercent: f.atPercent, ioLog: f.ioLog });
    case "next-rebuild-fault":
      c.io.faultNextRebuildAt = f.atPercent;
      return;
    case "api-error":
      return api.addError(f.status, f);
    case "api-hang":
      return f.on ? api.addHang(f.mode ?? "before", f) : api.clearHangs();
    case "io-engine-restart":
      return c.restartIoEngine(f.node);
  }
}

/** Clears every fault: API rules, rebuild modes, lost pools and down nodes. */
export function clearFaults(c: SimCluster, api: ApiFaults): void {
  api.clear();
  c.io.rebuildFault = "none";
  c.io.faultNextRebuildAt = undefined;
  c.io.faultAt.clear();
  for (const p of c.pools.values()) if (p.lost) c.setPoolLost(p.id, false);
  for (const n of c.nodes.values()) if (!n.online) c.setNodeOnline(n.id, true);
}

/** SHA-256 of every replica a volume owns, by replica uuid. */
export async function replicaHashes(c: SimCluster, uuid: string): Promise<Record<string, string>> {
  const v = c.volume(uuid);
  const out: Record<string, string> = {};
  for (const id of [...v.replicas].sort()) {
    const r = c.replicas.get(id);
    if (r) out[id] = await fileSha256(r.path);
  }
  return out;
}

const ok = () => new Response(null, { status: 204 });

function num(url: URL, name: string): number {
  const x = Number(url.searchParams.get(name) ?? "NaN");
  if (!Number.isSafeInteger(x) || x < 0) {
    throw replyError("InvalidArgument", `${name} must be a non-negative integer`);
  }
  return x;
}

/** Answers one `/sim` call; `locked` runs a step alone against the cluster. */
export async function admin(
  c: SimCluster,
  api: ApiFaults,
  req: Request,
  p: string[],
  url: URL,
  locked: <T>(f: () => Promise<T>) => Promise<T>,
): Promise<Response> {
  const m = req.method, key = `${m} ${p.map((s, i) => (i % 2 ? "*" : s)).join("/")}`;
  const run = <T>(f: () => Promise<T> | T) => locked(async () => await f());
  switch (key) {
    case "POST faults": {
      const f = await parseBody(req, FaultBodySchema);
      await run(async () => {
        await c.advance();
        applyFault(c, api, f);
      });
      return ok();
    }
    case "DELETE faults":
      await run(() => clearFaults(c, api));
      return ok();
    case "POST volumes": {
      const cfg = await parseBody(req, SeedSchema) as SimVolumeConfig;
      return json({ uuid: (await run(() => c.seedVolume(cfg))).uuid });
    }
    case "PUT volumes/*/profile": {
      const prof = await parseBody(req, WorkloadProfileSchema);
      await run(() => c.setProfile(p[1], prof));
      return ok();
    }
    case "GET volumes/*/hashes":
      return json(await run(() => replicaHashes(c, p[1])));
    case "GET replicas/*/hash": {
      const r = c.replicas.get(p[1]);
      if (!r) throw replyError("NotFound", `replica ${p[1]} not found`);
      return json({ uuid: r.uuid, sha256: await run(() => fileSha256(r.path)) });
    }
    case "PUT volumes/*/data": {
      const data = new Uint8Array(await req.arrayBuffer());
      await run(() => c.writeVolumeData(p[1], num(url, "offset"), data));
      return ok();
    }
    case "POST tick":
      await run(() => c.advance());
      return ok();
    case "POST reconcile": {
      const b = await parseBody(req, z.object({ gc: z.boolean().optional() }));
      await run(() => c.reconcileNow(b.gc ?? false));
      return ok();
    }
    // ---- EC tier fixtures ----
    case "GET volumes/*/data": {
      const replica = url.searchParams.get("replica") ?? undefined;
      const data = await run(() =>
        c.readData(p[1], num(url, "offset"), num(url, "length"), replica)
      );
      return new Response(data as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": "application/octet-stream" },
      });
    }
    case "PUT volumes/*/replicas/*/data": {
      const data = new Uint8Array(await req.arrayBuffer());
      await run(() => c.writeData(p[1], p[3], num(url, "offset"), data));
      return ok();
    }
    case "POST volumes/*/release": {
      const b = await parseBody(req, z.object({ replicas: z.array(z.string()) }));
      await run(() => ec.releaseReplicas(c, p[1], b.replicas));
      return ok();
    }
    case "POST volumes/*/replicas": {
      const b = await parseBody(req, z.object({ pool: z.string().min(1) }));
      return json({ uuid: await run(() => ec.addEmptyReplica(c, p[1], b.pool)) });
    }
    case "DELETE volumes/*/replicas/*":
      await run(() => ec.removeReplica(c, p[1], p[3]));
      return ok();
    case "PUT pools/*/ec/*":
      return json({ path: await run(() => ec.ecDir(c, p[1], p[3])) });
    case "DELETE pools/*/ec/*":
      await run(() => ec.removeEcDir(c, p[1], p[3]));
      return ok();
  }
  throw replyError("NotFound", `no admin route ${m} /sim/${p.join("/")}`);
}
