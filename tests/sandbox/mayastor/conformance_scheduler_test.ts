/**
 * Conformance of the simulator's scheduler with the v2 control plane's
 * (`core/` = control-plane/agents/src/bin/core/, `scheduling/` = core/controller/scheduling/):
 * named node cordons, pool labels and pool topology, one replica per node, capacity and thin
 * provisioning, the weighted pool order. Before this rewrite the simulator placed replicas
 * with the product's own `choosePool` and had no cordon or label API at all (404).
 */
import assert from "node:assert/strict";
import { poolsOf, SIZE, type V0Volume, withSim } from "./helpers.ts";

type Err = { kind: string; message: string };
type Node = { spec: { cordondrainstate?: { cordonedstate: { cordonlabels: string[] } } } };
type Pool = {
  spec: { labels: Record<string, string> };
  state?: { used: number; committed: number };
};
const GiB = 1024 ** 3;

Deno.test("cordons: named labels, one of each per node, and the scheduler skips cordoned nodes", async () => {
  // core/node/specs.rs (CordonLabel / UncordonLabel → 412), store/node.rs (labels kept until
  // the last is gone), scheduling/volume_policy/node.rs cordoned_for_pool.
  await withSim(async (env) => {
    const put = (n: string, l: string) => env.rest<Node & Err>("PUT", `/nodes/${n}/cordon/${l}`);
    const del = (n: string, l: string) => env.rest<Node & Err>("DELETE", `/nodes/${n}/cordon/${l}`);
    assert.deepEqual((await put("node-4", "admin")).body.spec.cordondrainstate, {
      cordonedstate: { cordonlabels: ["admin"] },
    });
    assert.equal((await put("node-4", "couchestor")).status, 200);
    const twice = await put("node-4", "couchestor");
    assert.equal(twice.status, 412);
    assert.match(twice.body.message, /^CordonLabel: Node node-4 is already cordoned with label/);
    assert.equal((await del("node-4", "nobody")).status, 412);
    const ours = await del("node-4", "couchestor");
    assert.deepEqual(ours.body.spec.cordondrainstate?.cordonedstate.cordonlabels, ["admin"]);
    assert.equal((await put("node-9", "x")).status, 404);
    // Only node-2 is usable: the increase must land on hot-2.
    await put("node-3", "couchestor");
    const id = await env.seed({ pools: ["hot-1"] });
    const up = await env.rest<V0Volume>("PUT", `/volumes/${id}/replica_count/2`);
    assert.deepEqual(poolsOf(up.body), ["hot-1", "hot-2"]);
    // Every node but the volume's own cordoned: nowhere to go.
    await put("node-2", "couchestor");
    const v2 = await env.seed({ pools: ["hot-1"] });
    const none = await env.rest<Err>("PUT", `/volumes/${v2}/replica_count/2`);
    assert.equal(none.status, 507);
    assert.equal(none.body.kind, "ResourceExhausted");
    // A cordoned node refuses new replicas outright, REST ones too (pool/replica_operations.rs).
    const rest = await env.rest<Err>("PUT", `/pools/cold-2/replicas/${crypto.randomUUID()}`, {
      size: SIZE,
      thin: false,
    });
    assert.equal(rest.status, 412);
    assert.match(rest.body.message, /^CordonedNode:/);
  });
});

Deno.test("placement: never two replicas of a volume on one node, even with two pools there", async () => {
  // scheduling/volume_policy/node.rs NodeFilters::unused (nodes of the volume's owned replicas).
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["a-1"] });
    const up = await env.rest<V0Volume>("PUT", `/volumes/${id}/replica_count/2`);
    assert.deepEqual(poolsOf(up.body), ["a-1", "b-1"], "a-2 shares node-a with a-1");
    await env.advance(5_000);
    const none = await env.rest<Err>("PUT", `/volumes/${id}/replica_count/3`);
    assert.equal(none.status, 507, "no third node");
  }, {
    pools: [
      { id: "a-1", node: "node-a", capacityBytes: GiB },
      { id: "a-2", node: "node-a", capacityBytes: 4 * GiB },
      { id: "b-1", node: "node-b", capacityBytes: GiB },
    ],
  });
});

