/**
 * TEST FIXTURES for the sandbox-only erasure-coded cold tier, outside the control-plane model:
 * real Mayastor cannot hold a volume without replicas, nor create a replica for a volume
 * from outside. Until the EC tier moves to Kubernetes Jobs, these let it take a volume's data
 * away (release), write it back into fresh replicas, and keep shard directories per pool.
 */
import type { SimCluster } from "./cluster.ts";
import { replyError } from "./errors.ts";
import { volumeReplica } from "./volumes.ts";

/**
 * The EC tier took the volume's data: its nexus goes, the listed replicas are destroyed and
 * the volume forgets its NexusInfo (its next nexus is a first creation). The volume stays.
 */
export async function releaseReplicas(c: SimCluster, uuid: string, replicas: readonly string[]) {
  const v = c.volume(uuid);
  const nexus = c.targetNexus(v);
  if (nexus) c.cp.destroyNexus(nexus);
  if (v.healthInfoId) c.nexusInfos.delete(v.healthInfoId);
  v.target = undefined;
  v.healthInfoId = undefined;
  for (const id of replicas) {
    const r = v.replicas.has(id) ? c.replicas.get(id) : undefined;
    if (r) await c.cp.destroyReplica(r, "all");
  }
  c.touch();
}

/** A new, zero-filled replica of an unpublished volume on `poolId`, owned by it. */
export async function addEmptyReplica(c: SimCluster, uuid: string, poolId: string) {
  const v = c.volume(uuid);
  if (v.target) throw replyError("InUse", `volume ${uuid} is published`);
  if ([...v.replicas].some((id) => c.replicas.get(id)?.pool === poolId)) {
    throw replyError("AlreadyExists", `volume ${uuid} already has a replica on ${poolId}`);
  }
  return (await c.cp.createReplica(volumeReplica(v, poolId))).uuid;
}

/** Destroys one replica of a volume (a rehydration rolling back). */
export async function removeReplica(c: SimCluster, uuid: string, replica: string) {
  const v = c.volume(uuid);
  const r = v.replicas.has(replica) ? c.replicas.get(replica) : undefined;
  if (r) await c.cp.destroyReplica(r, "all");
}

/** Directory the simulator owns on a pool for one volume's EC shards (created). */
export async function ecDir(c: SimCluster, poolId: string, volume: string): Promise<string> {
  const p = c.pools.get(poolId);
  if (!p) throw replyError("NotFound", `pool ${poolId} not found`);
  if (!c.poolLive(p)) throw replyError("Unavailable", `pool ${poolId} is not reachable`);
  const dir = `${c.store.ecRoot(poolId)}/${volume}`;
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

/** Removes a volume's EC shard directory on a pool (missing is fine). */
export async function removeEcDir(c: SimCluster, poolId: string, volume: string): Promise<void> {
  if (!c.pools.has(poolId)) throw replyError("NotFound", `pool ${poolId} not found`);
  await Deno.remove(`${c.store.ecRoot(poolId)}/${volume}`, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}
