/**
 * Keeps the simulator's Mayastor custom resources in a Kubernetes API server
 * (the sandbox): installs the DiskPool (v1beta2) and MayastorVolume (v1alpha1)
 * CRDs, publishes a DiskPool per simulated pool with its status, and in CRD mode
 * plays the legacy control plane: one MayastorVolume per volume, its spec
 * (numReplicas, topology.pools) applied to the simulated cluster and its status
 * (replicas with pool, state, synced, rebuildProgress) written back.
 */
import type { KubeClient } from "../../kube/client.ts";
import { ApiError } from "../../kube/errors.ts";
import type { KubeObject, ResourceRef } from "../../kube/resource.ts";
import { MayastorVolumeSchema } from "../../mayastor/crd.ts";
import { DISKPOOL_RESOURCE, MAYASTORVOLUME_RESOURCE } from "../../mayastor/kube_diskpools.ts";
import type { Logger } from "../../observability/log.ts";
import { SimCluster, type SimVolume } from "./cluster.ts";
import type { MayastorSim } from "./server.ts";

const CRD_RESOURCE: ResourceRef = {
  group: "apiextensions.k8s.io",
  version: "v1",
  plural: "customresourcedefinitions",
  namespaced: false,
  kind: "CustomResourceDefinition",
};
const NAMESPACE_RESOURCE: ResourceRef = {
  group: "",
  version: "v1",
  plural: "namespaces",
  namespaced: false,
  kind: "Namespace",
};

const OPEN = { type: "object", "x-kubernetes-preserve-unknown-fields": true };

