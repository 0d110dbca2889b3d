import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { MayastorApiError } from "../../src/mayastor/http.ts";
import { moveReplica } from "../../src/mayastor/move.ts";
import { choosePool, poolsForTier, tierOfVolume } from "../../src/tiering/pools.ts";
import { BackendError } from "../../src/mayastor/port.ts";
import { MayastorRestBackend } from "../../src/mayastor/rest.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { watchRebuild } from "../../src/mayastor/watch.ts";
import { TIER_LABEL } from "../../src/sandbox/mayastor/cluster.ts";
import { drive, harness, simHealthy, VOL_SIZE } from "./harness.ts";

const selectors = {
  hot: { matchLabels: { [TIER_LABEL]: "hot" } },
  cold: { matchLabels: { [TIER_LABEL]: "cold" } },
};

Deno.test("REST adapter lists pools with labels, capacity and status", async () => {
  const h = await harness({ maxAttempts: 1 });
  try {
    const pools = await h.backend.listPools();
    assert.deepEqual(pools.map((p) => p.id), ["cold-1", "cold-2", "hot-1", "hot-2"]);
    const hot1 = pools.find((p) => p.id === "hot-1")!;
    assert.equal(hot1.node, "node-1");
    assert.equal(hot1.status, "Online");
    assert.equal(hot1.capacityBytes, 1024 ** 3);
    assert.equal(hot1.usedBytes, VOL_SIZE);
    assert.equal(hot1.labels[TIER_LABEL], "hot");
    assert.deepEqual(poolsForTier(pools, selectors.cold).map((p) => p.id), ["cold-1", "cold-2"]);
  } finally {
    await h.close();
  }
});

Deno.test("REST adapter reads volumes: size, replicas with pool/node/state, target", async () => {
  const h = await harness({ maxAttempts: 1 });
  try {
    const vols = await h.backend.listVolumes();
    assert.equal(vols.length, 1);
    const v = vols[0];
    assert.equal(v.uuid, h.volume);
    assert.equal(v.sizeBytes, VOL_SIZE);
    assert.equal(v.replicaCount, 2);
    assert.equal(v.status, "Online");
    assert.equal(v.targetNode, "node-1");
    assert.deepEqual(v.replicas.map((r) => r.pool).sort(), ["hot-1", "hot-2"]);
    for (const r of v.replicas) {
      assert.equal(r.state, "Online");
      assert.equal(r.childState, "Online");
      assert.equal(r.rebuildProgress, undefined);
    }
    assert.deepEqual(await h.backend.getVolume(v.uuid), v);
    assert.equal(await h.backend.getVolume(crypto.randomUUID()), undefined);
  } finally {
    await h.close();
  }
});

Deno.test("listVolumes walks every page (max_entries / next_token)", async () => {
  const h = await harness({ pageSize: 3, maxAttempts: 1 });
  try {
    for (let i = 0; i < 9; i++) {
      await h.sim.addVolume({ sizeBytes: 4096, pools: ["cold-1"] });
    }
    const page = await (await fetch(`${h.sim.url}/volumes?max_entries=3`)).json();
    assert.equal(page.entries.length, 3);
    assert.equal(page.next_token, 3);
    const all = await h.backend.listVolumes();
    assert.equal(all.length, 10);
    assert.equal(new Set(all.map((v) => v.uuid)).size, 10);
  } finally {
    await h.close();
  }
});

