/**
 * The REST operations on replicas, nexus children, node cordons and pool labels, as api-rest
 * and the core agent do them (`core/` = `control-plane/agents/src/bin/core/`):
 * - `PUT /pools/{pool}/replicas/{id}` creates a replica with `managed: false` and no owners
 *   (`control-plane/rest/src/versions/v0.rs` CreateReplicaBody::to_request); it never joins
 *   a volume. DELETE destroys it on behalf of nobody, so an owned replica answers InUse.
 * - `PUT /nexuses/{id}/children/{uri}` adds a raw `NexusChild::Uri` (`core/nexus/operations.rs`
 *   add_child, `stor-port/.../store/nexus_child.rs`): io-engine rebuilds it, but no replica
 *   gains an owner. DELETE removes the child from the spec without disowning the replica
 *   from the nexus (only `remove_replica` does that).
 * - Cordons are named labels (`core/node/specs.rs`); pool labels live in the pool spec and
 *   refuse a conflicting value unless `overwrite` (`core/pool/specs.rs`, pool_operations.rs).
 */
import type { CreateReplicaBody } from "./bodies.ts";
import type { ControlPlane } from "./controlplane.ts";
import { restNotFound, Svc } from "./errors.ts";
import type { SimChild, SimNexus, SimNode, SimPool, SimReplica } from "./model.ts";

/** Pool label key the DiskPool operator sets and nobody may remove (`dsp_created_by_key`). */
export const CREATED_BY_KEY = "openebs.io/created-by";

/** REST replica, child, cordon and label operations. */
export class ResourceOps {
  constructor(readonly cp: ControlPlane) {}

  /** The live replica with this id on the pool (node optional), or the REST 404. */
  replicaOn(pool: string, id: string, node?: string): SimReplica {
    const r = this.cp.s.replicas.get(id);
    const p = r && this.cp.s.pools.get(r.pool);
    if (!r || r.pool !== pool || !p || !this.cp.s.replicaLive(r) || (node && p.node !== node)) {
      throw restNotFound("replica", id);
    }
    return r;
  }

  /** PUT /pools/{pool}/replicas/{id} (or the node-scoped path): an unmanaged, unowned replica. */
  async createReplica(
    poolId: string,
    id: string,
    body: CreateReplicaBody,
    node?: string,
  ): Promise<SimReplica> {
    const pool = this.cp.s.pools.get(poolId);
    if (!pool) throw restNotFound("pool", poolId);
    if (node !== undefined && pool.node !== node) {
      throw Svc.grpc("NotFound", "create_replica", `status: NotFound, pool ${poolId} on ${node}`);
    }
    return await this.cp.createReplica({
      uuid: id,
      pool: poolId,
      size: body.size,
      thin: body.thin,
      share: body.share === "nvmf" ? "nvmf" : "none",
      managed: false,
    });
  }

  /** DELETE /pools/{pool}/replicas/{id}: destroyed on behalf of nobody (owned: InUse). */
  async destroyReplica(poolId: string, id: string, node?: string): Promise<void> {
    const r = node === undefined ? this.replicaOn(poolId, id) : this.cp.s.replicas.get(id);
    if (!r || r.pool !== poolId) throw Svc.replicaNotFound(id);
    await this.cp.destroyReplica(r, "none");
  }

  /** The live nexus with this id (and node, when given), or the REST 404. */
  nexus(id: string, node?: string): SimNexus {
    const n = this.cp.s.nexuses.get(id);
    if (!n || !n.live || (node !== undefined && n.node !== node)) throw restNotFound("nexus", id);
    return n;
  }

  /** A child of a nexus by URI, or the REST 404 (`find_nexus_child`). */
  child(n: SimNexus, uri: string): SimChild {
    const c = n.children.find((x) => x.uri === childUri(uri));
    if (!c) throw Svc.childNotFound(n.uuid, uri);
    return c;
  }

  /**
   * PUT /nexuses/{id}/children/{uri}: a raw URI child. The spec refuses a URI it already has
   * as a raw child (ChildAlreadyExists); io-engine refuses a device it already has, which the
   * core agent then reports as success (`controller/io_engine/v1/nexus.rs` add_child).
   */
  addChild(nexusId: string, rawUri: string, node?: string): SimChild {
    const n = this.nexus(nexusId, node);
    const uri = childUri(rawUri);
    const existing = n.children.find((c) => c.uri === uri);
    if (existing && existing.replica === undefined) throw Svc.childAlreadyExists(n.uuid, uri);
    if (existing) return existing;
    return this.cp.io.addChild(n, uri);
  }

  /**
   * DELETE /nexuses/{id}/children/{uri}: io-engine removes it (refusing the last child and the
   * last healthy one), then the spec forgets it; the replica keeps the nexus as an owner.
   */
  removeChild(nexusId: string, rawUri: string, node?: string): void {
    const n = this.nexus(nexusId, node);
    const uri = childUri(rawUri);
    if (!n.children.some((c) => c.uri === uri)) throw Svc.childNotFound(n.uuid, uri);
    this.cp.io.removeChild(n, uri);
  }

  /** A node or NodeNotFound. */
  node(id: string): SimNode {
    const n = this.cp.s.nodes.get(id);
    if (!n) throw Svc.nodeNotFound(id);
    return n;
  }

  /** PUT /nodes/{id}/cordon/{label}: the same label twice is refused (CordonLabel). */
  cordon(id: string, label: string): SimNode {
    const n = this.node(id);
    if (n.cordonLabels.includes(label)) throw Svc.cordonLabel(id, label);
    n.cordonLabels.push(label);
    this.cp.s.touch();
    return n;
  }

  /** DELETE /nodes/{id}/cordon/{label}: only a label the node has (UncordonLabel). */
  uncordon(id: string, label: string): SimNode {
    const n = this.node(id);
    if (!n.cordonLabels.includes(label)) throw Svc.uncordonLabel(id, label);
    n.cordonLabels = n.cordonLabels.filter((l) => l !== label);
    this.cp.s.touch();
    return n;
  }

  /** A pool or PoolNotFound. */
  pool(id: string): SimPool {
    const p = this.cp.s.pools.get(id);
    if (!p) throw Svc.poolNotFound(id);
    return p;
  }

  /** PUT /pools/{id}/label/{key}={value}: a different value needs `overwrite` (LabelsExists). */
  label(id: string, key: string, value: string, overwrite: boolean): SimPool {
    const p = this.pool(id);
    if (key === "") throw Svc.invalidLabel("Pool", `${key}=${value}`);
    if (!overwrite && key in p.labels && p.labels[key] !== value) {
      throw Svc.labelsExists("Pool", id, `{"${key}": "${p.labels[key]}"}`);
    }
    p.labels[key] = value;
    this.cp.s.touch();
    return p;
  }

  /** DELETE /pools/{id}/label/{key}: the operator's created-by key is forbidden. */
  unlabel(id: string, key: string): SimPool {
    if (key === "") throw Svc.invalidLabel("Pool", key);
    const p = this.pool(id);
    if (key === CREATED_BY_KEY) throw Svc.forbiddenUnlabelKey("Pool", key);
    if (!(key in p.labels)) throw Svc.labelNotFound("Pool", id, key);
    delete p.labels[key];
    this.cp.s.touch();
    return p;
  }
}

/**
 * `build_child_uri` (rest/service/src/v0/children.rs): a value that is not a URL is a legacy
 * device path and becomes `aio://<path>`.
 */
export function childUri(uri: string): string {
  try {
    new URL(uri);
    return uri;
  } catch {
    return `aio://${uri}`;
  }
}
