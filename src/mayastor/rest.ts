/**
 * VolumeBackend over Mayastor 2.x's control-plane REST API (api-rest, `/v0`),
 * with pool labels from DiskPool CRs when a DiskPoolSource is given.
 *
 * How a replica is moved faithfully. Mayastor's own scheduler picks the pool when
 * `replica_count` rises and picks the victim when it falls, so neither call alone
 * can put a replica on the pool CoucheStor chose or drop the replica CoucheStor
 * chose. The v0 spec does give the pieces to do it exactly:
 *   add:    PUT /pools/{pool}/replicas/{uuid} {size, thin, share: nvmf} creates the
 *           replica on our pool; PUT /nexuses/{nexus}/children/{replica uri} adds it
 *           to the volume's nexus, which starts the rebuild (child Degraded with
 *           rebuildProgress, Online at 100); then PUT /volumes/{id}/replica_count/{n+1}
 *           so the control plane counts the newcomer instead of trimming it as excess
 *           (its removal order would pick the still-rebuilding, i.e. unhealthy, child).
 *   retire: DELETE /nexuses/{nexus}/children/{old uri} detaches exactly the old
 *           replica; PUT /volumes/{id}/replica_count/{n} then lets the control plane
 *           drop a replica, and its removal order takes unused (non-child) replicas
 *           first, i.e. the one we detached; if it is still there we destroy it by id
 *           (DELETE /nodes/{node}/pools/{pool}/replicas/{uuid}); finally we check every
 *           other replica is still in the volume.
 * The adapter refuses to retire a volume's last healthy replica; the rule "retire only
 * after the newcomer is Online at 100%" belongs to the caller (see move.ts).
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/log.ts";
import { diskPoolLabels, type DiskPoolSource } from "./diskpool.ts";
import { isHealthyReplica } from "../model/health.ts";
import { MayastorApiError, RestClient, seg } from "./http.ts";
import type { Pool, Replica, Volume } from "../model/storage.ts";
import { BackendError, type VolumeBackend } from "./port.ts";
import {
  ChildSchema,
  PoolSchema,
  ReplicaSchema,
  replicaUuidOfUri,
  type RestPool,
  type RestReplica,
  type RestVolume,
  VolumeSchema,
  VolumesSchema,
} from "./rest_schemas.ts";

/** Settings of the REST adapter. */
export interface RestBackendOptions {
  /** api-rest base URL including `/v0`, e.g. http://mayastor-api-rest:8081/v0. */
  baseUrl: string;
  clock: Clock;
  logger: Logger;
  /** DiskPool CRs for labels (merged over `/v0/pools` spec labels; the CR wins). */
  diskPools?: DiskPoolSource;
  /** Page size for GET /volumes (`max_entries`); default 500. */
  pageSize?: number;
  /** Per-attempt timeout; default 10 s. */
  timeoutMs?: number;
  /** Attempts per call; default 4. */
  maxAttempts?: number;
  /** First retry backoff; default 200 ms, doubling. */
  backoffMs?: number;
  /** Extra headers (api-rest JWT: `authorization`). */
  headers?: Record<string, string>;
}

/** Converts an api-rest Pool (plus optional CR labels) to the port's Pool. */
export function toPool(p: RestPool, crLabels?: Record<string, string>): Pool {
  const st = p.state;
  return {
    id: p.id,
    node: st?.node ?? p.spec?.node ?? "",
    // No state means io-engine on that node does not answer: not usable.
    status: st?.status ?? "Unknown",
    capacityBytes: st?.capacity ?? 0,
    // `committed` counts every replica's full size; never plan with less than it.
    usedBytes: Math.max(st?.used ?? 0, st?.committed ?? 0),
    labels: { ...(p.spec?.labels ?? {}), ...(crLabels ?? {}) },
  };
}

/** Converts an api-rest Volume to the port's Volume. */
export function toVolume(v: RestVolume): Volume {
  const nexus = v.state.target;
  const childByUuid = new Map(
    (nexus?.children ?? []).map((c) => [replicaUuidOfUri(c.uri), c] as const),
  );
  const replicas: Replica[] = Object.entries(v.state.replica_topology).map(([uuid, t]) => {
    const child = childByUuid.get(uuid.toLowerCase());
    const progress = t["rebuild-progress"] ?? child?.rebuildProgress ?? undefined;
    const r: Replica = {
      uuid,
      pool: t.pool ?? "",
      node: t.node ?? "",
      state: t.state,
    };
    const childState = t["child-status"] ?? child?.state;
    if (childState) r.childState = childState;
    if (progress !== null && progress !== undefined) r.rebuildProgress = progress;
    return r;
  });
  replicas.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  const out: Volume = {
    uuid: v.spec.uuid,
    sizeBytes: v.spec.size,
    replicaCount: v.spec.num_replicas,
    status: v.state.status === "Shutdown" ? "Unknown" : v.state.status,
    replicas,
  };
  const targetNode = nexus?.node ?? v.spec.target?.node;
  if (targetNode) out.targetNode = targetNode;
  return out;
}