/** A CRD object for one of Mayastor's kinds. */
function crdOf(res: ResourceRef, shortNames: string[]): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${res.plural}.${res.group}` },
    spec: {
      group: res.group,
      scope: "Namespaced",
      names: {
        plural: res.plural,
        singular: res.kind!.toLowerCase(),
        kind: res.kind,
        shortNames,
      },
      versions: [{
        name: res.version,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: { type: "object", properties: { spec: OPEN, status: OPEN } },
        },
      }],
    },
  };
}

/** Options of MayastorCrdSync. */
export interface CrdSyncOptions {
  kube: KubeClient;
  sim: MayastorSim;
  namespace: string;
  /** "crd" also keeps MayastorVolume CRs and applies their spec. */
  mode: "rest" | "crd";
  logger: Logger;
}

/** Mirrors the simulator into the API server; call sync() on every tick. */
export class MayastorCrdSync {
  readonly #o: CrdSyncOptions;
  readonly #lastStatus = new Map<string, string>();

  constructor(opts: CrdSyncOptions) {
    this.#o = opts;
  }

  /** Creates the namespace, the CRDs and the initial CRs (idempotent). */
  async install(): Promise<void> {
    const k = this.#o.kube;
    await ignore409(k.create(NAMESPACE_RESOURCE, { metadata: { name: this.#o.namespace } }));
    await ignore409(k.create(CRD_RESOURCE, crdOf(DISKPOOL_RESOURCE, ["dsp"])));
    if (this.#o.mode === "crd") {
      await ignore409(k.create(CRD_RESOURCE, crdOf(MAYASTORVOLUME_RESOURCE, ["msv"])));
    }
    for (const cr of this.#o.sim.diskPools()) {
      const { status, ...obj } = cr;
      obj.metadata = { ...obj.metadata, namespace: this.#o.namespace };
      await ignore409(k.create(DISKPOOL_RESOURCE, obj as KubeObject));
      await k.patchStatus(DISKPOOL_RESOURCE, cr.metadata.name, { status }, {
        namespace: this.#o.namespace,
      });
    }
    if (this.#o.mode === "crd") {
      const c = this.#o.sim.cluster;
      for (const v of c.volumes.values()) {
        await ignore409(k.create(MAYASTORVOLUME_RESOURCE, {
          metadata: { name: v.uuid, namespace: this.#o.namespace },
          spec: {
            numReplicas: v.numReplicas,
            requiredBytes: v.size,
            topology: { pools: [...v.replicas].map((r) => c.replicas.get(r)!.pool).sort() },
          },
        }));
      }
    }
    await this.sync();
  }

  /**
   * Calls sync() every `intervalMs` on the simulator's clock until the signal
   * aborts; failures are logged and the loop goes on (the API server may blip).
   */
  async run(intervalMs: number, signal: AbortSignal): Promise<void> {
    const clock = this.#o.sim.cluster.clock;
    while (!signal.aborted) {
      try {
        await this.sync();
      } catch (e) {
        this.#o.logger.warn("Mayastor CR sync failed", { error: e });
      }
      try {
        await clock.sleep(intervalMs, signal);
      } catch {
        return;
      }
    }
  }

  /** DiskPool statuses, and in CRD mode: MayastorVolume spec applied, status written. */
  async sync(): Promise<void> {
    const k = this.#o.kube, ns = this.#o.namespace;
    if (this.#o.mode === "crd") {
      const list = await k.list(MAYASTORVOLUME_RESOURCE, { namespace: ns });
      for (const item of list.items) {
        const parsed = MayastorVolumeSchema.safeParse(item);
        if (!parsed.success) {
          this.#o.logger.warn("skipping malformed MayastorVolume", { name: item.metadata.name });
          continue;
        }
        const cr = parsed.data;
        const status = await this.#o.sim.exclusive(async () => {
          const c = this.#o.sim.cluster;
          const v = c.volumes.get(cr.metadata.name);
          if (!v) return undefined;
          await applySpec(c, v, cr.spec.numReplicas, cr.spec.topology?.pools);
          return statusOf(c, v);
        });
        if (!status) continue;
        const text = JSON.stringify(status);
        if (this.#lastStatus.get(cr.metadata.name) === text) continue;
        await k.patchStatus(MAYASTORVOLUME_RESOURCE, cr.metadata.name, { status }, {
          namespace: ns,
        });
        this.#lastStatus.set(cr.metadata.name, text);
      }
    }
    for (const cr of this.#o.sim.diskPools()) {
      await k.patchStatus(DISKPOOL_RESOURCE, cr.metadata.name, { status: cr.status }, {
        namespace: ns,
      }).catch((e) => this.#o.logger.warn("DiskPool status update failed", { error: e }));
    }
  }
}

/** Applies a MayastorVolume spec: one replica per topology pool, numReplicas recorded. */
async function applySpec(c: SimCluster, v: SimVolume, n: number, pools?: string[]) {
  if (!pools) {
    if (n !== v.numReplicas) await c.setReplicaCount(v.uuid, n);
    return;
  }
  const onPool = new Map([...v.replicas].map((r) => [c.replicas.get(r)!.pool, r] as const));
  for (const p of pools) if (!onPool.has(p)) await c.attachReplica(v.uuid, p);
  for (const [p, r] of onPool) if (!pools.includes(p)) await c.detachReplica(v.uuid, r);
  v.numReplicas = n;
}

/** MayastorVolume status from the simulated volume. */
function statusOf(c: SimCluster, v: SimVolume) {
  return {
    size: v.size,
    state: c.volumeStatus(v),
    ...(v.nexus ? { targetNode: v.nexus.node } : {}),
    replicas: [...v.replicas].sort().map((id) => {
      const r = c.replicas.get(id)!;
      const ch = c.childOf(v, id);
      const progress = ch ? SimCluster.progress(v, ch) : undefined;
      return {
        uuid: id,
        pool: r.pool,
        node: c.nodeOf(r),
        state: ch && ch.state === "Faulted" ? "Faulted" : c.replicaState(r),
        synced: v.nexus ? ch?.state === "Online" : c.replicaState(r) === "Online",
        ...(progress !== undefined ? { rebuildProgress: progress } : {}),
      };
    }),
  };
}

async function ignore409(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
  }
}
