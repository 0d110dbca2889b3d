/**
 * Conformance of the simulator's reconcilers with the v2 core agent's
 * (`reconciler/` = control-plane/agents/src/bin/core/controller/reconciler/), driven by the
 * manual clock at the upstream periods (10 s busy, 30 s idle, GC every 5th pass). Before this
 * rewrite the simulator had no background behaviour at all.
 */
import assert from "node:assert/strict";
import { poolsOf, SIZE, type V0ReplicaSpec, type V0Volume, withSim } from "./helpers.ts";

const specs = async (env: Parameters<Parameters<typeof withSim>[0]>[0]) =>
  (await env.rest<{ replicas: V0ReplicaSpec[] }>("GET", "/specs")).body.replicas;

Deno.test("hot spare: a faulted child is removed, its replica destroyed and a new one scheduled and rebuilt", async () => {
  // reconciler/volume/hot_spare.rs (Degraded volume: handle_faulted_children, then
  // volume_replica_count_reconciler creates a replica, nexus_replica_count_reconciler attaches
  // it), reconciler/nexus/mod.rs faulted_children_remover (no IO log: full rebuild).
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["hot-1", "hot-2"], targetNode: "node-1" });
    const before = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body;
    const [victim] = Object.entries(before.state.replica_topology).find(([, t]) =>
      t.pool === "hot-2"
    )!;
    await env.admin("POST", "/faults", { kind: "replica-fault", replica: victim });
    assert.equal((await env.rest<V0Volume>("GET", `/volumes/${id}`)).body.state.status, "Degraded");
    // The next pass (idle period: 30 s) removes it, the busy ones (10 s) create and attach a
    // spare; its rebuild takes 4 s.
    await env.advance(60_000);
    const after = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body;
    assert.equal(after.state.status, "Online");
    assert.equal(Object.keys(after.state.replica_topology).length, 2);
    assert.ok(!(victim in after.state.replica_topology));
    assert.ok(
      !(await specs(env)).some((r) => r.uuid === victim),
      "the faulted replica was destroyed",
    );
    assert.ok(
      poolsOf(after).some((p) => p.startsWith("cold-")),
      "the spare went where the scheduler said",
    );
    const hashes = Object.values(await env.sim.replicaHashes(id));
    assert.deepEqual(new Set(hashes), new Set([env.sim.originalHash(id)]));
  });
});

Deno.test("hot spare: a faulted child with an IO log waits for its replica (10 min) and is partially rebuilt", async () => {
  // reconciler/nexus/mod.rs handle_faulted_child: child_replica_is_online → online_nexus_child;
  // wait_duration_elapsed (rebuild_policies.rs TWAIT_SPERF 600 s) → full rebuild.
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["hot-1", "cold-1"], targetNode: "node-1" });
    const topo = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body.state.replica_topology;
    const [cold] = Object.entries(topo).find(([, t]) => t.pool === "cold-1")!;
    env.sim.faults.poolOffline("cold-1");
    await env.advance(120_000);
    let v = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body;
    assert.ok(cold in v.state.replica_topology, "still waiting for it");
    env.sim.faults.poolOffline("cold-1", false);
    await env.advance(40_000);
    v = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body;
    assert.ok(cold in v.state.replica_topology, "the same replica, rebuilt");
    assert.equal(v.state.status, "Online");
  });
});

Deno.test("garbage collectors: REST replicas are never collected; an unowned managed replica is", async () => {
  // reconciler/replica/mod.rs destroy_orphaned_replica (managed && !owned), remove_missing_owners;
  // reconciler/volume/garbage_collector.rs disown_unused_replicas.
  await withSim(async (env) => {
    const rest = crypto.randomUUID();
    await env.rest("PUT", `/pools/cold-2/replicas/${rest}`, { size: SIZE, thin: false });
    // A volume deleted while a replica's node is down leaves that replica Deleting.
    const id = await env.seed({ pools: ["hot-1", "cold-1"], targetNode: "node-1" });
    const topo = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body.state.replica_topology;
    const [cold] = Object.entries(topo).find(([, t]) => t.pool === "cold-1")!;
    env.sim.faults.nodeOffline("node-3");
    assert.equal((await env.rest("DELETE", `/volumes/${id}`)).status, 204);
    let left = await specs(env);
    assert.equal(left.find((r) => r.uuid === cold)?.status, "Deleting");
    env.sim.faults.nodeOffline("node-3", false);
    await env.advance(10 * 60_000); // many passes, several with the garbage collectors
    left = await specs(env);
    assert.ok(!left.some((r) => r.uuid === cold), "collected once its node was back");
    const kept = left.find((r) => r.uuid === rest);
    assert.ok(kept, "the REST replica is never collected");
    assert.equal(kept.managed, false);
  });
});

Deno.test("nexus recreation: only the volume's own replicas; a raw child is dropped even if it is the good copy", async () => {
  // reconciler/volume/nexus.rs + reconciler/nexus/mod.rs missing_nexus_recreate with
  // nexus/scheduling.rs healthy_nexus_children → scheduling/nexus.rs CreateVolumeNexus over
  // `nexus_replicas(nexus_spec)`: Replica children only; after an unclean shutdown just one.
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["hot-1"] });
    const { replica: raw, nexus } = await env.addRawChild(id, "cold-1");
    await env.advance(10_000); // rebuilt: the raw child holds a full copy
    env.sim.faults.restartIoEngine("node-1");
    await env.advance(30_000);
    const v = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body;
    assert.equal(v.state.target!.uuid, nexus, "recreated with the same uuid");
    assert.deepEqual(v.state.target!.children.map((c) => c.uri.includes(raw)), [false]);
    assert.equal(v.state.status, "Online");
    // Nothing collects the raw replica: it just leaks its pool capacity.
    await env.advance(10 * 60_000);
    assert.ok((await specs(env)).some((x) => x.uuid === raw));
  });
});
