/**
 * Conformance of the simulator with the v2 control plane: replica ownership and volume status.
 * Each case cites the upstream file it models (`core/` = control-plane/agents/src/bin/core/)
 * and says what the previous simulator did instead. Every /v0 answer is checked against the
 * real OpenAPI spec on arrival (helpers.ts).
 */
import assert from "node:assert/strict";
import {
  type Answer,
  poolsOf,
  SIZE,
  type V0ReplicaSpec,
  type V0Volume,
  withSim,
} from "./helpers.ts";

const createVolume = (replicas: number) => ({
  policy: { self_heal: true },
  replicas,
  size: SIZE,
  thin: false,
});

Deno.test("ownership: volume replicas are managed, owned and listed; REST replicas are none of it", async () => {
  // control-plane/rest/src/versions/v0.rs CreateReplicaBody::to_request (managed: false, no
  // owners); core/volume/specs.rs volume_replica_candidates (managed, owned by the volume);
  // core/volume/registry.rs (replica_topology = replicas the volume owns).
  // Before: the simulator had no owners at all and every replica on a pool looked alike.
  await withSim(async (env) => {
    const id = crypto.randomUUID();
    const created = await env.rest<V0Volume>("PUT", `/volumes/${id}`, createVolume(2));
    assert.equal(created.status, 200);
    const owned = Object.keys(created.body.state.replica_topology);
    assert.equal(owned.length, 2);
    const rest = crypto.randomUUID();
    const put = await env.rest("PUT", `/pools/cold-1/replicas/${rest}`, {
      size: SIZE,
      thin: false,
    });
    assert.equal(put.status, 200);
    const specs = await env.rest<{ replicas: V0ReplicaSpec[] }>("GET", "/specs");
    const byId = new Map(specs.body.replicas.map((r) => [r.uuid, r]));
    for (const r of owned) {
      assert.equal(byId.get(r)?.managed, true);
      assert.equal(byId.get(r)?.owners.volume, id);
    }
    assert.equal(byId.get(rest)?.managed, false);
    assert.deepEqual(byId.get(rest)?.owners, { nexuses: [] });
    const v = await env.rest<V0Volume>("GET", `/volumes/${id}`);
    assert.ok(!(rest in v.body.state.replica_topology), "a REST replica never joins a volume");
    // Publishing makes the nexus an owner too (core/nexus/specs.rs on_create_set_owners).
    await env.rest("PUT", `/volumes/${id}/target`, { protocol: "nvmf", publish_context: {} });
    const after = await env.rest<{ replicas: V0ReplicaSpec[] }>("GET", "/specs");
    for (const r of after.body.replicas.filter((x) => owned.includes(x.uuid))) {
      assert.equal(r.owners.nexuses.length, 1);
    }
  });
});

Deno.test("ownership: a raw URI child is a nexus child, not a replica of the volume, and the volume is Degraded at once", async () => {
  // core/nexus/operations.rs add_child (NexusOperation::AddChild(NexusChild::Uri)),
  // stor-port store/nexus_child.rs (Replica vs Uri children), core/volume/registry.rs
  // (Online nexus with children != num_replicas is Degraded).
  // Before: the child add adopted the REST replica into the volume (listed, counted).
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["hot-1"] });
    const { child } = await env.addRawChild(id, "cold-1");
    assert.equal(child.status, 200);
    assert.equal(child.body.state, "Degraded", "out of sync: rebuilding");
    const after = await env.rest<V0Volume>("GET", `/volumes/${id}`);
    assert.equal(after.body.state.status, "Degraded");
    assert.equal(after.body.state.target!.children.length, 2);
    assert.deepEqual(poolsOf(after.body), ["hot-1"], "still one replica in the topology");
    await env.advance(8_000); // rebuilt (4 s) and two reconcile passes later
    const rebuilt = await env.rest<V0Volume>("GET", `/volumes/${id}`);
    assert.ok(rebuilt.body.state.target!.children.every((c) => c.state === "Online"));
    assert.equal(rebuilt.body.state.status, "Degraded", "2 children for num_replicas 1, for good");
  });
});

Deno.test("volume status: unpublished from owned replicas vs num_replicas, published from the nexus", async () => {
  // core/volume/registry.rs volume_state_with_replicas.
  // Before: the unpublished status counted replica health and the published one every child.
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["hot-1", "cold-1"], targetNode: null });
    const get = async () => (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body.state.status;
    assert.equal(await get(), "Online", "unpublished, 2 owned for num_replicas 2");
    // A lost pool does not change an unpublished volume's status: only the owned count does.
    env.sim.faults.poolOffline("cold-1");
    assert.equal(await get(), "Online");
    env.sim.faults.clear();
    await env.rest("PUT", `/volumes/${id}/target`, {
      protocol: "nvmf",
      publish_context: {},
      node: "node-1",
    });
    assert.equal(await get(), "Online");
    env.sim.faults.poolOffline("cold-1"); // its child faults: the nexus is Degraded
    assert.equal(await get(), "Degraded");
    env.sim.faults.restartIoEngine("node-1"); // published, no nexus state: Unknown
    const answer: Answer<V0Volume> = await env.rest("GET", `/volumes/${id}`);
    assert.equal(answer.body.state.status, "Unknown");
    assert.equal(answer.body.state.target, undefined);
  }, { reconcile: false });
});
