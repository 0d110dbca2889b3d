/**
 * The supported move recipe (/work/shared/MAYASTOR.md), written as raw REST calls, against the
 * control-plane-faithful simulator: for each replica, Online check → cordon every node but the
 * target pool's with a named label → replica_count n+1 → check where the newcomer landed →
 * uncordon → wait until it is an Online child with no rebuild progress → DELETE the old
 * replica's child → replica_count n.
 *
 * One step does not behave as MAYASTOR.md says: after a REST child removal the detached
 * replica is still owned by the nexus (core/nexus/operations.rs remove_child does not disown;
 * only nexus/operations_helper.rs remove_replica does), so the decrease picks it (unhealthy:
 * no NexusInfo entry) and then answers 409 InUse (controller/resources/operations_helper.rs
 * start_destroy_by), having disowned it from the volume in memory. A second replica_count n
 * then finds no candidate and commits. The detached replica stays, owned by the nexus only,
 * until that nexus is destroyed; the replica garbage collector then reclaims it.
 */
import assert from "node:assert/strict";
import type { SimPoolConfig } from "../../../src/sandbox/mayastor/cluster.ts";
import { seg, type SimEnv, type V0ReplicaSpec, type V0Volume, withSim } from "./helpers.ts";

const GiB = 1024 ** 3;
/** One tier per node, three nodes per tier: any 1..3-replica volume can move as a whole. */
const SIX_NODES: SimPoolConfig[] = [1, 2, 3].flatMap((i) => [
  { id: `hot-${i}`, node: `node-h${i}`, capacityBytes: GiB, tier: "hot" as const },
  { id: `cold-${i}`, node: `node-c${i}`, capacityBytes: 4 * GiB, tier: "cold" as const },
]);
const LABEL = "couchestor.io-move";
type Err = { kind: string };

async function volume(env: SimEnv, id: string): Promise<V0Volume> {
  return (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body;
}

/** Moves the replica on `from` to `to` with the recipe; returns the detached replica's uuid. */
async function moveReplica(env: SimEnv, id: string, from: string, to: string): Promise<string> {
  const v = await volume(env, id);
  const n = v.spec.num_replicas;
  assert.equal(v.state.status, "Online");
  const targetNode = SIX_NODES.find((p) => p.id === to)!.node;
  assert.ok(!Object.values(v.state.replica_topology).some((t) => t.node === targetNode));
  const [old] = Object.entries(v.state.replica_topology).find(([, t]) => t.pool === from)!;
  const others = SIX_NODES.map((p) => p.node).filter((node) => node !== targetNode);
  for (const node of others) {
    assert.equal((await env.rest("PUT", `/nodes/${node}/cordon/${LABEL}`)).status, 200);
  }
  const up = await env.rest<V0Volume>("PUT", `/volumes/${id}/replica_count/${n + 1}`);
  assert.equal(up.status, 200);
  const [newcomer, placed] = Object.entries(up.body.state.replica_topology)
    .find(([r]) => !(r in v.state.replica_topology))!;
  assert.equal(placed.pool, to, "the scheduler had nowhere else to go");
  for (const node of others) {
    assert.equal((await env.rest("DELETE", `/nodes/${node}/cordon/${LABEL}`)).status, 200);
  }
  let child;
  for (let t = 0; t < 60; t++) {
    const now = await volume(env, id);
    child = now.state.target!.children.find((c) => c.uri.includes(newcomer));
    if (child?.state === "Online" && child.rebuildProgress === undefined) break;
    await env.advance(1000);
  }
  assert.equal(child?.state, "Online");
  const nexus = (await volume(env, id)).state.target!;
  const oldChild = nexus.children.find((c) => c.uri.includes(old))!;
  assert.equal(
    (await env.rest("DELETE", `/nexuses/${nexus.uuid}/children/${seg(oldChild.uri)}`)).status,
    204,
  );
  const down = await env.rest<Err>("PUT", `/volumes/${id}/replica_count/${n}`);
  assert.equal(down.status, 409, "the detached replica is still owned by the nexus");
  assert.equal(down.body.kind, "InUse");
  const again = await env.rest<V0Volume>("PUT", `/volumes/${id}/replica_count/${n}`);
  assert.equal(again.status, 200);
  const after = again.body;
  assert.ok(!(old in after.state.replica_topology), "exactly the old replica left the volume");
  assert.ok(newcomer in after.state.replica_topology);
  assert.equal(Object.keys(after.state.replica_topology).length, n);
  assert.equal(after.state.status, "Online", "the others are healthy");
  return old;
}

async function moveWhole(replicas: number, fromTier: "hot" | "cold", toTier: "hot" | "cold") {
  await withSim(async (env) => {
    const from = [1, 2, 3].slice(0, replicas).map((i) => `${fromTier}-${i}`);
    const to = [1, 2, 3].slice(0, replicas).map((i) => `${toTier}-${i}`);
    const id = await env.seed({
      pools: from,
      targetNode: SIX_NODES.find((p) => p.id === from[0])!.node,
    });
    const detached: string[] = [];
    for (let i = 0; i < replicas; i++) detached.push(await moveReplica(env, id, from[i], to[i]));
    const v = await volume(env, id);
    assert.deepEqual(Object.values(v.state.replica_topology).map((t) => t.pool).sort(), to);
    const hashes = await env.sim.replicaHashes(id);
    assert.equal(Object.keys(hashes).length, replicas);
    for (const h of Object.values(hashes)) assert.equal(h, env.sim.originalHash(id));
    const nodes = await env.rest<{ spec: { cordondrainstate?: unknown } }[]>("GET", "/nodes");
    assert.ok(nodes.body.every((n) => n.spec.cordondrainstate === undefined), "no node cordoned");
    // Left behind: each detached replica, owned by the nexus only (never by nobody).
    const specs = async () => (await env.rest<{ replicas: V0ReplicaSpec[] }>("GET", "/specs")).body;
    for (const r of (await specs()).replicas.filter((x) => detached.includes(x.uuid))) {
      assert.equal(r.owners.volume, undefined);
      assert.deepEqual(r.owners.nexuses, [v.state.target!.uuid]);
    }
    // Once that nexus goes (here: a republish), the garbage collectors reclaim them.
    await env.rest("DELETE", `/volumes/${id}/target`);
    await env.rest("PUT", `/volumes/${id}/target`, { protocol: "nvmf", publish_context: {} });
    await env.advance(5 * 60_000);
    const left = (await specs()).replicas;
    assert.deepEqual(left.map((r) => r.pool).sort(), to, "no replica left on any other pool");
    assert.ok(left.every((r) => r.owners.volume === id));
  }, { pools: SIX_NODES });
}

for (const replicas of [1, 2, 3]) {
  Deno.test(`move recipe: a ${replicas}-replica volume hot → cold, data intact`, () =>
    moveWhole(replicas, "hot", "cold"));
  Deno.test(`move recipe: a ${replicas}-replica volume cold → hot, data intact`, () =>
    moveWhole(replicas, "cold", "hot"));
}
