/**
 * A move never leaves a volume with fewer healthy replicas than it started with,
 * under each simulator fault. The healthy count is sampled from the simulator's
 * own state after every clock step, independent of the adapter under test.
 */
import assert from "node:assert/strict";
import { MoveError, moveReplica } from "../../src/mayastor/move.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { drive, type Harness, harness, simHealthy } from "./harness.ts";

interface Outcome {
  result?: { newReplica: string };
  error?: unknown;
  minHealthy: number;
}

/** Moves the hot-2 replica to cold-1 while `during(step)` injects faults. */
async function moveUnder(
  h: Harness,
  during: (step: number) => void,
  rebuildTimeoutMs = 60_000,
  /** Manual-clock ms per step; small steps keep request timeouts from firing under CPU load. */
  stepMs = 250,
): Promise<Outcome> {
  const from = (await drive(h.clock, h.backend.getVolume(h.volume)))!.replicas.find((r) =>
    r.pool === "hot-2"
  )!;
  let step = 0;
  let minHealthy = simHealthy(h.sim, h.volume);
  const out: Outcome = { minHealthy };
  const p = moveReplica(h.backend, h.volume, from.uuid, "cold-1", {
    clock: h.clock,
    logger: silentLogger,
    pollMs: 500,
    rebuildTimeoutMs,
  });
  try {
    out.result = await drive(h.clock, p, () => {
      during(++step);
      minHealthy = Math.min(minHealthy, simHealthy(h.sim, h.volume));
    }, stepMs);
  } catch (e) {
    out.error = e;
  }
  out.minHealthy = minHealthy;
  return out;
}

async function assertIntact(h: Harness, pools: string[]) {
  const v = (await h.backend.getVolume(h.volume))!;
  assert.deepEqual(v.replicas.map((r) => r.pool).sort(), pools);
  assert.equal(v.status, "Online");
  const hashes = await h.sim.replicaHashes(h.volume);
  for (const hash of Object.values(hashes)) assert.equal(hash, h.sim.originalHash(h.volume));
}

Deno.test("fault: target pool goes offline mid-rebuild → rollback, two healthy replicas kept", async () => {
  const h = await harness();
  try {
    const o = await moveUnder(h, (s) => s === 6 && h.sim.faults.poolOffline("cold-1"));
    assert.ok(o.error instanceof MoveError, String(o.error));
    assert.equal(o.error.phase, "rebuild");
    assert.match(o.error.message, /Faulted/);
    assert.equal(o.minHealthy, 2);
    assert.equal(o.error.rolledBack, true);
    await assertIntact(h, ["hot-1", "hot-2"]);
    // The offline pool shows without state: Unknown, no capacity, never a target.
    const cold1 = (await h.backend.listPools()).find((p) => p.id === "cold-1")!;
    assert.equal(cold1.status, "Unknown");
    assert.equal(cold1.capacityBytes, 0);
  } finally {
    await h.close();
  }
});

Deno.test("fault: another replica's pool goes offline mid-rebuild → keep old and new, retire nothing", async () => {
  const h = await harness();
  try {
    const o = await moveUnder(h, (s) => s === 4 && h.sim.faults.poolOffline("hot-1"));
    // hot-1 is lost to the fault; the newcomer rebuilds from hot-2. Retiring hot-2
    // would leave one healthy copy, so the move stops with both kept.
    assert.ok(o.error instanceof MoveError, String(o.error));
    assert.match(o.error.message, /another replica failed/);
    assert.equal(o.error.rolledBack, false);
    assert.ok(o.minHealthy >= 1);
    const v = (await h.backend.getVolume(h.volume))!;
    const healthy = v.replicas.filter((r) => r.childState === "Online").map((r) => r.pool).sort();
    assert.deepEqual(healthy, ["cold-1", "hot-2"]);
    const hashes = await h.sim.replicaHashes(h.volume);
    for (const r of v.replicas.filter((x) => x.pool !== "hot-1")) {
      assert.equal(hashes[r.uuid], h.sim.originalHash(h.volume));
    }
  } finally {
    await h.close();
  }
});

Deno.test("fault: rebuild stalls → deadline, rollback, old replicas untouched", async () => {
  const h = await harness();
  try {
    const o = await moveUnder(h, (s) => s === 3 && h.sim.faults.stallRebuilds(), 20_000);
    assert.ok(o.error instanceof MoveError);
    assert.match(o.error.message, /did not finish in time/);
    assert.equal(o.error.rolledBack, true);
    assert.equal(o.minHealthy, 2);
    await assertIntact(h, ["hot-1", "hot-2"]);
  } finally {
    await h.close();
  }
});

