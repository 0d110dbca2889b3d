/**
 * Conformance of `PUT /volumes/{id}/replica_count/{n}` with the v2 control plane
 * (`core/` = control-plane/agents/src/bin/core/): its preconditions, the replica an increase
 * creates, and the replica a decrease removes. Each case says what the previous simulator did.
 */
import assert from "node:assert/strict";
import { poolsOf, seg, type V0ReplicaSpec, type V0Volume, withSim } from "./helpers.ts";

type Err = { kind: string; message: string; details: string };

Deno.test("replica_count preconditions: same count, below 1, more than ±1, increase when not Online", async () => {
  // core/volume/specs.rs start_update_op SetReplica; stor-port types/mod.rs maps all of them
  // to 412 FailedPrecondition; a count that is not a u8 fails path parsing (400 Deserialize,
  // rest/service/src/v0/mod.rs PathConfig). Before: any count in 1..255 was applied, 0 was 400.
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["hot-1"] });
    const put = (n: number | string) => env.rest<Err>("PUT", `/volumes/${id}/replica_count/${n}`);
    const same = await put(1);
    assert.equal(same.status, 412);
    assert.match(
      same.body.message,
      /^ReplicaCountAchieved: Replica count of Volume .* is already '1'/,
    );
    const zero = await put(0);
    assert.equal(zero.status, 412);
    assert.match(zero.body.message, /^LastReplica:/);
    const jump = await put(3);
    assert.equal(jump.status, 412);
    assert.match(jump.body.message, /^ReplicaChangeCount:/);
    const big = await put(256);
    assert.equal(big.status, 400);
    assert.equal(big.body.kind, "Deserialize");
    env.sim.faults.poolOffline("hot-1"); // the only child faults: the volume is Faulted
    const down = await put(2);
    assert.equal(down.status, 412);
    assert.equal(down.body.kind, "FailedPrecondition");
    assert.match(down.body.message, /^ReplicaIncrease: .* in state 'Faulted'/);
  }, { reconcile: false });
});

Deno.test("replica_count increase: the control plane's own replica, on its scheduler's pool, attached and rebuilding", async () => {
  // core/volume/operations_helper.rs increase_volume_replica (volume_replica_candidates,
  // create_volume_replica_with, attach_to_target). Before: placement came from the product's
  // own choosePool and a replica was adopted without an owner.
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["hot-1"] });
    const up = await env.rest<V0Volume>("PUT", `/volumes/${id}/replica_count/2`);
    assert.equal(up.status, 200);
    assert.equal(up.body.spec.num_replicas, 2);
    const topo = Object.entries(up.body.state.replica_topology);
    assert.equal(topo.length, 2);
    const [newcomer, t] = topo.find(([, t]) => t.pool !== "hot-1")!;
    // Thick policy: fewest replicas, then most free space: an empty 4 GiB cold pool.
    assert.match(t.pool!, /^cold-/);
    assert.equal(t["child-status"], "Degraded", "rebuilding");
    assert.equal(up.body.state.status, "Degraded");
    const specs = await env.rest<{ replicas: V0ReplicaSpec[] }>("GET", "/specs");
    const spec = specs.body.replicas.find((r) => r.uuid === newcomer)!;
    assert.equal(spec.managed, true);
    assert.equal(spec.owners.volume, id);
    assert.equal(spec.owners.nexuses.length, 1, "attached: the nexus owns it");
    await env.advance(5_000);
    const done = await env.rest<V0Volume>("GET", `/volumes/${id}`);
    assert.equal(done.body.state.status, "Online");
    const hashes = await env.sim.replicaHashes(id);
    assert.deepEqual(new Set(Object.values(hashes)), new Set([env.sim.originalHash(id)]));
  });
});

Deno.test("replica_count decrease: unhealthy first (a rebuilding newcomer), then remote before local", async () => {
  // core/controller/scheduling/volume.rs ReplicaRemovalCandidates (unhealthy by NexusInfo
  // first; healthy only while more than the count are Online), scheduling/mod.rs ChildSorters
  // (a replica local to the nexus is kept). Before: non-child replicas first, then any.
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["hot-1", "hot-2"], targetNode: "node-1" });
    const up = await env.rest<V0Volume>("PUT", `/volumes/${id}/replica_count/3`);
    const newcomer = Object.entries(up.body.state.replica_topology)
      .find(([, t]) => t["child-status"] === "Degraded")![0];
    const down = await env.rest<V0Volume>("PUT", `/volumes/${id}/replica_count/2`);
    assert.equal(down.status, 200);
    assert.ok(!(newcomer in down.body.state.replica_topology), "the rebuilding one went");
    const specs = await env.rest<{ replicas: V0ReplicaSpec[] }>("GET", "/specs");
    assert.ok(!specs.body.replicas.some((r) => r.uuid === newcomer), "and was destroyed");
    // Both left are healthy: the one remote to the nexus (hot-2) goes, the local one stays.
    const one = await env.rest<V0Volume>("PUT", `/volumes/${id}/replica_count/1`);
    assert.equal(one.status, 200);
    assert.deepEqual(poolsOf(one.body), ["hot-1"]);
  });
});

Deno.test("replica_count decrease after a REST child removal: the detached replica is picked, but the nexus still owns it (409 InUse)", async () => {
  // core/nexus/operations.rs remove_child (REST: the spec forgets the child, the replica keeps
  // the nexus as owner; only nexus/operations_helper.rs remove_replica disowns), then
  // core/controller/resources/operations_helper.rs start_destroy_by: the volume is disowned
  // first, in memory, and the remaining nexus owner answers InUse; the count is not committed.
  // A second decrease finds no candidate (ReplicaRemovalNoCandidates) and commits.
  // Before: the detached replica was removed and destroyed at once.
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["hot-1", "cold-1"], targetNode: "node-1" });
    const v = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body;
    const [old] = Object.entries(v.state.replica_topology).find(([, t]) => t.pool === "cold-1")!;
    const child = v.state.target!.children.find((c) => c.uri.includes(old))!;
    const del = await env.rest(
      "DELETE",
      `/nexuses/${v.state.target!.uuid}/children/${seg(child.uri)}`,
    );
    assert.equal(del.status, 204);
    const first = await env.rest<Err>("PUT", `/volumes/${id}/replica_count/1`);
    assert.equal(first.status, 409);
    assert.equal(first.body.kind, "InUse");
    assert.equal(first.body.details, `id: ${old}`);
    const mid = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body;
    assert.equal(mid.spec.num_replicas, 2, "not committed");
    assert.deepEqual(poolsOf(mid), ["hot-1"], "but the volume no longer owns it");
    const second = await env.rest<V0Volume>("PUT", `/volumes/${id}/replica_count/1`);
    assert.equal(second.status, 200);
    assert.equal(second.body.state.status, "Online");
    const specs = await env.rest<{ replicas: V0ReplicaSpec[] }>("GET", "/specs");
    const left = specs.body.replicas.find((r) => r.uuid === old)!;
    assert.equal(left.owners.volume, undefined);
    assert.deepEqual(left.owners.nexuses, [v.state.target!.uuid], "kept by the nexus");
  }, { reconcile: false });
});
