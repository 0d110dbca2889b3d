import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { MayastorApiError } from "../../src/mayastor/http.ts";
import { BackendError } from "../../src/mayastor/port.ts";
import { poolsForTier } from "../../src/tiering/pools.ts";
import { MayastorRestBackend } from "../../src/mayastor/rest.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { TIER_LABEL } from "../../src/sandbox/mayastor/cluster.ts";
import { drive, harness, VOL_SIZE } from "./harness.ts";

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

Deno.test("nodes: listNodes reads cordon labels; cordon and uncordon are idempotent by name", async () => {
  const h = await harness({ maxAttempts: 1 });
  try {
    const ids = (await h.backend.listNodes()).map((n) => n.id).sort();
    assert.deepEqual(ids, ["node-1", "node-2", "node-3"]);
    await h.backend.cordonNode("node-3", "couchestor.io-move");
    // A retried cordon whose first attempt landed: api-rest answers 412, the adapter checks.
    await h.backend.cordonNode("node-3", "couchestor.io-move");
    await h.backend.cordonNode("node-3", "admin-maintenance");
    const n3 = (await h.backend.listNodes()).find((n) => n.id === "node-3")!;
    assert.deepEqual([...n3.cordonLabels].sort(), ["admin-maintenance", "couchestor.io-move"]);
    assert.equal(n3.online, true);
    await h.backend.uncordonNode("node-3", "couchestor.io-move");
    await h.backend.uncordonNode("node-3", "couchestor.io-move");
    const after = (await h.backend.listNodes()).find((n) => n.id === "node-3")!;
    assert.deepEqual(after.cordonLabels, ["admin-maintenance"], "an admin's cordon is never ours");
    // An unknown node: cordon fails naming it; uncordon of a node that is gone is done.
    await assert.rejects(() => h.backend.cordonNode("node-9", "couchestor.io-move"), /node-9/);
    await h.backend.uncordonNode("node-9", "couchestor.io-move");
  } finally {
    await h.close();
  }
});

Deno.test("setReplicaCount: the control plane makes (or removes) the replica; one attempt, refusals kept", async () => {
  const h = await harness({ maxAttempts: 4 });
  try {
    const v = (await h.backend.getVolume(h.volume))!;
    // Cordon every node but node-3: the scheduler has one place left for the new replica.
    for (const n of ["node-1", "node-2"]) await h.backend.cordonNode(n, "couchestor.io-move");
    const up = await h.backend.setReplicaCount(h.volume, 3);
    const fresh = up.replicas.find((r) => !v.replicas.some((x) => x.uuid === r.uuid))!;
    assert.equal(fresh.pool, "cold-1");
    assert.equal(up.replicaCount, 3);
    for (const n of ["node-1", "node-2"]) await h.backend.uncordonNode(n, "couchestor.io-move");
    await h.clock.advance(1000);
    const rebuilding = (await h.backend.getVolume(h.volume))!;
    const r = rebuilding.replicas.find((x) => x.uuid === fresh.uuid)!;
    assert.equal(r.childState, "Degraded");
    assert.equal(r.rebuildProgress, 25);
    assert.equal(rebuilding.status, "Degraded");
    // No increase while Degraded (412, not retried although maxAttempts is 4).
    h.sim.faults.apiErrors(503, { match: "replica_count", count: 1 });
    const busy = await h.backend.setReplicaCount(h.volume, 4).catch((e) => e);
    assert.ok(busy instanceof BackendError && busy.status === 503, "a 503 is not retried");
    const refused = await h.backend.setReplicaCount(h.volume, 4).catch((e) => e);
    assert.ok(refused instanceof BackendError);
    assert.equal(refused.status, 412);
    assert.equal(refused.kind, "FailedPrecondition");
    // Detach the old hot-2 child, then lower the count: exactly that replica goes (the second
    // decrease commits; the first answers 409 InUse: the nexus still owns the replica).
    await drive(
      h.clock,
      (async () => {
        for (;;) {
          const now = (await h.backend.getVolume(h.volume))!;
          if (now.replicas.find((x) => x.uuid === fresh.uuid)?.childState === "Online") return;
          await h.clock.sleep(500);
        }
      })(),
    );
    const old = v.replicas.find((x) => x.pool === "hot-2")!;
    await h.backend.detachChild(h.volume, old.uuid);
    await h.backend.detachChild(h.volume, old.uuid); // not a child any more: done
    const inUse = await h.backend.setReplicaCount(h.volume, 2).catch((e) => e);
    assert.ok(inUse instanceof BackendError && inUse.status === 409 && inUse.kind === "InUse");
    const down = await h.backend.setReplicaCount(h.volume, 2);
    assert.deepEqual(down.replicas.map((x) => x.pool).sort(), ["cold-1", "hot-1"]);
    for (const hash of Object.values(await h.sim.replicaHashes(h.volume))) {
      assert.equal(hash, h.sim.originalHash(h.volume));
    }
  } finally {
    await h.close();
  }
});

Deno.test("api-rest errors carry endpoint, status and Mayastor's kind and details", async () => {
  const h = await harness({ maxAttempts: 1 });
  try {
    const err = await h.backend.setReplicaCount(h.volume, 2).catch((e) => e);
    assert.ok(err instanceof MayastorApiError);
    assert.equal(err.status, 412);
    assert.equal(err.kind, "FailedPrecondition");
    assert.equal(err.endpoint, `PUT /volumes/${h.volume}/replica_count/2`);
    assert.match(err.message, /FailedPrecondition: .*already/i);
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
