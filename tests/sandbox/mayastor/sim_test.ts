/**
 * The simulator's test-facing admin API over HTTP (`/sim`, documented in admin.ts): seeding,
 * workload profiles driving the exporter's counters, faults, replica hashes, data and the EC
 * tier fixtures. The control-plane rules themselves are in conformance_*_test.ts.
 */
import assert from "node:assert/strict";
import { type V0Volume, withSim } from "./helpers.ts";

Deno.test("admin: seed over HTTP, profiles drive the node's exporter, hashes match the seed", async () => {
  await withSim(async (env) => {
    const res = await env.admin("POST", "/volumes", { sizeBytes: 64 * 1024, pools: ["hot-1"] });
    const { uuid } = await res.json();
    await env.admin("PUT", `/volumes/${uuid}/profile`, { kind: "steady", iops: 10 });
    await env.clock.advance(10_000);
    const text = await (await fetch(env.sim.metricsUrls["node-1"])).text();
    assert.match(
      text,
      new RegExp(`volume_num_read_ops\\{node="node-1",pv_name="pvc-${uuid}"\\} 70\\n`),
    );
    assert.match(
      text,
      new RegExp(`volume_bytes_written\\{node="node-1",pv_name="pvc-${uuid}"\\} 122880`),
    );
    assert.match(text, /diskpool_used_size_bytes\{name="hot-1",node="node-1"\} 65536/);
    const bad = await fetch(`${env.sim.adminUrl}/volumes/${uuid}/profile`, {
      method: "PUT",
      body: JSON.stringify({ kind: "lukewarm" }),
    });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
    const hashes = await (await env.admin("GET", `/volumes/${uuid}/hashes`)).json();
    assert.deepEqual(Object.values(hashes), [env.sim.originalHash(uuid)]);
    // The all-nodes fixture endpoint holds the same series.
    assert.match(await (await fetch(env.sim.metricsUrl)).text(), new RegExp(`pvc-${uuid}`));
  });
});

Deno.test("admin: faults over HTTP — api errors by count, lost pools, down nodes, clear", async () => {
  await withSim(async (env) => {
    await env.admin("POST", "/faults", { kind: "api-error", status: 503, count: 1 });
    const first = await env.rest<{ kind: string }>("GET", "/pools");
    assert.equal(first.status, 503);
    assert.equal(first.body.kind, "Unavailable");
    assert.equal((await env.rest("GET", "/pools")).status, 200);
    await env.admin("POST", "/faults", { kind: "pool-offline", pool: "cold-1" });
    const pool = await env.rest<{ state?: unknown }>("GET", "/pools/cold-1");
    assert.equal(pool.body.state, undefined, "no io-engine state");
    assert.doesNotMatch(await (await fetch(env.sim.metricsUrls["node-3"])).text(), /cold-1/);
    await env.admin("POST", "/faults", { kind: "node-offline", node: "node-4" });
    const nodes = await env.rest<{ id: string; state: { status: string } }[]>("GET", "/nodes");
    assert.equal(nodes.body.find((n) => n.id === "node-4")?.state.status, "Offline");
    await env.admin("DELETE", "/faults");
    assert.ok((await env.rest<{ state?: unknown }>("GET", "/pools/cold-1")).body.state);
    const back = await env.rest<{ id: string; state: { status: string } }[]>("GET", "/nodes");
    assert.ok(back.body.every((n) => n.state.status === "Online"));
  });
});

Deno.test("admin: a replica that faults mid-rebuild, and the next rebuild faulting at a percentage", async () => {
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["hot-1"] });
    await env.admin("POST", "/faults", { kind: "next-rebuild-fault", atPercent: 50 });
    const up = await env.rest<V0Volume>("PUT", `/volumes/${id}/replica_count/2`);
    const [newcomer] = Object.entries(up.body.state.replica_topology)
      .find(([, t]) => t.pool !== "hot-1")!;
    await env.advance(1000); // 25%
    let v = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body;
    assert.equal(v.state.replica_topology[newcomer]["child-status"], "Degraded");
    await env.advance(2000); // past 50%: faulted
    v = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body;
    assert.equal(v.state.replica_topology[newcomer]["child-status"], "Faulted");
  }, { reconcile: false });
});

Deno.test("admin: EC tier fixtures — release, empty replica, data in and out, shard dirs", async () => {
  await withSim(async (env) => {
    const id = await env.seed({ pools: ["hot-1"] });
    const q = "offset=0&length=4096";
    const before = new Uint8Array(
      await (await env.admin("GET", `/volumes/${id}/data?${q}`)).arrayBuffer(),
    );
    const [replica] = Object.keys(await (await env.admin("GET", `/volumes/${id}/hashes`)).json());
    await env.admin("POST", `/volumes/${id}/release`, { replicas: [replica] });
    const gone = (await env.rest<V0Volume>("GET", `/volumes/${id}`)).body;
    assert.deepEqual(gone.state.replica_topology, {});
    assert.equal(gone.state.status, "Faulted");
    const { uuid } = await (await env.admin("POST", `/volumes/${id}/replicas`, { pool: "cold-1" }))
      .json();
    const res = await fetch(`${env.sim.adminUrl}/volumes/${id}/replicas/${uuid}/data?offset=0`, {
      method: "PUT",
      body: before,
    });
    assert.equal(res.status, 204);
    const after = new Uint8Array(
      await (await env.admin("GET", `/volumes/${id}/data?${q}`)).arrayBuffer(),
    );
    assert.deepEqual(after, before);
    const { path } = await (await env.admin("PUT", `/pools/cold-2/ec/${id}`)).json();
    assert.ok((await Deno.stat(path)).isDirectory);
    await env.admin("DELETE", `/pools/cold-2/ec/${id}`);
    await assert.rejects(() => Deno.stat(path), Deno.errors.NotFound);
    // Published again, the rehydrated replica is the volume's only copy.
    const pub = await env.rest<V0Volume>("PUT", `/volumes/${id}/target`, {
      protocol: "nvmf",
      publish_context: {},
    });
    assert.deepEqual(Object.keys(pub.body.state.replica_topology), [uuid]);
  });
});
