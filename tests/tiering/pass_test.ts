/**
 * planPass alone (pure), and the whole loop against real parts: the Mayastor simulator with
 * workload profiles, its io-engine exporter scraped by ScrapeIopsSource, planPass every 30 s,
 * and a MoveRunner executing the moves over the REST API.
 */
import assert from "node:assert/strict";
import { TIER_LABEL_KEY } from "../../src/api/meta.ts";
import { ScrapeIopsSource } from "../../src/metrics/scrape.ts";
import { FileMoveStore, MoveRunner } from "../../src/migration/mod.ts";
import type { Pool, Volume } from "../../src/mayastor/port.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { formatLastMigration, LAST_MIGRATION_ANNOTATION } from "../../src/tiering/cooldown.ts";
import { planPass, type TieringSpecFields } from "../../src/tiering/mod.ts";
import { harness } from "../mayastor/harness.ts";

const NOW = Date.UTC(2026, 0, 1);
const spec: TieringSpecFields = {
  highWatermarkIOPS: 1000,
  lowWatermarkIOPS: 100,
  samplingWindow: "1m",
  cooldownPeriod: "5m",
  maxConcurrentMigrations: 1,
  migrationTimeout: "10m",
  hotPoolSelector: { matchLabels: { [TIER_LABEL_KEY]: "hot" } },
  coldPoolSelector: { matchLabels: { [TIER_LABEL_KEY]: "cold" } },
};

function pool(id: string, tier: string, free: number): Pool {
  return {
    id,
    node: `node-${id}`,
    status: "Online",
    capacityBytes: 100,
    usedBytes: 100 - free,
    labels: { [TIER_LABEL_KEY]: tier },
  };
}
function vol(uuid: string, pool: string, size = 10): Volume {
  return {
    uuid,
    sizeBytes: size,
    replicaCount: 1,
    status: "Online",
    replicas: [{ uuid: `r-${uuid}`, pool, node: `node-${pool}`, state: "Online" }],
  };
}

Deno.test("planPass: decisions, Planned states, space of this pass's own placements", () => {
  const r = planPass({
    policyName: "gold",
    spec: { ...spec, maxConcurrentMigrations: 5 },
    flags: { preservation: true },
    pools: [pool("hot-1", "hot", 25), pool("cold-1", "cold", 100)],
    volumes: [
      { pv: "a", volume: vol("ua", "cold-1") },
      { pv: "b", volume: vol("ub", "cold-1") },
      { pv: "c", volume: vol("uc", "cold-1") },
      {
        pv: "d",
        volume: vol("ud", "cold-1"),
        annotations: { [LAST_MIGRATION_ANNOTATION]: formatLastMigration(NOW - 60_000) },
      },
      { pv: "e", volume: vol("ue", "hot-1") },
    ],
    metrics: {
      at: NOW,
      iops: new Map([["a", 5000], ["b", 3000], ["c", 2000], ["d", 9000], ["e", 1]]),
    },
    now: NOW,
    inFlight: { policy: 0, global: 0 },
    globalLimit: 10,
    isMoving: () => false,
  });
  assert.deepEqual(r.plan.decisions.map((d) => d.reason), [
    "Promote",
    "Promote",
    "Promote",
    "InCooldown",
    "Demote",
  ]);
  // hot-1 has room for two 10-byte volumes: the third promotion finds no pool.
  assert.deepEqual(r.starts.map((s) => [s.volume, s.targetPool]), [
    ["a", "hot-1"],
    ["b", "hot-1"],
    ["e", "cold-1"],
  ]);
  assert.deepEqual(r.unplaced.map((u) => [u.decision.volume, u.placement.reason]), [
    ["c", "NoTargetPool"],
  ]);
  const a = r.starts[0];
  assert.equal(a.phase, "Planned");
  assert.equal(a.preservation, true);
  assert.equal(a.triggerIOPS, 5000);
  assert.equal(a.deadline - a.startedAt, 600_000);
  assert.equal(r.settings.policy.warmTier, false);
});

