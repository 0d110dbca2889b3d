/**
 * planPass, the planner the StoragePolicy controller runs (pure): decisions, placement with
 * per-pass capacity reservation and headroom, the operator's timeout default, preservation,
 * and the routing of cold volumes to the erasure-coded tier. The whole loop against real parts
 * is the controller tests' (tests/controllers/).
 */
import assert from "node:assert/strict";
import { TIER_LABEL_KEY } from "../../src/api/meta.ts";
import type { Pool, Volume } from "../../src/model/storage.ts";
import { formatLastMigration, LAST_MIGRATION_ANNOTATION } from "../../src/tiering/cooldown.ts";
import {
  type EcPlacer,
  type PassInput,
  passTiers,
  type PassVolume,
  type PlannedMove,
  planPass,
} from "../../src/tiering/pass.ts";
import { volumeFacts } from "../../src/tiering/volume_facts.ts";
import { type OperatorSettings, type TieringSpecFields } from "../../src/tiering/policy.ts";

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
const OPERATOR: OperatorSettings = {
  globalLimit: 10,
  dryRun: false,
  preservation: false,
  migrationTimeoutMs: 30 * 60_000,
  freeSpaceHeadroom: 0,
};

/** A volume of the pass, read into plan facts as the controller reads it. */
function pv(
  name: string,
  volume: Volume,
  pools: readonly Pool[],
  annotations?: Record<string, string>,
): PassVolume {
  const tiers = passTiers(pools, spec);
  const facts = volumeFacts({
    subject: { pv: { metadata: { name, ...(annotations ? { annotations } : {}) } } },
    volume,
    tiers,
  }).plan;
  return { pv: name, volume, facts };
}

function vol(uuid: string, pool: string, size = 10): Volume {
  return {
    uuid,
    sizeBytes: size,
    replicaCount: 1,
    status: "Online",
    replicas: [{
      uuid: `r-${uuid}`,
      pool,
      node: `node-${pool}`,
      state: "Online",
      childState: "Online",
    }],
    targetNode: `node-${pool}`,
  };
}

const P1 = [pool("hot-1", "hot", 25), pool("cold-1", "cold", 100)];

Deno.test("planPass: decisions, Planned states, space of this pass's own placements", () => {
  const r = planPass({
    policyName: "gold",
    spec: { ...spec, maxConcurrentMigrations: 5 },
    operator: { ...OPERATOR, preservation: true },
    pools: P1,
    volumes: [
      pv("a", vol("ua", "cold-1"), P1),
      pv("b", vol("ub", "cold-1"), P1),
      pv("c", vol("uc", "cold-1"), P1),
      pv("d", vol("ud", "cold-1"), P1, {
        [LAST_MIGRATION_ANNOTATION]: formatLastMigration(NOW - 60_000),
      }),
      pv("e", vol("ue", "hot-1"), P1),
    ],
    metrics: {
      at: NOW,
      iops: new Map([["a", 5000], ["b", 3000], ["c", 2000], ["d", 9000], ["e", 1]]),
    },
    now: NOW,
    inFlight: { policy: 0, global: 0 },
  });
  assert.deepEqual(r.plan.outcomes.map((d) => d.reason), [
    "Promote",
    "Promote",
    "NoTargetPool",
    "InCooldown",
    "Demote",
  ]);
  // hot-1 has room for two 10-byte volumes: the third promotion finds no pool.
  assert.deepEqual(moves(r.work).map((s) => [s.pv.pv, s.steps[0].targetPools[0]]), [
    ["a", "hot-1"],
    ["b", "hot-1"],
    ["e", "cold-1"],
  ]);
  assert.deepEqual(r.held.map((u) => [u.outcome.volume, u.reason]), [["c", "NoTargetPool"]]);
  const a = moves(r.work)[0];
  assert.equal(a.preservation, true);
  assert.equal(a.outcome.iops, 5000);
  assert.equal(a.timeoutMs, 600_000);
  assert.equal(r.settings.policy.warmTier, false);
});

function moves(work: PassResultWork): PlannedMove[] {
  return work.filter((w): w is PlannedMove => w.kind === "move");
}
type PassResultWork = ReturnType<typeof planPass>["work"];

function coldPools(free: [number, number]): Pool[] {
  return [
    pool("hot-1", "hot", 0),
    pool("cold-1", "cold", free[0]),
    pool("cold-2", "cold", free[1]),
  ];
}

/** A pass over cold-bound volumes on hot-1 with two cold pools. */
function coldPass(o: Partial<PassInput> & { coldFree: [number, number] }) {
  return planPass({
    policyName: "gold",
    spec,
    operator: OPERATOR,
    pools: coldPools(o.coldFree),
    volumes: [
      pv("a", vol("ua", "hot-1"), coldPools(o.coldFree)),
      pv("b", vol("ub", "hot-1"), coldPools(o.coldFree)),
    ],
    metrics: { at: NOW, iops: new Map([["a", 1], ["b", 2]]) },
    now: NOW,
    inFlight: { policy: 0, global: 0 },
    ...o,
  });
}