/** The Mayastor 2.x REST adapter. */
export class MayastorRestBackend implements VolumeBackend {
  readonly #http: RestClient;
  readonly #o: RestBackendOptions;
  readonly #log: Logger;

  constructor(opts: RestBackendOptions) {
    this.#o = opts;
    this.#log = opts.logger.child("mayastor-rest");
    this.#http = new RestClient({
      baseUrl: opts.baseUrl,
      clock: opts.clock,
      logger: this.#log,
      timeoutMs: opts.timeoutMs,
      maxAttempts: opts.maxAttempts,
      backoffMs: opts.backoffMs,
      headers: opts.headers,
    });
  }

  /** GET /pools, labels merged with DiskPool CRs. */
  async listPools(signal?: AbortSignal): Promise<Pool[]> {
    const [pools, crs] = await Promise.all([
      this.#http.call({ method: "GET", path: "/pools", schema: z.array(PoolSchema), signal }),
      this.#diskPoolLabels(signal),
    ]);
    return pools.map((p) => toPool(p, crs.get(p.id)));
  }

  /** Every page of GET /volumes. */
  async listVolumes(signal?: AbortSignal): Promise<Volume[]> {
    const out: Volume[] = [];
    const size = this.#o.pageSize ?? 500;
    let token: number | undefined;
    for (let pages = 0;; pages++) {
      if (pages > 1_000_000) throw new BackendError("pagination does not end", "GET /volumes");
      const q = `max_entries=${size}` + (token !== undefined ? `&starting_token=${token}` : "");
      const page = await this.#http.call({
        method: "GET",
        path: `/volumes?${q}`,
        schema: VolumesSchema,
        signal,
      });
      for (const v of page.entries) out.push(toVolume(v));
      if (page.next_token === undefined || page.entries.length === 0) break;
      if (token !== undefined && page.next_token <= token) {
        throw new BackendError(
          `next_token ${page.next_token} does not advance past ${token}`,
          "GET /volumes",
        );
      }
      token = page.next_token;
    }
    return out;
  }

  /** GET /volumes/{id}; undefined on NotFound. */
  async getVolume(uuid: string, signal?: AbortSignal): Promise<Volume | undefined> {
    const raw = await this.#getRaw(uuid, signal);
    return raw && toVolume(raw);
  }

  /** Creates a replica on `poolId`, adds it to the volume's nexus, counts it in num_replicas. */
  async addReplica(volumeUuid: string, poolId: string, signal?: AbortSignal): Promise<string> {
    const vol = await this.#mustGet(volumeUuid, signal);
    const nexus = vol.state.target;
    const endpoint = `addReplica ${volumeUuid}`;
    if (!nexus) {
      throw new BackendError(
        `volume ${volumeUuid} is not published: without a nexus a replica cannot be rebuilt`,
        endpoint,
      );
    }
    for (const t of Object.values(vol.state.replica_topology)) {
      if (t.pool === poolId) {
        throw new BackendError(`volume ${volumeUuid} already has a replica on ${poolId}`, endpoint);
      }
    }
    const uuid = crypto.randomUUID();
    let replica: RestReplica;
    try {
      replica = await this.#http.call({
        method: "PUT",
        path: `/pools/${seg(poolId)}/replicas/${seg(uuid)}`,
        body: { size: vol.spec.size, thin: vol.spec.thin ?? false, share: "nvmf" },
        schema: ReplicaSchema,
        signal,
      });
    } catch (e) {
      // A retried PUT whose first attempt landed answers AlreadyExists: fetch it.
      if (!(e instanceof MayastorApiError && e.status === 409)) throw e;
      replica = await this.#http.call({
        method: "GET",
        path: `/replicas/${seg(uuid)}`,
        schema: ReplicaSchema,
        signal,
      });
    }
    this.#log.info("replica created", { volume: volumeUuid, pool: poolId, replica: uuid });
    try {
      await this.#ignore409(this.#http.call({
        method: "PUT",
        path: `/nexuses/${seg(nexus.uuid)}/children/${seg(replica.uri)}`,
        schema: ChildSchema,
        signal,
      }));
      const count = Object.keys(vol.state.replica_topology).length + 1;
      if (vol.spec.num_replicas < count) {
        await this.#http.call({
          method: "PUT",
          path: `/volumes/${seg(volumeUuid)}/replica_count/${count}`,
          schema: VolumeSchema,
          signal,
        });
      }
    } catch (e) {
      await this.#cleanup(nexus.uuid, replica, vol.spec.num_replicas);
      throw e;
    }
    return uuid;
  }

  /** Detaches and destroys exactly `replicaUuid`; the volume's other replicas stay. */
  async retireReplica(volumeUuid: string, replicaUuid: string, signal?: AbortSignal) {
    const endpoint = `retireReplica ${volumeUuid}/${replicaUuid}`;
    const vol = await this.#mustGet(volumeUuid, signal);
    const topo = vol.state.replica_topology;
    const entry = topo[replicaUuid];
    if (!entry) {
      // Not (or no longer) part of the volume: destroy it if it still exists.
      await this.#destroyIfExists(replicaUuid, signal);
      return;
    }
    const view = toVolume(vol);
    const others = view.replicas.filter((r) => r.uuid !== replicaUuid);
    if (!others.some((r) => isHealthyReplica(view, r))) {
      throw new BackendError(
        `refusing to retire replica ${replicaUuid}: no other healthy replica of ${volumeUuid}`,
        endpoint,
      );
    }
    const nexus = vol.state.target;
    const child = nexus?.children.find((c) => replicaUuidOfUri(c.uri) === replicaUuid);
    if (nexus && child) {
      await this.#ignore404(this.#http.call({
        method: "DELETE",
        path: `/nexuses/${seg(nexus.uuid)}/children/${seg(child.uri)}`,
        signal,
      }));
    }
    const want = Math.max(1, others.length);
    if (vol.spec.num_replicas > want) {
      await this.#http.call({
        method: "PUT",
        path: `/volumes/${seg(volumeUuid)}/replica_count/${want}`,
        schema: VolumeSchema,
        signal,
      });
    }
    await this.#destroyIfExists(replicaUuid, signal);
    const after = await this.#mustGet(volumeUuid, signal);
    const lost = others.filter((r) => !after.state.replica_topology[r.uuid]);
    if (lost.length > 0) {
      throw new BackendError(
        `control plane dropped ${lost.map((r) => r.uuid).join(", ")} while retiring ${replicaUuid}`,
        endpoint,
      );
    }
    this.#log.info("replica retired", { volume: volumeUuid, replica: replicaUuid });
  }

  async #getRaw(uuid: string, signal?: AbortSignal): Promise<RestVolume | undefined> {
    try {
      return await this.#http.call({
        method: "GET",
        path: `/volumes/${seg(uuid)}`,
        schema: VolumeSchema,
        signal,
      });
    } catch (e) {
      if (e instanceof MayastorApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  async #mustGet(uuid: string, signal?: AbortSignal): Promise<RestVolume> {
    const v = await this.#getRaw(uuid, signal);
    if (!v) throw new BackendError(`volume ${uuid} not found`, `GET /volumes/${uuid}`, 404);
    return v;
  }

  async #destroyIfExists(uuid: string, signal?: AbortSignal): Promise<void> {
    let rep: RestReplica;
    try {
      rep = await this.#http.call({
        method: "GET",
        path: `/replicas/${seg(uuid)}`,
        schema: ReplicaSchema,
        signal,
      });
    } catch (e) {
      if (e instanceof MayastorApiError && e.status === 404) return;
      throw e;
    }
    await this.#ignore404(this.#http.call({
      method: "DELETE",
      path: `/nodes/${seg(rep.node)}/pools/${seg(rep.pool)}/replicas/${seg(uuid)}`,
      signal,
    }));
  }

  /** Best-effort undo of a half-done addReplica; errors are logged, not thrown. */
  async #cleanup(nexusUuid: string, rep: RestReplica, numReplicas: number): Promise<void> {
    try {
      await this.#ignore404(this.#http.call({
        method: "DELETE",
        path: `/nexuses/${seg(nexusUuid)}/children/${seg(rep.uri)}`,
      }));
      await this.#ignore404(this.#http.call({
        method: "DELETE",
        path: `/nodes/${seg(rep.node)}/pools/${seg(rep.pool)}/replicas/${seg(rep.uuid)}`,
      }));
    } catch (e) {
      this.#log.warn("could not undo a half-added replica", {
        replica: rep.uuid,
        numReplicas,
        error: e,
      });
    }
  }

  async #ignore404(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (e) {
      if (!(e instanceof MayastorApiError && e.status === 404)) throw e;
    }
  }

  async #ignore409(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (e) {
      if (!(e instanceof MayastorApiError && e.status === 409)) throw e;
    }
  }

  async #diskPoolLabels(signal?: AbortSignal): Promise<Map<string, Record<string, string>>> {
    const m = new Map<string, Record<string, string>>();
    if (!this.#o.diskPools) return m;
    try {
      for (const cr of await this.#o.diskPools.listDiskPools(signal)) {
        m.set(cr.metadata.name, diskPoolLabels(cr));
      }
    } catch (e) {
      if (e instanceof BackendError) throw e;
      throw new BackendError(
        `listing DiskPool CRs failed: ${e instanceof Error ? e.message : String(e)}`,
        "DiskPool CRs",
        undefined,
        true,
      );
    }
    return m;
  }
}