Deno.test("move hot → cold: rebuild progress rises, every replica's hash equals the original", async () => {
  const h = await harness({ maxAttempts: 1 });
  try {
    const [pools, v] = [await h.backend.listPools(), (await h.backend.getVolume(h.volume))!];
    assert.equal(tierOfVolume(v, pools, selectors), "hot");
    const from = v.replicas.find((r) => r.pool === "hot-2")!;
    const choice = choosePool(v, poolsForTier(pools, selectors.cold), {
      leavingReplica: from.uuid,
    });
    // cold-1 is on node-3 (no staying replica there); cold-2 shares node-1 with hot-1.
    assert.equal(choice.pool?.id, "cold-1");
    const seen: number[] = [];
    let minHealthy = Infinity;
    const res = await drive(
      h.clock,
      moveReplica(h.backend, h.volume, from.uuid, choice.pool!.id, {
        clock: h.clock,
        logger: silentLogger,
        pollMs: 500,
        onProgress: (r) => seen.push(r.rebuildProgress ?? 100),
      }),
      () => {
        minHealthy = Math.min(minHealthy, simHealthy(h.sim, h.volume));
      },
    );
    assert.ok(seen.some((p) => p > 0 && p < 100), `progress seen: ${seen}`);
    assert.deepEqual([...seen].sort((a, b) => a - b), seen, "progress never goes back");
    assert.equal(minHealthy, 2);
    const after = (await h.backend.getVolume(h.volume))!;
    assert.deepEqual(after.replicas.map((r) => r.pool).sort(), ["cold-1", "hot-1"]);
    assert.equal(after.replicaCount, 2);
    assert.equal(after.status, "Online");
    assert.ok(after.replicas.some((r) => r.uuid === res.newReplica));
    const hashes = await h.sim.replicaHashes(h.volume);
    assert.equal(Object.keys(hashes).length, 2);
    for (const hash of Object.values(hashes)) assert.equal(hash, h.sim.originalHash(h.volume));
    // The retired replica is gone from the pool and its file removed.
    assert.equal((await h.backend.listPools()).find((p) => p.id === "hot-2")!.usedBytes, 0);
  } finally {
    await h.close();
  }
});

Deno.test("a new replica is Degraded with rebuildProgress < 100 until fully copied", async () => {
  const h = await harness({ maxAttempts: 1 });
  try {
    const id = await h.backend.addReplica(h.volume, "cold-1");
    await h.clock.advance(1000);
    let v = (await h.backend.getVolume(h.volume))!;
    let r = v.replicas.find((x) => x.uuid === id)!;
    assert.equal(v.status, "Degraded");
    assert.equal(r.childState, "Degraded");
    assert.equal(r.rebuildProgress, 25);
    assert.equal(v.replicaCount, 3, "num_replicas counts the newcomer");
    await h.clock.advance(2999);
    v = (await h.backend.getVolume(h.volume))!;
    r = v.replicas.find((x) => x.uuid === id)!;
    assert.equal(r.rebuildProgress, 99);
    assert.equal(r.childState, "Degraded");
    await h.clock.advance(1);
    v = (await h.backend.getVolume(h.volume))!;
    r = v.replicas.find((x) => x.uuid === id)!;
    assert.equal(r.childState, "Online");
    assert.equal(r.rebuildProgress, undefined);
    assert.equal(v.status, "Online");
  } finally {
    await h.close();
  }
});

Deno.test("retireReplica removes exactly the chosen replica and refuses the last healthy one", async () => {
  const h = await harness({ maxAttempts: 1 });
  try {
    const v = (await h.backend.getVolume(h.volume))!;
    const [a, b] = v.replicas;
    await h.backend.retireReplica(h.volume, a.uuid);
    const after = (await h.backend.getVolume(h.volume))!;
    assert.deepEqual(after.replicas.map((r) => r.uuid), [b.uuid]);
    assert.equal(after.replicaCount, 1);
    await assert.rejects(
      () => h.backend.retireReplica(h.volume, b.uuid),
      (e) => e instanceof BackendError && /no other healthy replica/.test(e.message),
    );
    // Retiring something already gone is a no-op.
    await h.backend.retireReplica(h.volume, a.uuid);
  } finally {
    await h.close();
  }
});

