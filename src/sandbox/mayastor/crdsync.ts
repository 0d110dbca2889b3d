/**
 * Keeps the simulator's DiskPool custom resources in a Kubernetes API server (the sandbox), as
 * the DiskPool operator would after creating the pools: installs the DiskPool CRD
 * (`openebs.io/v1beta2`, schema from `k8s/operators/src/pool/diskpool/crd/v1beta2.rs`), creates
 * one CR per pool (its creation topology labels in `spec.topology.labelled`) and keeps each
 * CR's status (cr_state, pool_status, capacity, used, available) up to date. Plain HTTP calls
 * with the server's bearer token.
 */
import type { Logger } from "../../observability/log.ts";
import type { MayastorSim } from "./server.ts";

/** Options of MayastorCrdSync. */
export interface CrdSyncOptions {
  /** API server base URL (plain HTTP) and its bearer token. */
  server: string;
  token: string;
  sim: MayastorSim;
  namespace: string;
  logger: Logger;
}

const GROUP_PATH = "/apis/openebs.io/v1beta2";

/** The DiskPool CRD as the operator installs it (v1beta2, namespaced, short name dsp). */
export function diskPoolCrd(): Record<string, unknown> {
  const int = { type: "integer", format: "int64", minimum: 0 };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "diskpools.openebs.io" },
    spec: {
      group: "openebs.io",
      scope: "Namespaced",
      names: { plural: "diskpools", singular: "diskpool", kind: "DiskPool", shortNames: ["dsp"] },
      versions: [{
        name: "v1beta2",
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: "node", type: "string", jsonPath: ".spec.node" },
          { name: "state", type: "string", jsonPath: ".status.cr_state" },
          { name: "pool_status", type: "string", jsonPath: ".status.pool_status" },
          { name: "capacity", type: "integer", format: "int64", jsonPath: ".status.capacity" },
          { name: "used", type: "integer", format: "int64", jsonPath: ".status.used" },
          { name: "available", type: "integer", format: "int64", jsonPath: ".status.available" },
        ],
        schema: {
          openAPIV3Schema: {
            type: "object",
            required: ["spec"],
            properties: {
              spec: {
                type: "object",
                required: ["disks", "node"],
                properties: {
                  node: { type: "string" },
                  disks: { type: "array", items: { type: "string" } },
                  topology: {
                    type: "object",
                    nullable: true,
                    properties: {
                      labelled: { type: "object", additionalProperties: { type: "string" } },
                    },
                  },
                },
              },
              status: {
                type: "object",
                nullable: true,
                required: ["available", "capacity", "used"],
                properties: {
                  cr_state: { type: "string", enum: ["Creating", "Created", "Terminating"] },
                  pool_status: {
                    type: "string",
                    nullable: true,
                    enum: ["Unknown", "Online", "Degraded", "Faulted"],
                  },
                  capacity: int,
                  used: int,
                  available: int,
                },
              },
            },
          },
        },
      }],
    },
  };
}

/** Mirrors the simulator's pools into the API server; call sync() on every tick. */
export class MayastorCrdSync {
  readonly #o: CrdSyncOptions;

  constructor(opts: CrdSyncOptions) {
    this.#o = opts;
  }

  async #call(method: string, path: string, body?: unknown, type = "application/json") {
    const res = await fetch(`${this.#o.server}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.#o.token}`, "content-type": type },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok && res.status !== 409) {
      throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
    }
    return res.status;
  }

  /** Creates the namespace, the CRD and the CRs (idempotent), then syncs their status. */
  async install(): Promise<void> {
    await this.#call("POST", "/api/v1/namespaces", { metadata: { name: this.#o.namespace } });
    await this.#call(
      "POST",
      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
      diskPoolCrd(),
    );
    for (const cr of this.#o.sim.diskPools()) {
      const { status: _, ...obj } = cr;
      obj.metadata = { ...obj.metadata, namespace: this.#o.namespace };
      await this.#call("POST", `${GROUP_PATH}/namespaces/${this.#o.namespace}/diskpools`, obj);
    }
    await this.sync();
  }

  /**
   * Calls sync() every `intervalMs` on the simulator's clock until the signal aborts;
   * failures are logged and the loop goes on (the API server may blip).
   */
  async run(intervalMs: number, signal: AbortSignal): Promise<void> {
    const clock = this.#o.sim.cluster.clock;
    while (!signal.aborted) {
      try {
        await this.sync();
      } catch (e) {
        this.#o.logger.warn("DiskPool CR sync failed", { error: e });
      }
      try {
        await clock.sleep(intervalMs, signal);
      } catch {
        return;
      }
    }
  }

  /** Writes every DiskPool CR's status from the simulator. */
  async sync(): Promise<void> {
    await this.#o.sim.tick();
    for (const cr of this.#o.sim.diskPools()) {
      const path =
        `${GROUP_PATH}/namespaces/${this.#o.namespace}/diskpools/${cr.metadata.name}/status`;
      await this.#call("PATCH", path, { status: cr.status }, "application/merge-patch+json")
        .catch((e) => this.#o.logger.warn("DiskPool status update failed", { error: e }));
    }
  }
}
