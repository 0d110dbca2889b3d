/**
 * VolumeBackend for legacy (MOAC-era) clusters, the seed's model: volumes are
 * MayastorVolume CRs (`openebs.io/v1alpha1`); pools are DiskPool CRs.
 * The desired state is `spec.numReplicas` plus the pool topology
 * `spec.topology.pools` (one replica per listed pool); the control plane reports
 * `status.replicas[]` (uuid, pool, node, state, synced, rebuildProgress).
 *
 * A move is exact because a volume has at most one replica per pool: adding a
 * replica appends the chosen pool and raises numReplicas; retiring one removes its
 * pool and lowers numReplicas, so the control plane drops exactly that replica.
 * Patches carry the CR's resourceVersion, so a concurrent edit fails with 409
 * instead of being overwritten.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import type { KubeClient } from "../kube/client.ts";
import { ApiError } from "../kube/errors.ts";
import type { Logger } from "../observability/log.ts";
import { type DiskPoolCR, diskPoolLabels } from "./diskpool.ts";
import { isHealthyReplica } from "../model/health.ts";
import { KubeDiskPoolSource, MAYASTORVOLUME_RESOURCE } from "./kube_diskpools.ts";
import type { Pool, Replica, Volume } from "../model/storage.ts";
import { BackendError, type VolumeBackend } from "./port.ts";

const StateSchema = z.string().transform((s) => normalizeState(s));

/** A replica as MayastorVolume status reports it. */
export const CrdReplicaSchema = z.object({
  uuid: z.string(),
  pool: z.string(),
  node: z.string().optional(),
  state: StateSchema,
  /** True once the replica holds a full copy (rebuild done). */
  synced: z.boolean(),
  rebuildProgress: z.number().int().min(0).max(100).optional(),
});

/** A MayastorVolume CR, as much as CoucheStor reads. */
export const MayastorVolumeSchema = z.object({
  metadata: z.object({
    name: z.string(),
    namespace: z.string().optional(),
    resourceVersion: z.string().optional(),
  }),
  spec: z.object({
    numReplicas: z.number().int().min(1),
    requiredBytes: z.number().int().nonnegative().optional(),
    topology: z.object({ pools: z.array(z.string()).optional() }).optional(),
  }),
  status: z.object({
    size: z.number().int().nonnegative().optional(),
    state: StateSchema.optional(),
    targetNode: z.string().optional(),
    replicas: z.array(CrdReplicaSchema).optional(),
  }).optional(),
});
/** A MayastorVolume CR. */
export type MayastorVolumeCR = z.infer<typeof MayastorVolumeSchema>;

/** Maps MOAC's lower-case states (healthy, degraded, offline…) to the port's states. */
export function normalizeState(s: string): "Online" | "Degraded" | "Faulted" | "Unknown" {
  switch (s.toLowerCase()) {
    case "online":
    case "healthy":
      return "Online";
    case "degraded":
      return "Degraded";
    case "faulted":
    case "offline":
      return "Faulted";
    default:
      return "Unknown";
  }
}

/** The port's Volume from a MayastorVolume CR. */
export function crdToVolume(cr: MayastorVolumeCR): Volume {
  const replicas: Replica[] = (cr.status?.replicas ?? []).map((r) => {
    const out: Replica = {
      uuid: r.uuid,
      pool: r.pool,
      node: r.node ?? "",
      state: r.state,
      childState: r.synced ? "Online" : r.state === "Faulted" ? "Faulted" : "Degraded",
    };
    if (!r.synced && r.rebuildProgress !== undefined) out.rebuildProgress = r.rebuildProgress;
    return out;
  });
  const v: Volume = {
    uuid: cr.metadata.name,
    sizeBytes: cr.status?.size ?? cr.spec.requiredBytes ?? 0,
    replicaCount: cr.spec.numReplicas,
    status: cr.status?.state ?? "Unknown",
    replicas,
  };
  if (cr.status?.targetNode) v.targetNode = cr.status.targetNode;
  return v;
}

/** The port's Pool from a DiskPool CR's status. */
export function diskPoolToPool(cr: DiskPoolCR): Pool {
  const st = cr.status;
  return {
    id: cr.metadata.name,
    node: cr.spec.node,
    status: normalizeState(st?.pool_status ?? "Unknown"),
    capacityBytes: st?.capacity ?? 0,
    usedBytes: st?.used ?? 0,
    labels: diskPoolLabels(cr),
  };
}

/** Settings of the CRD adapter. */
export interface CrdBackendOptions {
  kube: KubeClient;
  /** Namespace of the Mayastor CRs. */
  namespace: string;
  clock: Clock;
  logger: Logger;
  /** How often addReplica looks for the new replica in status; default 1 s. */
  pollMs?: number;
  /** How long addReplica waits for the control plane to create it; default 2 min. */
  addTimeoutMs?: number;
}

/** The legacy MayastorVolume CRD adapter (`--mayastor-api=crd`). */
export class MayastorCrdBackend implements VolumeBackend {
  readonly #o: CrdBackendOptions;
  readonly #pools: KubeDiskPoolSource;

  constructor(opts: CrdBackendOptions) {
    this.#o = opts;
    this.#pools = new KubeDiskPoolSource(opts.kube, opts.namespace);
  }