Deno.test("api-rest errors carry endpoint, status and Mayastor's kind and details", async () => {
  const h = await harness({ maxAttempts: 1 });
  try {
    const err = await h.backend.addReplica(h.volume, "no-such-pool").catch((e) => e);
    assert.ok(err instanceof MayastorApiError);
    assert.equal(err.status, 404);
    assert.equal(err.kind, "NotFound");
    assert.match(err.endpoint, /^PUT \/pools\/no-such-pool\/replicas\//);
    assert.match(err.message, /NotFound: pool no-such-pool not found/);
    assert.equal(err.retryable, false);
  } finally {
    await h.close();
  }
});

Deno.test("malformed answers become a clear BackendError, never a crash", async () => {
  const bodies: Record<string, string> = {
    "/v0/pools": JSON.stringify([{ id: "p", state: { capacity: "big" } }]),
    "/v0/volumes": "<html>oops</html>",
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => new Response(bodies[new URL(req.url).pathname] ?? "{}", { status: 200 }),
  );
  try {
    const backend = new MayastorRestBackend({
      baseUrl: `http://127.0.0.1:${server.addr.port}/v0`,
      clock: new ManualClock(),
      logger: silentLogger,
    });
    const e1 = await backend.listPools().catch((e) => e);
    assert.ok(e1 instanceof BackendError);
    assert.match(e1.message, /unexpected answer shape at 0\.state\./);
    assert.equal(e1.endpoint, "GET /pools");
    const e2 = await backend.listVolumes().catch((e) => e);
    assert.ok(e2 instanceof BackendError);
    assert.match(e2.message, /not JSON/);
    const e3 = await backend.getVolume("x").catch((e) => e);
    assert.ok(e3 instanceof BackendError);
    assert.match(e3.message, /unexpected answer shape/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("addReplica refuses an unpublished volume and a pool already holding a replica", async () => {
  const h = await harness({ volume: { targetNode: null }, maxAttempts: 1 });
  try {
    await assert.rejects(() => h.backend.addReplica(h.volume, "cold-1"), /not published/);
    await fetch(`${h.sim.url}/volumes/${h.volume}/target`, {
      method: "PUT",
      body: JSON.stringify({ publish_context: {}, protocol: "nvmf", node: "node-2" }),
    }).then((r) => r.body?.cancel());
    await assert.rejects(() => h.backend.addReplica(h.volume, "hot-1"), /already has a replica/);
    assert.equal((await h.backend.getVolume(h.volume))!.targetNode, "node-2");
  } finally {
    await h.close();
  }
});

Deno.test("lowering replica_count drops non-child replicas first (the control plane's order)", async () => {
  const h = await harness({ maxAttempts: 1 });
  try {
    const v = (await h.backend.getVolume(h.volume))!;
    const raw = await (await fetch(`${h.sim.url}/volumes/${h.volume}`)).json();
    const nexus = raw.state.target.uuid;
    const victim = v.replicas[1];
    const child = raw.state.target.children.find((c: { uri: string }) =>
      c.uri.includes(victim.uuid)
    );
    const del = await fetch(
      `${h.sim.url}/nexuses/${nexus}/children/${encodeURIComponent(child.uri)}`,
      { method: "DELETE" },
    );
    assert.equal(del.status, 204);
    const put = await fetch(`${h.sim.url}/volumes/${h.volume}/replica_count/1`, { method: "PUT" });
    assert.equal(put.status, 200);
    await put.body?.cancel();
    const after = (await h.backend.getVolume(h.volume))!;
    assert.deepEqual(after.replicas.map((r) => r.uuid), [v.replicas[0].uuid]);
  } finally {
    await h.close();
  }
});

Deno.test("watchRebuild yields rising progress, then done; a failed rebuild ends it", async () => {
  const h = await harness({ maxAttempts: 1 });
  try {
    const id = await h.backend.addReplica(h.volume, "cold-1");
    const kinds: string[] = [];
    const percents: number[] = [];
    await drive(
      h.clock,
      (async () => {
        for await (
          const o of watchRebuild(h.backend, h.volume, id, { clock: h.clock, pollMs: 1000 })
        ) {
          kinds.push(o.kind);
          if (o.kind === "progress") percents.push(o.percent);
        }
      })(),
    );
    assert.equal(kinds.at(-1), "done");
    assert.ok(percents.length >= 2 && percents.every((p, i) => i === 0 || p >= percents[i - 1]));
    const id2 = await h.backend.addReplica(h.volume, "cold-2");
    h.sim.faults.failRebuilds();
    const seen: string[] = [];
    await drive(
      h.clock,
      (async () => {
        for await (const o of watchRebuild(h.backend, h.volume, id2, { clock: h.clock })) {
          seen.push(o.kind);
        }
      })(),
    );
    assert.equal(seen.at(-1), "failed");
  } finally {
    await h.close();
  }
});
