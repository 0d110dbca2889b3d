/** The simulator's own HTTP surface: v0 shapes and errors, the admin API, the exporter text. */
import assert from "node:assert/strict";
import { ManualClock } from "../../../src/clock.ts";
import {
  PoolSchema,
  ReplicaSchema,
  RestJsonErrorSchema,
  VolumeSchema,
  VolumesSchema,
} from "../../../src/mayastor/rest_schemas.ts";
import { type MayastorSim, startMayastorSim } from "../../../src/sandbox/mayastor/server.ts";

async function sim(): Promise<{ s: MayastorSim; clock: ManualClock; close: () => Promise<void> }> {
  const clock = new ManualClock();
  const dir = await Deno.makeTempDir({ prefix: "mayastor-simtest-" });
  const s = await startMayastorSim({
    dataDir: dir,
    clock,
    rebuildBytesPerSec: 1024,
    pools: [
      { id: "p1", node: "n1", capacityBytes: 1 << 20, tier: "hot", labels: { zone: "a" } },
      { id: "p2", node: "n2", capacityBytes: 1 << 20, tier: "cold" },
      { id: "p3", node: "n3", capacityBytes: 1 << 20, tier: "cold" },
    ],
  });
  return {
    s,
    clock,
    close: async () => {
      await s.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function call(method: string, url: string, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

Deno.test("sim: volume lifecycle over /v0 in the spec's shapes", async () => {
  const { s, close } = await sim();
  try {
    const id = crypto.randomUUID();
    const created = await call("PUT", `${s.url}/volumes/${id}`, {
      policy: { self_heal: true },
      replicas: 2,
      size: 8192,
      thin: false,
    });
    assert.equal(created.status, 200);
    const v = VolumeSchema.parse(created.body);
    assert.equal(v.spec.num_replicas, 2);
    assert.equal(v.state.target, undefined, "not published yet");
    // The scheduler spreads replicas over distinct pools.
    const pools = Object.values(v.state.replica_topology).map((t) => t.pool);
    assert.equal(new Set(pools).size, 2);
    const pub = await call("PUT", `${s.url}/volumes/${id}/target`, {
      publish_context: {},
      protocol: "nvmf",
      node: "n1",
    });
    const pv = VolumeSchema.parse(pub.body);
    assert.equal(pv.state.target?.node, "n1");
    assert.equal(pv.state.target?.children.length, 2);
    const list = VolumesSchema.parse((await call("GET", `${s.url}/volumes?max_entries=0`)).body);
    assert.equal(list.entries.length, 1);
    assert.equal(list.next_token, undefined);
    const up = await call("PUT", `${s.url}/volumes/${id}/replica_count/3`);
    assert.equal(Object.keys(VolumeSchema.parse(up.body).state.replica_topology).length, 3);
    const bad = await call("PUT", `${s.url}/volumes/${id}/replica_count/0`);
    assert.equal(bad.status, 400);
    assert.equal(RestJsonErrorSchema.parse(bad.body).kind, "InvalidArgument");
    assert.equal((await call("DELETE", `${s.url}/volumes/${id}/target`)).status, 409, "rebuilding");
    assert.equal((await call("DELETE", `${s.url}/volumes/${id}`)).status, 204);
    const gone = await call("GET", `${s.url}/volumes/${id}`);
    assert.equal(gone.status, 404);
    assert.deepEqual(RestJsonErrorSchema.parse(gone.body).kind, "NotFound");
  } finally {
    await close();
  }
});

Deno.test("sim: replicas on pools, duplicates refused, capacity enforced, offline pool has no state", async () => {
  const { s, close } = await sim();
  try {
    const r = crypto.randomUUID();
    const put = await call("PUT", `${s.url}/nodes/n2/pools/p2/replicas/${r}`, {
      size: 4096,
      thin: false,
      share: "nvmf",
    });
    const rep = ReplicaSchema.parse(put.body);
    assert.equal(rep.pool, "p2");
    assert.equal(rep.node, "n2");
    assert.match(rep.uri, new RegExp(`^nvmf://n2:8420/.*${r}`));
    const again = await call("PUT", `${s.url}/pools/p2/replicas/${r}`, { size: 4096, thin: false });
    assert.equal(again.status, 409);
    const big = await call("PUT", `${s.url}/pools/p3/replicas/${crypto.randomUUID()}`, {
      size: 2 << 20,
      thin: false,
    });
    assert.equal(big.status, 507);
    assert.equal(big.body.kind, "ResourceExhausted");
    const wrongNode = await call("GET", `${s.url}/nodes/n1/pools/p2/replicas/${r}`);
    assert.equal(wrongNode.status, 404);
    s.faults.poolOffline("p2");
    const p2 = PoolSchema.parse((await call("GET", `${s.url}/pools/p2`)).body);
    assert.equal(p2.state, undefined);
    assert.equal(p2.spec?.node, "n2");
    assert.equal(
      ReplicaSchema.parse((await call("GET", `${s.url}/replicas/${r}`)).body).state,
      "Unknown",
    );
    s.faults.clear();
    const p1 = PoolSchema.parse((await call("GET", `${s.url}/pools/p1`)).body);
    assert.equal(p1.spec?.labels?.zone, "a");
    assert.equal(p1.state?.status, "Online");
    assert.equal((await call("DELETE", `${s.url}/pools/p2/replicas/${r}`)).status, 204);
    assert.equal((await call("GET", `${s.url}/replicas/${r}`)).status, 404);
  } finally {
    await close();
  }
});

Deno.test("sim admin API: faults, profiles and hashes over HTTP", async () => {
  const { s, clock, close } = await sim();
  try {
    const id = await s.addVolume({ sizeBytes: 4096, pools: ["p1"] });
    assert.equal(
      (await call("PUT", `${s.adminUrl}/volumes/${id}/profile`, { kind: "steady", iops: 10 }))
        .status,
      204,
    );
    await clock.advance(10_000);
    let text = await (await fetch(s.metricsUrl)).text();
    assert.match(text, new RegExp(`volume_num_read_ops\\{node="n1",pv_name="pvc-${id}"\\} 70`));
    assert.match(
      text,
      new RegExp(`volume_bytes_written\\{node="n1",pv_name="pvc-${id}"\\} 122880`),
    );
    assert.match(text, /diskpool_total_size_bytes\{node="n1",name="p1"\} 1048576/);
    assert.match(text, /diskpool_used_size_bytes\{node="n1",name="p1"\} 4096/);
    assert.match(text, /# TYPE volume_num_read_ops gauge/);
    const bad = await call("PUT", `${s.adminUrl}/volumes/${id}/profile`, { kind: "lukewarm" });
    assert.equal(bad.status, 400);
    await call("POST", `${s.adminUrl}/faults`, { kind: "io-engine-restart", node: "n1" });
    text = await (await fetch(s.metricsUrl)).text();
    assert.match(text, /volume_num_read_ops\{[^}]*\} 0\n/);
    await call("POST", `${s.adminUrl}/faults`, { kind: "api-error", status: 503, count: 1 });
    assert.equal((await call("GET", `${s.url}/pools`)).status, 503);
    assert.equal((await call("GET", `${s.url}/pools`)).status, 200);
    await call("POST", `${s.adminUrl}/faults`, { kind: "pool-offline", pool: "p3" });
    text = await (await fetch(s.metricsUrl)).text();
    assert.doesNotMatch(text, /name="p3"/);
    assert.equal((await call("DELETE", `${s.adminUrl}/faults`)).status, 204);
    assert.match(await (await fetch(s.metricsUrl)).text(), /name="p3"/);
    const hashes = (await call("GET", `${s.adminUrl}/volumes/${id}/hashes`)).body;
    assert.deepEqual(Object.values(hashes), [s.originalHash(id)]);
  } finally {
    await close();
  }
});