Deno.test("pool labels: REST label API in the pool spec; they steer only volumes created with a pool topology", async () => {
  // core/pool/specs.rs (LabelsExists unless overwrite, LabelNotFound), pool/pool_operations.rs
  // (created-by is forbidden), scheduling/volume_policy/pool.rs PoolBaseFilters::topology.
  await withSim(async (env) => {
    const label = (p: string, kv: string, q = "") =>
      env.rest<Pool & Err>("PUT", `/pools/${p}/label/${kv}${q}`);
    assert.equal((await label("cold-2", "zone=b")).body.spec.labels.zone, "b");
    assert.equal((await label("cold-2", "zone=b")).status, 200, "the same value again is fine");
    const clash = await label("cold-2", "zone=c");
    assert.equal(clash.status, 412);
    assert.match(clash.body.message, /^LabelsExists:/);
    assert.equal((await label("cold-2", "zone=c", "?overwrite=true")).body.spec.labels.zone, "c");
    const forbidden = await env.rest<Err>("DELETE", "/pools/cold-2/label/openebs.io%2Fcreated-by");
    assert.equal(forbidden.status, 400);
    assert.equal((await env.rest<Err>("DELETE", "/pools/cold-2/label/nope")).status, 412);
    // A volume created with pool inclusion zone=c can only go to cold-2.
    const steered = crypto.randomUUID();
    const created = await env.rest<V0Volume>("PUT", `/volumes/${steered}`, {
      policy: { self_heal: true },
      replicas: 1,
      size: SIZE,
      thin: false,
      topology: { pool_topology: { labelled: { inclusion: { zone: "c" }, exclusion: {} } } },
    });
    assert.deepEqual(poolsOf(created.body), ["cold-2"]);
    assert.ok(created.body.spec.topology, "the topology is part of the spec");
    const again = await env.rest<Err>("PUT", `/volumes/${steered}/replica_count/2`);
    assert.equal(again.status, 507, "no second zone=c pool");
    // Labelling hot-1 zone=c makes it a candidate; a volume without topology ignores labels.
    await label("hot-1", "zone=c");
    assert.equal((await env.rest("PUT", `/volumes/${steered}/replica_count/2`)).status, 200);
    const free = crypto.randomUUID();
    const plain = await env.rest<V0Volume>("PUT", `/volumes/${free}`, {
      policy: { self_heal: true },
      replicas: 3,
      size: SIZE,
      thin: false,
    });
    assert.equal(Object.keys(plain.body.state.replica_topology).length, 3);
  });
});

Deno.test("capacity: thick replicas need the whole size free, thin ones may overcommit to 250%", async () => {
  // scheduling/volume_policy/pool.rs (capacity, min_free_space), thick.rs
  // (min_free_space_full_rebuild), simple.rs (pool_overcommit with POOL_COMMITMENT 250%,
  // core/main.rs); pool state used vs committed.
  await withSim(async (env) => {
    const MiB = 1024 * 1024;
    const body = (size: number, thin: boolean) => ({
      policy: { self_heal: true },
      replicas: 1,
      size,
      thin,
    });
    const thick = await env.rest<V0Volume>(
      "PUT",
      `/volumes/${crypto.randomUUID()}`,
      body(60 * MiB, false),
    );
    assert.deepEqual(poolsOf(thick.body), ["p"]);
    const full = await env.rest<Err>(
      "PUT",
      `/volumes/${crypto.randomUUID()}`,
      body(60 * MiB, false),
    );
    assert.equal(full.status, 507, "40 MiB left: a second 60 MiB thick replica does not fit");
    // Thin: capacity > size, 40 MiB free > 16 MiB watermark and > 40% of the size, and
    // (size + committed) < 250% of capacity: 90 + 60, then 90 + 150.
    for (let i = 0; i < 2; i++) {
      const thin = await env.rest<V0Volume>(
        "PUT",
        `/volumes/${crypto.randomUUID()}`,
        body(90 * MiB, true),
      );
      assert.equal(thin.status, 200);
    }
    const pool = (await env.rest<Pool>("GET", "/pools/p")).body.state!;
    assert.equal(pool.committed, 240 * MiB);
    assert.equal(pool.used, 60 * MiB, "new thin replicas allocate nothing");
    const over = await env.rest<Err>(
      "PUT",
      `/volumes/${crypto.randomUUID()}`,
      body(20 * MiB, true),
    );
    assert.equal(over.status, 507, "240 + 20 MiB would pass 250 MiB");
  }, { pools: [{ id: "p", node: "n", capacityBytes: 100 * 1024 * 1024 }] });
});

Deno.test("pool order: fewer replicas (40%) and more free space (60%) win, pairwise", async () => {
  // scheduling/volume_policy/thick.rs sort_by_weights, utils/weighted-scoring dual_grade.
  await withSim(async (env) => {
    // big has 4x the free space but three replicas; small has none.
    for (let i = 0; i < 3; i++) {
      await env.rest("PUT", `/pools/big/replicas/${crypto.randomUUID()}`, {
        size: SIZE,
        thin: false,
      });
    }
    // free: big ≈ 4 GiB (weight 60: 80 vs 20), replicas: big 3 vs small 0 (weight 40: 0 vs 100).
    // big = (60*80 + 40*0)/100 = 48, small = (60*20 + 40*100)/100 = 52: small wins.
    const v = await env.rest<V0Volume>("PUT", `/volumes/${crypto.randomUUID()}`, {
      policy: { self_heal: true },
      replicas: 1,
      size: SIZE,
      thin: false,
    });
    assert.deepEqual(poolsOf(v.body), ["small"]);
  }, {
    pools: [
      { id: "big", node: "n1", capacityBytes: 4 * GiB },
      { id: "small", node: "n2", capacityBytes: GiB },
    ],
  });
});