Deno.test("planPass: two cold moves onto a pool with room for one: the second goes to the next pool or waits", () => {
  // cold-1 has the most room but only for one 10-byte volume; cold-2 has room for one too.
  const spread = coldPass({ spec: { ...spec, maxConcurrentMigrations: 2 }, coldFree: [15, 12] });
  assert.deepEqual(moves(spread.work).map((m) => [m.pv.pv, m.steps[0].targetPools[0]]), [
    ["a", "cold-1"],
    ["b", "cold-2"],
  ]);
  // Only cold-1 has room: the second move is held, not placed on the same pool.
  const wait = coldPass({ spec: { ...spec, maxConcurrentMigrations: 2 }, coldFree: [15, 5] });
  assert.deepEqual(moves(wait.work).map((m) => [m.pv.pv, m.steps[0].targetPools[0]]), [[
    "a",
    "cold-1",
  ]]);
  assert.deepEqual(wait.held.map((h) => [h.outcome.volume, h.reason]), [["b", "NoTargetPool"]]);
});

Deno.test("planPass: the free-space headroom is kept on every target pool", () => {
  // 10% of a 100-byte pool = 10 bytes kept free: 15 free is not enough for a 10-byte volume.
  const r = coldPass({
    spec: { ...spec, maxConcurrentMigrations: 2 },
    operator: { ...OPERATOR, freeSpaceHeadroom: 0.1 },
    coldFree: [15, 25],
  });
  assert.deepEqual(moves(r.work).map((m) => [m.pv.pv, m.steps[0].targetPools[0]]), [[
    "a",
    "cold-2",
  ]]);
  assert.equal(r.held[0].reason, "NoTargetPool");
  assert.match(r.held[0].detail, /cold-1: no-capacity/);
});

Deno.test("planPass: a policy without migrationTimeout takes the operator's; its own wins", () => {
  const op = { ...OPERATOR, migrationTimeoutMs: 120_000 };
  const none = coldPass({
    spec: { ...spec, migrationTimeout: undefined },
    operator: op,
    coldFree: [90, 90],
  });
  assert.equal(moves(none.work)[0].timeoutMs, 120_000);
  const own = coldPass({
    spec: { ...spec, migrationTimeout: "7m" },
    operator: op,
    coldFree: [90, 90],
  });
  assert.equal(moves(own.work)[0].timeoutMs, 420_000);
});

Deno.test("planPass: cold volumes big enough go to the EC tier through the caller's placer; its space counts", () => {
  const placed: string[] = [];
  const ec: EcPlacer = {
    archive: (v, pools, tiers) => {
      placed.push(v.uuid);
      const cold = pools.filter((p) =>
        tiers.get(p.id) === "cold" && p.usedBytes + 5 <= p.capacityBytes
      );
      return cold.length >= 2
        ? { ok: true, pools: cold.map((p) => p.id), bytesPerPool: 5 }
        : { ok: false, reason: "NotEnoughColdPools", message: `${cold.length} cold pools` };
    },
    restore: () => ({ ok: false, reason: "NoTargetPool", message: "none" }),
  };
  const r = coldPass({
    spec: { ...spec, maxConcurrentMigrations: 2, ecPolicyRef: "ec", ecMinVolumeSizeBytes: 10 },
    coldFree: [7, 7],
    ec,
  });
  assert.deepEqual(r.work.map((w) => [w.kind, w.pv.pv]), [["ec-archive", "a"]]);
  // The first archive took 5 bytes on both cold pools: the second finds no room.
  assert.deepEqual(r.held.map((h) => [h.outcome.volume, h.reason]), [["b", "NotEnoughColdPools"]]);
  // Each volume is placed twice: previewed for the plan, then placed with reservations.
  assert.deepEqual(placed, ["ua", "ub", "ua", "ub"]);
  // Below ecMinVolumeSizeBytes: a cold replica instead.
  const small = coldPass({
    spec: { ...spec, ecPolicyRef: "ec", ecMinVolumeSizeBytes: 11 },
    coldFree: [50, 50],
    ec,
  });
  assert.deepEqual(small.work.map((w) => w.kind), ["move"]);
  // No EC tier in this operator: a cold replica (the controller says why in EcTierReady).
  const none = coldPass({
    spec: { ...spec, ecPolicyRef: "ec", ecMinVolumeSizeBytes: 10 },
    coldFree: [50, 50],
  });
  assert.deepEqual(none.work.map((w) => w.kind), ["move"]);
});

Deno.test("planPass: preservation never adds a second copy on a tier the volume already has", () => {
  const v: Volume = {
    ...vol("ua", "cold-1"),
    replicaCount: 2,
    replicas: [
      { uuid: "r1", pool: "cold-1", node: "node-cold-1", state: "Online" },
      { uuid: "r2", pool: "hot-1", node: "node-hot-1", state: "Online" },
    ],
  };
  const r = planPass({
    policyName: "gold",
    spec,
    operator: { ...OPERATOR, preservation: true },
    pools: [pool("hot-1", "hot", 90), pool("hot-2", "hot", 90), pool("cold-1", "cold", 90)],
    volumes: [
      pv("a", v, [pool("hot-1", "hot", 90), pool("hot-2", "hot", 90), pool("cold-1", "cold", 90)]),
    ],
    metrics: { at: NOW, iops: new Map([["a", 5000]]) },
    now: NOW,
    inFlight: { policy: 0, global: 0 },
  });
  assert.deepEqual(r.work, []);
  assert.deepEqual(r.plan.outcomes.map((o) => o.reason), ["AlreadyOnTier"]);
});
