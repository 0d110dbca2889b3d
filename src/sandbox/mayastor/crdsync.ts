/**
 * Keeps the simulator's Mayastor custom resources in a Kubernetes API server (the sandbox):
 * installs the DiskPool (v1beta2) CRD and publishes a DiskPool per simulated pool with its
 * status. (Mayastor v2 has no volume CRD; MOAC's MayastorVolume is end of life.)
 */
import type { KubeClient } from "../../kube/client.ts";
import { ApiError } from "../../kube/errors.ts";
import type { KubeObject, ResourceRef } from "../../kube/resource.ts";
import type { Logger } from "../../observability/log.ts";
import type { MayastorSim } from "./server.ts";

/** DiskPool, `openebs.io/v1beta2`, namespaced (k8s/operators/src/pool/diskpool/crd/v1beta2.rs). */
const DISKPOOL_RESOURCE: ResourceRef = {
  group: "openebs.io",
  version: "v1beta2",
  plural: "diskpools",
  namespaced: true,
  kind: "DiskPool",
};

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
  logger: Logger;
}

/** Mirrors the simulator into the API server; call sync() on every tick. */
export class MayastorCrdSync {
  readonly #o: CrdSyncOptions;

  constructor(opts: CrdSyncOptions) {
    this.#o = opts;
  }

  /** Creates the namespace, the CRDs and the initial CRs (idempotent). */
  async install(): Promise<void> {
    const k = this.#o.kube;
    await ignore409(k.create(NAMESPACE_RESOURCE, { metadata: { name: this.#o.namespace } }));
    await ignore409(k.create(CRD_RESOURCE, crdOf(DISKPOOL_RESOURCE, ["dsp"])));
    for (const cr of this.#o.sim.diskPools()) {
      const { status, ...obj } = cr;
      obj.metadata = { ...obj.metadata, namespace: this.#o.namespace };
      await ignore409(k.create(DISKPOOL_RESOURCE, obj as KubeObject));
      await k.patchStatus(DISKPOOL_RESOURCE, cr.metadata.name, { status }, {
        namespace: this.#o.namespace,
      });
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

  /** DiskPool statuses. */
  async sync(): Promise<void> {
    const k = this.#o.kube, ns = this.#o.namespace;
    for (const cr of this.#o.sim.diskPools()) {
      await k.patchStatus(DISKPOOL_RESOURCE, cr.metadata.name, { status: cr.status }, {
        namespace: ns,
      }).catch((e) => this.#o.logger.warn("DiskPool status update failed", { error: e }));
    }
  }
}

async function ignore409(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
  }
}
