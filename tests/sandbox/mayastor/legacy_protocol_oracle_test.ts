/**
 * REGRESSION ORACLE: CoucheStor's first move protocol, written out here as the raw REST calls it
 * made (not imported from src/mayastor/), run against the control-plane-faithful simulator. It
 * must keep failing the way real Mayastor v2 fails it:
 *
 *   add:    PUT /pools/{pool}/replicas/{uuid} {size, thin, share: nvmf}
 *           PUT /nexuses/{nexus}/children/{replica uri}
 *           PUT /volumes/{id}/replica_count/{n+1}
 *   retire: DELETE /nexuses/{nexus}/children/{old uri}
 *           PUT /volumes/{id}/replica_count/{n}
 *           DELETE /nodes/{node}/pools/{pool}/replicas/{old}
 *
 * Why (see /work/shared/MAYASTOR.md): a REST replica is unmanaged and owned by nobody
 * (rest/src/versions/v0.rs), so it is never listed in replica_topology (core/volume/registry.rs)
 * and never garbage-collected (core/controller/reconciler/replica/mod.rs); the child add makes
 * the volume Degraded and an increase of a volume that is not Online is 412
 * (core/volume/specs.rs); a nexus recreation uses owned replicas only
 * (core/controller/scheduling/nexus.rs), so a raw child holding the data is dropped.
 */
import assert from "node:assert/strict";
import { poolsOf, seg, SIZE, type V0Volume, withSim } from "./helpers.ts";

type Err = { kind: string; message: string };

Deno.test("legacy add: replica_count n+1 is 412 (Degraded), the REST replica is never in the topology, never collected", async () => {
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["hot-1", "hot-2"], targetNode: "node-1" });
    // 1. the replica, 2. the child (the volume is Degraded from here on).
    const { replica, child } = await env.addRawChild(id, "cold-1");
    assert.equal(child.status, 200);
    // 3. the count: refused while the child rebuilds...
    const early = await env.rest<Err>("PUT", `/volumes/${id}/replica_count/3`);
    assert.equal(early.status, 412);
    assert.match(early.body.message, /^ReplicaIncrease: .* in state 'Degraded'/);
    // ...and after: 3 children for num_replicas 2 is Degraded for good.
    await env.advance(10_000);
    const late = await env.rest<Err>("PUT", `/volumes/${id}/replica_count/3`);
    assert.equal(late.status, 412);
    const v = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body;
    assert.equal(v.state.status, "Degraded");
    assert.equal(v.spec.num_replicas, 2);
    assert.deepEqual(poolsOf(v), ["hot-1", "hot-2"], "the newcomer is not a replica of the volume");
    // Half an hour of reconcile passes: nothing owns it, nothing collects it.
    await env.advance(30 * 60_000);
    assert.equal((await env.rest("GET", `/replicas/${replica}`)).status, 200);
    const pool = await env.rest<{ state: { used: number } }>("GET", "/pools/cold-1");
    assert.equal(pool.body.state.used, SIZE, "its capacity leaks for good");
  });
});

Deno.test("legacy retire on top: the data ends on a replica nobody owns, and a nexus recreation drops it", async () => {
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["hot-1"] });
    const { replica: moved, nexus } = await env.addRawChild(id, "cold-1");
    await env.advance(5_000); // rebuilt
    const v = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body;
    const [old] = Object.keys(v.state.replica_topology);
    const oldChild = v.state.target!.children.find((c) => c.uri.includes(old))!;
    // retire 1: detach the old replica's child.
    assert.equal(
      (await env.rest("DELETE", `/nexuses/${nexus}/children/${seg(oldChild.uri)}`)).status,
      204,
    );
    // retire 2: the count never rose, so there is nothing to lower.
    const count = await env.rest<Err>("PUT", `/volumes/${id}/replica_count/1`);
    assert.equal(count.status, 412);
    assert.match(count.body.message, /^ReplicaCountAchieved:/);
    // retire 3: the old replica is still the volume's (and the nexus's): 409 InUse.
    const destroy = await env.rest<Err>("DELETE", `/nodes/node-1/pools/hot-1/replicas/${old}`);
    assert.equal(destroy.status, 409);
    assert.equal(destroy.body.kind, "InUse");
    // Writes now reach only the raw child; the volume's one replica goes stale.
    const fresh = crypto.getRandomValues(new Uint8Array(4096));
    await env.admin("PUT", `/volumes/${id}/data?offset=0`, fresh);
    const movedHash = await env.sim.replicaHash(moved);
    assert.notEqual(await env.sim.replicaHash(old), movedHash);
    assert.deepEqual(poolsOf((await env.rest<V0Volume>("GET", `/volumes/${id}`)).body), ["hot-1"]);
    // io-engine restarts: the nexus is recreated from the spec's Replica children: none left.
    env.sim.faults.restartIoEngine("node-1");
    await env.advance(5 * 60_000);
    const after = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body;
    assert.equal(after.state.target, undefined, "no nexus can be rebuilt from owned replicas");
    assert.notEqual(after.state.status, "Online");
    assert.equal(await env.sim.replicaHash(moved), movedHash, "the good copy sits unowned");
  });
});
