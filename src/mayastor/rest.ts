/**
 * VolumeBackend over Mayastor 2.x's control-plane REST API (api-rest, `/v0`), with pool labels
 * from DiskPool CRs when a DiskPoolSource is given. Only the supported levers (MAYASTOR.md):
 * `GET` pools, volumes and nodes; `PUT/DELETE /nodes/{id}/cordon/{label}` (a named cordon:
 * ours never clash with an admin's); `PUT /volumes/{id}/replica_count/{n}` (one attempt: the
 * control plane creates or removes a replica itself); `DELETE /nexuses/{nexus}/children/{uri}`.
 * A volume's replicas are the ones it owns (`state.replica_topology`); a raw nexus child is
 * not one of them.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/log.ts";
import { diskPoolLabels, type DiskPoolSource } from "./diskpool.ts";
import { MayastorApiError, RestClient, seg } from "./http.ts";
import type { Pool, Replica, Volume } from "../model/storage.ts";
import { BackendError, type MayastorNode, type VolumeBackend } from "./port.ts";
import {
  NodeSchema,
  PoolSchema,
  replicaUuidOfUri,
  type RestNode,
  type RestPool,
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

/** Converts an api-rest Node to the port's MayastorNode. */
export function toNode(n: RestNode): MayastorNode {
  const d = n.spec?.cordondrainstate;
  const labels = d?.cordonedstate?.cordonlabels ?? d?.drainingstate?.cordonlabels ??
    d?.drainedstate?.cordonlabels ?? [];
  return { id: n.id, cordonLabels: [...labels], online: n.state?.status === "Online" };
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

  /** GET /nodes. */
  async listNodes(signal?: AbortSignal): Promise<MayastorNode[]> {
    const nodes = await this.#http.call({
      method: "GET",
      path: "/nodes",
      schema: z.array(NodeSchema),
      signal,
    });
    return nodes.map(toNode);
  }

  /** PUT /nodes/{id}/cordon/{label}; a node already cordoned with the label is done. */
  async cordonNode(node: string, label: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.#http.call({
        method: "PUT",
        path: `/nodes/${seg(node)}/cordon/${seg(label)}`,
        schema: NodeSchema,
        signal,
      });
    } catch (e) {
      // 412 CordonLabel: already cordoned with it (a retried call whose first attempt landed).
      if (!(e instanceof MayastorApiError && e.status === 412)) throw e;
      if (!(await this.#hasCordon(node, label, signal))) throw e;
    }
  }

  /** DELETE /nodes/{id}/cordon/{label}; a node without the label is done. */
  async uncordonNode(node: string, label: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.#http.call({
        method: "DELETE",
        path: `/nodes/${seg(node)}/cordon/${seg(label)}`,
        schema: NodeSchema,
        signal,
      });
    } catch (e) {
      if (e instanceof MayastorApiError && e.status === 404) return; // the node is gone
      // 412 UncordonLabel: the label is not there (a retried call whose first attempt landed).
      if (!(e instanceof MayastorApiError && e.status === 412)) throw e;
      if (await this.#hasCordon(node, label, signal)) throw e;
    }
  }

  /** PUT /volumes/{id}/replica_count/{n}, once; the volume the call left. */
  async setReplicaCount(volumeUuid: string, n: number, signal?: AbortSignal): Promise<Volume> {
    const v = await this.#http.call({
      method: "PUT",
      path: `/volumes/${seg(volumeUuid)}/replica_count/${seg(n)}`,
      schema: VolumeSchema,
      signal,
      attempts: 1,
    });
    return toVolume(v);
  }

  /** DELETE /nexuses/{nexus}/children/{uri} of the replica's child; no such child: done. */
  async detachChild(volumeUuid: string, replicaUuid: string, signal?: AbortSignal): Promise<void> {
    const vol = await this.#getRaw(volumeUuid, signal);
    const nexus = vol?.state.target;
    const child = nexus?.children.find((c) => replicaUuidOfUri(c.uri) === replicaUuid);
    if (!nexus || !child) return;
    try {
      await this.#http.call({
        method: "DELETE",
        path: `/nexuses/${seg(nexus.uuid)}/children/${seg(child.uri)}`,
        signal,
      });
    } catch (e) {
      if (!(e instanceof MayastorApiError && e.status === 404)) throw e;
    }
    this.#log.info("nexus child detached", { volume: volumeUuid, replica: replicaUuid });
  }

  async #hasCordon(node: string, label: string, signal?: AbortSignal): Promise<boolean> {
    const n = await this.#http.call({
      method: "GET",
      path: `/nodes/${seg(node)}`,
      schema: NodeSchema,
      signal,
    });
    return toNode(n).cordonLabels.includes(label);
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
