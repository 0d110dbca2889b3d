/** MoveRunner against the Mayastor simulator: concurrent moves, accounting, stop and resume. */
import assert from "node:assert/strict";
import { InFlight } from "../../src/machine/inflight.ts";
import { MemoryStateStore } from "../../src/machine/pv_state_store.ts";
import { type HistoryEntry } from "../../src/migration/history.ts";
import { MoveRunner, type MoveRunnerDeps } from "../../src/migration/runner.ts";
import type { MoveState } from "../../src/migration/state.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { drive, harness } from "../mayastor/harness.ts";
import { planWith } from "./rig.ts";

Deno.test("MoveRunner: concurrent moves, in-flight counts, stop and resume elsewhere", async () => {
  const h = await harness({ volume: { pools: ["cold-1"] } });
  // One store outlives both "operators", as the PV annotations do.
  const store = new MemoryStateStore<MoveState>();
  try {
    const uuids = [h.volume];
    for (let i = 1; i < 3; i++) {
      uuids.push(await h.sim.addVolume({ sizeBytes: 1024 * 1024, pools: ["cold-1"] }));
    }
    const history: HistoryEntry[] = [];
    const metrics = createMetrics({ defaultMetrics: false });
    const deps = (): MoveRunnerDeps => ({
      backend: h.backend,
      store,
      inFlight: new InFlight(),
      clock: h.clock,
      logger: silentLogger,
      metrics,
      pollIntervalMs: 500,
      onFinished: (e) => {
        history.push(e);
      },
    });
    const plans = await Promise.all(uuids.map((uuid, i) =>
      planWith(h.backend, uuid, "hot", {
        id: `m${i}`,
        policy: i < 2 ? "gold" : "silver",
        pv: `pv-${i}`,
        triggerIOPS: 1000 + i,
        now: h.clock.now(),
      })
    ));

    const d1 = deps();
    const first = new MoveRunner(d1);
    const leading = new AbortController();
    for (const p of plans) assert.ok(first.start(p, leading.signal));
    assert.equal(first.start(plans[0], leading.signal), false, "a volume moves once at a time");
    assert.equal(d1.inFlight.count(), 3);
    assert.equal(d1.inFlight.count("gold"), 2);
    assert.equal(d1.inFlight.count("silver"), 1);
    assert.ok(d1.inFlight.has("pv-1"));
    assert.equal((await metrics.activeMigrations.get()).values[0].value, 3);
    // Let them get going (until one is past Planned), then end the "operator"'s leadership.
    for (let i = 0; i < 400; i++) {
      const { states } = await store.list();
      if (states.some((m) => m.phase !== "Planned")) break;
      await h.clock.advance(100);
      await new Promise((r) => setTimeout(r, 5));
    }
    leading.abort();
    await drive(h.clock, first.idle());
    assert.equal(d1.inFlight.count(), 0);
    const persisted = await store.list();
    assert.equal(persisted.states.length, 3);
    assert.ok(persisted.states.some((m) => m.phase !== "Planned"));

    const second = new MoveRunner(deps());
    const r = await second.resume(new AbortController().signal);
    assert.equal(r.resumed, 3);
    await drive(h.clock, second.idle());
    assert.equal(history.length, 3);
    assert.ok(history.every((e) => e.result === "Succeeded"));
    assert.deepEqual((await store.list()).states, [], "finished moves cleared");
    for (const uuid of uuids) {
      const v = (await h.backend.getVolume(uuid))!;
      assert.equal(v.replicas.length, 1);
      assert.match(v.replicas[0].pool, /^hot-/);
      const hashes = Object.values(await h.sim.replicaHashes(uuid));
      assert.deepEqual(hashes, [h.sim.originalHash(uuid)]);
    }
    assert.equal((await metrics.activeMigrations.get()).values[0].value, 0);
  } finally {
    await h.close();
  }
});
