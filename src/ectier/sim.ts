/**
 * The EC tier's ports over the Mayastor simulator's admin API (`/sim`): volume bytes from a
 * healthy replica file, replica release and creation, and shard directories the simulator owns
 * under each cold pool (`<dataDir>/<pool>/ec/<volume>`). Plain HTTP on loopback.
 */
import { z } from "zod";
import { BackendError } from "../mayastor/port.ts";
import type { EcReplicaLifecycle, EcTierPorts, ShardTargets, VolumeData } from "./ports.ts";

const seg = encodeURIComponent;

/** The simulator adapter of every EC tier port. */
export class SimEcTierPorts implements VolumeData, EcReplicaLifecycle, ShardTargets {
  /** `adminUrl` is the simulator's `/sim` base URL. */
  constructor(readonly adminUrl: string) {}

  /** The three ports, all served by this adapter. */
  ports(): EcTierPorts {
    return { data: this, replicas: this, targets: this };
  }

  /** GET /sim/volumes/{id}/data. */
  async read(
    volumeUuid: string,
    offset: number,
    length: number,
    opts: { replica?: string; signal?: AbortSignal } = {},
  ): Promise<Uint8Array> {
    const q = new URLSearchParams({ offset: String(offset), length: String(length) });
    if (opts.replica) q.set("replica", opts.replica);
    const res = await this.#call("GET", `/volumes/${seg(volumeUuid)}/data?${q}`, opts.signal);
    const out = new Uint8Array(await res.arrayBuffer());
    if (out.length !== length) {
      throw new BackendError(`short read: ${out.length} of ${length} bytes`, "GET data");
    }
    return out;
  }

  /** PUT /sim/volumes/{id}/replicas/{r}/data. */
  async write(
    volumeUuid: string,
    replicaUuid: string,
    offset: number,
    data: Uint8Array,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.#call(
      "PUT",
      `/volumes/${seg(volumeUuid)}/replicas/${seg(replicaUuid)}/data?offset=${offset}`,
      signal,
      data,
    );
  }

  /** POST /sim/volumes/{id}/release. */
  async releaseReplicas(volumeUuid: string, replicas: readonly string[], signal?: AbortSignal) {
    await this.#call("POST", `/volumes/${seg(volumeUuid)}/release`, signal, { replicas });
  }

  /** POST /sim/volumes/{id}/replicas. */
  async createReplica(volumeUuid: string, poolId: string, signal?: AbortSignal): Promise<string> {
    const res = await this.#call("POST", `/volumes/${seg(volumeUuid)}/replicas`, signal, {
      pool: poolId,
    });
    return z.object({ uuid: z.string() }).parse(await res.json()).uuid;
  }

  /** DELETE /sim/volumes/{id}/replicas/{r}. */
  async removeReplica(volumeUuid: string, replicaUuid: string, signal?: AbortSignal) {
    await this.#call("DELETE", `/volumes/${seg(volumeUuid)}/replicas/${seg(replicaUuid)}`, signal);
  }

  /** PUT /sim/pools/{pool}/ec/{volume}. */
  async ensure(poolId: string, volume: string, signal?: AbortSignal): Promise<string> {
    const res = await this.#call("PUT", `/pools/${seg(poolId)}/ec/${seg(volume)}`, signal);
    return z.object({ path: z.string() }).parse(await res.json()).path;
  }

  /** DELETE /sim/pools/{pool}/ec/{volume}. */
  async remove(poolId: string, volume: string, signal?: AbortSignal): Promise<void> {
    await this.#call("DELETE", `/pools/${seg(poolId)}/ec/${seg(volume)}`, signal);
  }

  async #call(
    method: string,
    path: string,
    signal: AbortSignal | undefined,
    body?: unknown,
  ): Promise<Response> {
    const endpoint = `${method} /sim${path.split("?")[0]}`;
    let res: Response;
    try {
      res = await fetch(`${this.adminUrl}${path}`, {
        method,
        signal,
        ...(body instanceof Uint8Array
          ? { body: body as Uint8Array<ArrayBuffer> }
          : body !== undefined
          ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } }
          : {}),
      });
    } catch (e) {
      throw new BackendError(`${endpoint}: ${(e as Error).message}`, endpoint, undefined, true);
    }
    if (!res.ok) {
      const text = await res.text();
      throw new BackendError(
        `${endpoint}: ${res.status} ${text}`,
        endpoint,
        res.status,
        res.status >= 500,
      );
    }
    return res;
  }
}