  /** DiskPool CRs as pools. */
  async listPools(signal?: AbortSignal): Promise<Pool[]> {
    return (await this.#pools.listDiskPools(signal)).map(diskPoolToPool);
  }

  /** MayastorVolume CRs as volumes (malformed CRs are errors, named). */
  async listVolumes(signal?: AbortSignal): Promise<Volume[]> {
    const out: Volume[] = [];
    let cont: string | undefined;
    do {
      const page = await this.#call(
        "LIST mayastorvolumes",
        () =>
          this.#o.kube.list(MAYASTORVOLUME_RESOURCE, {
            namespace: this.#o.namespace,
            limit: 500,
            continue: cont,
            signal,
          }),
      );
      for (const item of page.items) out.push(crdToVolume(this.#parse(item)));
      cont = page.metadata.continue || undefined;
    } while (cont);
    return out;
  }

  /** One MayastorVolume, or undefined when absent. */
  async getVolume(uuid: string, signal?: AbortSignal): Promise<Volume | undefined> {
    const cr = await this.#get(uuid, signal);
    return cr && crdToVolume(cr);
  }

  /** Appends the pool to the topology, raises numReplicas, waits for the replica's uuid. */
  async addReplica(volumeUuid: string, poolId: string, signal?: AbortSignal): Promise<string> {
    const endpoint = `addReplica ${volumeUuid}`;
    const cr = await this.#must(volumeUuid, signal);
    const have = cr.status?.replicas ?? [];
    if (have.some((r) => r.pool === poolId)) {
      throw new BackendError(`volume ${volumeUuid} already has a replica on ${poolId}`, endpoint);
    }
    const pools = cr.spec.topology?.pools ?? have.map((r) => r.pool);
    await this.#patchSpec(cr, {
      numReplicas: Math.max(cr.spec.numReplicas, have.length) + 1,
      topology: { pools: [...pools.filter((p) => p !== poolId), poolId] },
    }, signal);
    const deadline = this.#o.clock.now() + (this.#o.addTimeoutMs ?? 120_000);
    for (;;) {
      const now = await this.#must(volumeUuid, signal);
      const r = now.status?.replicas?.find((x) => x.pool === poolId);
      if (r) return r.uuid;
      if (this.#o.clock.now() >= deadline) {
        throw new BackendError(
          `no replica appeared on ${poolId} for ${volumeUuid} in time`,
          endpoint,
          undefined,
          true,
        );
      }
      await this.#o.clock.sleep(this.#o.pollMs ?? 1_000, signal);
    }
  }

  /** Removes the replica's pool from the topology and lowers numReplicas. */
  async retireReplica(volumeUuid: string, replicaUuid: string, signal?: AbortSignal) {
    const endpoint = `retireReplica ${volumeUuid}/${replicaUuid}`;
    const cr = await this.#must(volumeUuid, signal);
    const view = crdToVolume(cr);
    const r = view.replicas.find((x) => x.uuid === replicaUuid);
    if (!r) return;
    const others = view.replicas.filter((x) => x.uuid !== replicaUuid);
    if (!others.some((x) => isHealthyReplica(view, x))) {
      throw new BackendError(
        `refusing to retire replica ${replicaUuid}: no other healthy replica of ${volumeUuid}`,
        endpoint,
      );
    }
    const pools = cr.spec.topology?.pools ?? view.replicas.map((x) => x.pool);
    await this.#patchSpec(cr, {
      numReplicas: Math.max(1, others.length),
      topology: { pools: pools.filter((p) => p !== r.pool) },
    }, signal);
    this.#o.logger.info("replica retire requested", { volume: volumeUuid, pool: r.pool });
  }

  async #patchSpec(cr: MayastorVolumeCR, spec: Record<string, unknown>, signal?: AbortSignal) {
    await this.#call(
      `PATCH mayastorvolumes/${cr.metadata.name}`,
      () =>
        this.#o.kube.patch(MAYASTORVOLUME_RESOURCE, cr.metadata.name, {
          metadata: { resourceVersion: cr.metadata.resourceVersion },
          spec,
        }, { namespace: this.#o.namespace, signal }),
    );
  }

  async #get(name: string, signal?: AbortSignal): Promise<MayastorVolumeCR | undefined> {
    try {
      const obj = await this.#o.kube.get(MAYASTORVOLUME_RESOURCE, name, {
        namespace: this.#o.namespace,
        signal,
      });
      return this.#parse(obj);
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      if (e instanceof BackendError) throw e;
      throw this.#wrap(`GET mayastorvolumes/${name}`, e);
    }
  }

  async #must(name: string, signal?: AbortSignal): Promise<MayastorVolumeCR> {
    const cr = await this.#get(name, signal);
    if (!cr) throw new BackendError(`MayastorVolume ${name} not found`, "GET", 404);
    return cr;
  }

  #parse(obj: unknown): MayastorVolumeCR {
    const r = MayastorVolumeSchema.safeParse(obj);
    if (!r.success) {
      const name = (obj as { metadata?: { name?: string } })?.metadata?.name;
      const issue = r.error.issues[0];
      throw new BackendError(
        `MayastorVolume ${name}: unexpected shape at ${issue?.path.join(".")}: ${issue?.message}`,
        `mayastorvolumes/${name}`,
      );
    }
    return r.data;
  }

  async #call<T>(endpoint: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw this.#wrap(endpoint, e);
    }
  }

  #wrap(endpoint: string, e: unknown): BackendError {
    const status = e instanceof ApiError && e.code > 0 ? e.code : undefined;
    return new BackendError(
      `${endpoint}: ${e instanceof Error ? e.message : String(e)}`,
      endpoint,
      status,
      status === undefined || status === 429 || status >= 500 || status === 409,
    );
  }
}