Deno.test("the loop on real parts: hot volumes promoted, idle demoted, limits and cooldown held", async () => {
  const h = await harness({
    volume: { pools: ["cold-1"], profile: { kind: "steady", iops: 5000 } },
  });
  const dir = await Deno.makeTempDir({ prefix: "couchestor-loop-" });
  try {
    const MiB = 1024 * 1024;
    const uuids: Record<string, string> = { "pv-hot-a": h.volume };
    uuids["pv-hot-b"] = await h.sim.addVolume({
      sizeBytes: MiB,
      pools: ["cold-2"],
      profile: { kind: "steady", iops: 2500 },
    });
    uuids["pv-idle"] = await h.sim.addVolume({
      sizeBytes: MiB,
      pools: ["hot-1"],
      profile: { kind: "idle" },
    });
    uuids["pv-middle"] = await h.sim.addVolume({
      sizeBytes: MiB,
      pools: ["hot-2"],
      profile: { kind: "steady", iops: 400 },
    });
    const annotations: Record<string, Record<string, string>> = {};
    const finished: { pv: string; at: number; result: string }[] = [];
    const store = new FileMoveStore(dir);
    const runner = new MoveRunner({
      backend: h.backend,
      store,
      clock: h.clock,
      logger: silentLogger,
      pollIntervalMs: 1000,
      onFinished: (e, s) => {
        // What the controller does: stamp the cooldown on the PV, keep the history.
        annotations[s.volume] = {
          [LAST_MIGRATION_ANNOTATION]: formatLastMigration(s.finishedAt!),
        };
        finished.push({ pv: s.volume, at: s.finishedAt!, result: e.result });
      },
    });
    const source = new ScrapeIopsSource({ targets: [h.sim.metricsUrl], clock: h.clock });
    const start = h.clock.now();
    let maxInFlight = 0;
    for (let t = 0; t <= 300_000; t += 500) {
      if (t % 10_000 === 0) await source.scrapeOnce();
      if (t % 30_000 === 0) {
        const reading = await source.fetchIops({ windowMs: 60_000 });
        const pools = await h.backend.listPools();
        const volumes = await Promise.all(
          Object.entries(uuids).map(async ([pv, uuid]) => ({
            pv,
            annotations: annotations[pv],
            volume: (await h.backend.getVolume(uuid))!,
          })),
        );
        const pass = planPass({
          policyName: "gold",
          spec,
          pools,
          volumes,
          metrics: reading.ok ? reading : undefined,
          now: h.clock.now(),
          inFlight: { policy: runner.inFlight("gold"), global: runner.inFlight() },
          globalLimit: 4,
          isMoving: (pv) => runner.isMoving(pv),
        });
        for (const s of pass.starts) assert.ok(runner.start(s));
        if (t === 0) assert.equal(pass.plan.counts.NoMetrics, 4, "no rate before two scrapes");
      }
      maxInFlight = Math.max(maxInFlight, runner.inFlight("gold"));
      await h.clock.advance(500);
      await new Promise((r) => setTimeout(r, 1));
    }
    await runner.stop();
    const where = async (pv: string) =>
      (await h.backend.getVolume(uuids[pv]))!.replicas.map((r) => r.pool.split("-")[0]);
    assert.deepEqual(await where("pv-hot-a"), ["hot"]);
    assert.deepEqual(await where("pv-hot-b"), ["hot"]);
    assert.deepEqual(await where("pv-idle"), ["cold"]);
    assert.deepEqual(await where("pv-middle"), ["hot"], "within the band: stays");
    assert.equal(maxInFlight, 1, "maxConcurrentMigrations");
    // Hottest first, then the idle one; each moved once (cooldown 5 m, run 5 m).
    assert.deepEqual(finished.map((f) => f.pv), ["pv-hot-a", "pv-hot-b", "pv-idle"]);
    assert.ok(finished.every((f) => f.result === "Succeeded"));
    assert.ok(finished[0].at - start < 120_000);
    for (const uuid of Object.values(uuids)) {
      const hashes = Object.values(await h.sim.replicaHashes(uuid));
      assert.deepEqual(hashes, [h.sim.originalHash(uuid)]);
    }
  } finally {
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
});