Deno.test("fault: rebuild fails → child Faulted, rollback, old replicas untouched", async () => {
  const h = await harness();
  try {
    const o = await moveUnder(h, (s) => s === 5 && h.sim.faults.failRebuilds());
    assert.ok(o.error instanceof MoveError);
    assert.match(o.error.message, /rebuild failed/);
    assert.equal(o.error.rolledBack, true);
    assert.equal(o.minHealthy, 2);
    h.sim.faults.clear();
    await assertIntact(h, ["hot-1", "hot-2"]);
  } finally {
    await h.close();
  }
});

for (const status of [500, 503] as const) {
  Deno.test(`fault: api-rest answers ${status} a few times → retries with backoff, move completes`, async () => {
    const h = await harness();
    try {
      let again = true;
      const o = await moveUnder(h, (s) => {
        // Three failures on the first calls, two more once the rebuild is under way.
        if (s === 1) h.sim.faults.apiErrors(status, { count: 3 });
        const v = h.sim.cluster.volumes.get(h.volume)!;
        if (again && h.sim.cluster.targetNexus(v)?.children.some((c) => c.rebuild)) {
          again = false;
          h.sim.faults.apiErrors(status, { count: 2 });
        }
      });
      assert.equal(again, false);
      assert.equal(o.error, undefined, String(o.error));
      assert.equal(o.minHealthy, 2);
      await assertIntact(h, ["cold-1", "hot-1"]);
    } finally {
      await h.close();
    }
  });

  Deno.test(`fault: api-rest answers ${status} for good → move fails, nothing lost`, async () => {
    const h = await harness();
    try {
      const o = await moveUnder(h, (s) => s === 1 && h.sim.faults.apiErrors(status));
      assert.ok(o.error instanceof MoveError);
      assert.match(
        o.error.message,
        new RegExp(`→ ${status}: ${status === 500 ? "Internal" : "Unavailable"}`),
      );
      assert.equal(o.minHealthy, 2);
      h.sim.faults.clear();
      const v = (await h.backend.getVolume(h.volume))!;
      assert.ok(v.replicas.some((r) => r.pool === "hot-2"));
      assert.ok(v.replicas.filter((r) => r.childState === "Online").length >= 2);
    } finally {
      await h.close();
    }
  });
}

Deno.test("fault: api-rest hangs while the rebuild runs → calls time out, move completes after", async () => {
  const h = await harness({ timeoutMs: 5_000 });
  try {
    const o = await moveUnder(h, (s) => {
      if (s === 3) h.sim.faults.hangApi(true, { match: "GET /volumes/" });
      if (s === 200) h.sim.faults.hangApi(false);
    });
    assert.equal(o.error, undefined, String(o.error));
    assert.equal(o.minHealthy, 2);
    await assertIntact(h, ["cold-1", "hot-1"]);
  } finally {
    await h.close();
  }
});

Deno.test("fault: api-rest hangs for good → move gives up, old replicas stay healthy", async () => {
  const h = await harness({ timeoutMs: 2_000 });
  try {
    // Hang once the add is complete (its last call raises replica_count), not after a fixed
    // number of clock steps: under load the add may still be running then, and an add that
    // fails half-way is reported as not added.
    let hung = false;
    const before = h.sim.cluster.volumes.get(h.volume)!.numReplicas;
    const addDone = () => (h.sim.cluster.volumes.get(h.volume)?.numReplicas ?? 0) > before;
    const o = await moveUnder(
      h,
      () => {
        if (!hung && addDone()) {
          h.sim.faults.hangApi(true);
          hung = true;
        }
      },
      30_000,
      25,
    );
    assert.ok(hung, "the new replica was created before the API hung");
    assert.ok(o.error instanceof MoveError);
    assert.equal(o.error.rolledBack, false, "rollback cannot reach a hung API");
    assert.equal(o.minHealthy, 2);
    h.sim.faults.clear();
    // Once the API answers again the leftover newcomer can be retired by id.
    await drive(h.clock, h.backend.retireReplica(h.volume, o.error.newReplica!));
    await assertIntact(h, ["hot-1", "hot-2"]);
  } finally {
    await h.close();
  }
});

Deno.test("fault: io-engine restart mid-move resets IO counters; the move is unaffected", async () => {
  const h = await harness({ volume: { profile: { kind: "steady", iops: 100 } } });
  try {
    await h.clock.advance(60_000);
    assert.equal(Math.round(h.sim.cluster.countersOf(h.volume).readOps), 4200);
    const o = await moveUnder(h, (s) => s === 4 && h.sim.faults.restartIoEngine("node-1"));
    assert.equal(o.error, undefined, String(o.error));
    assert.equal(o.minHealthy, 2);
    const k = h.sim.cluster.countersOf(h.volume);
    assert.ok(k.readOps < 1000, `counters restarted: ${k.readOps}`);
    const text = await (await fetch(h.sim.metricsUrl)).text();
    assert.match(text, /volume_num_read_ops\{node="node-1",pv_name="pvc-[0-9a-f-]+"\} \d+/);
    await assertIntact(h, ["cold-1", "hot-1"]);
  } finally {
    await h.close();
  }
});
