import assert from "node:assert/strict";
import { availableTiers, placeVolume, poolTiers, volumeTier } from "../../src/tiering/placement.ts";
import { policySettings } from "../../src/tiering/policy.ts";
import {
  cooldownRemaining,
  formatLastMigration,
  LAST_MIGRATION_ANNOTATION,
  lastMigrationFrom,
} from "../../src/tiering/cooldown.ts";
import type { Pool, Volume } from "../../src/model/storage.ts";

const GiB = 1 << 30;
function pool(id: string, tier: string, free = 100 * GiB, status: Pool["status"] = "Online"): Pool {
  return {
    id,
    node: `n-${id}`,
    status,
    capacityBytes: 200 * GiB,
    usedBytes: 200 * GiB - free,
    labels: { tier },
  };
}
const pools = [
  pool("hot-1", "nvme", 50 * GiB),
  pool("hot-2", "nvme", 80 * GiB),
  pool("hot-3", "nvme", 500 * GiB, "Faulted"),
  pool("warm-1", "ssd"),
  pool("cold-1", "hdd"),
  pool("other", "x"),
];
const selectors = {
  hot: { matchLabels: { tier: "nvme" } },
  warm: { matchExpressions: [{ key: "tier", operator: "In" as const, values: ["ssd"] }] },
  cold: { matchLabels: { tier: "hdd" } },
};
function vol(pools: string[]): Volume {
  return {
    uuid: "vol-1",
    sizeBytes: 10 * GiB,
    replicaCount: pools.length,
    status: "Online",
    replicas: pools.map((p, i) => ({ uuid: `r${i}`, pool: p, node: `n-${p}`, state: "Online" })),
  };
}

Deno.test("pool tiers, available tiers and a volume's tier", () => {
  const t = poolTiers(pools, selectors);
  assert.equal(t.get("hot-1"), "hot");
  assert.equal(t.get("warm-1"), "warm");
  assert.equal(t.get("other"), undefined);
  assert.deepEqual([...availableTiers(pools, t)].sort(), ["cold", "hot", "warm"]);
  assert.deepEqual([...availableTiers([pools[2]], t)], []);
  assert.equal(volumeTier(vol(["cold-1"]), t), "cold");
  assert.equal(volumeTier(vol(["cold-1", "hot-1"]), t), "mixed");
  assert.equal(volumeTier(vol(["other"]), t), undefined);
});

Deno.test("placement: one step per replica off the tier, to the most free Online pool, never one in use", () => {
  const t = poolTiers(pools, selectors);
  const p = placeVolume(vol(["cold-1"]), pools, t, "hot");
  assert.deepEqual(p, {
    ok: true,
    from: "cold",
    steps: [{ old: "r0", oldPool: "cold-1", targetNode: "n-hot-2", targetPools: ["hot-2"] }],
  });
  const q = placeVolume(vol(["cold-1", "hot-2"]), pools, t, "hot");
  assert.ok(q.ok && q.steps.length === 1 && q.steps[0].targetPools[0] === "hot-1");
  const full = placeVolume({ ...vol(["cold-1"]), sizeBytes: 90 * GiB }, pools, t, "hot");
  assert.equal(full.ok ? "" : full.reason, "NoTargetPool");
  assert.match(
    full.ok ? "" : full.detail,
    /hot-1: no-capacity, hot-2: no-capacity, hot-3: not-online/,
  );
  const done = placeVolume(vol(["hot-1"]), pools, t, "hot");
  assert.equal(done.ok ? "" : done.reason, "AlreadyOnTier");
  const unknown = placeVolume(vol(["other"]), pools, t, "hot");
  assert.equal(unknown.ok ? "" : unknown.reason, "UnknownTier");
});

/** Pools on named nodes: [id, node, tier, free GiB]. */
function layout(rows: [string, string, string, number][]): Pool[] {
  return rows.map(([id, node, tier, free]) => ({ ...pool(id, tier, free * GiB), node }));
}
function volOn(replicas: [string, string][]): Volume {
  return {
    ...vol(replicas.map(([p]) => p)),
    replicas: replicas.map(([p, node], i) => ({ uuid: `r${i}`, pool: p, node, state: "Online" })),
  };
}

Deno.test("placement: a whole volume moves, each replica to its own node free of the volume's replicas", () => {
  const ps = layout([
    ["h1", "a", "nvme", 50],
    ["h2", "b", "nvme", 50],
    ["c1", "c", "hdd", 90],
    ["c2", "d", "hdd", 80],
    ["c3", "e", "hdd", 70],
  ]);
  const t = poolTiers(ps, selectors);
  const p = placeVolume(volOn([["h1", "a"], ["h2", "b"]]), ps, t, "cold");
  assert.ok(p.ok);
  assert.deepEqual(p.steps.map((x) => [x.old, x.targetNode, x.targetPools]), [
    ["r0", "c", ["c1"]],
    ["r1", "d", ["c2"]],
  ]);
  // Three replicas need three cold nodes: with two, nothing is planned (never half a volume).
  const three = placeVolume(
    volOn([["h1", "a"], ["h2", "b"], ["x", "f"]]),
    [
      ...ps.slice(0, 4),
      { ...pool("x", "nvme"), node: "f" },
    ],
    poolTiers([...ps.slice(0, 4), { ...pool("x", "nvme"), node: "f" }], selectors),
    "cold",
  );
  assert.equal(three.ok ? "" : three.reason, "NoTargetPool");
  assert.match(three.ok ? "" : three.detail, /3 replica\(s\) of vol-1 need 3 cold node\(s\)/);
});

Deno.test("placement: a node whose pools are all on the target tier wins; the step order makes room", () => {
  // Node a hosts a hot replica and a cold pool: it can take a cold replica only once its own
  // replica has left, so the replica on a moves first (to c) and the one on b then goes to a.
  const ps = layout([
    ["h1", "a", "nvme", 50],
    ["c-a", "a", "hdd", 100],
    ["h2", "b", "nvme", 50],
    ["c-c", "c", "hdd", 10],
  ]);
  const t = poolTiers(ps, selectors);
  const p = placeVolume(volOn([["h2", "b"], ["h1", "a"]]), ps, t, "cold");
  assert.ok(p.ok, p.ok ? "" : p.detail);
  assert.deepEqual(p.steps.map((x) => [x.oldPool, x.targetNode]), [["h1", "c"], ["h2", "a"]]);
  // Preservation keeps the old replicas: node a stays taken, one cold node is not enough.
  const kept = placeVolume(volOn([["h2", "b"], ["h1", "a"]]), ps, t, "cold", { keepOld: true });
  assert.equal(kept.ok ? "" : kept.reason, "NoTargetPool");
});

Deno.test("cooldown annotation: parse, format, remaining", () => {
  const ms = Date.UTC(2026, 2, 1, 10, 0, 0);
  const ann = { [LAST_MIGRATION_ANNOTATION]: formatLastMigration(ms) };
  assert.equal(lastMigrationFrom(ann), ms);
  assert.equal(lastMigrationFrom({}), undefined);
  assert.equal(lastMigrationFrom(undefined), undefined);
  assert.equal(lastMigrationFrom({ [LAST_MIGRATION_ANNOTATION]: "March 7" }), undefined);
  assert.equal(
    lastMigrationFrom({ [LAST_MIGRATION_ANNOTATION]: "2026-03-01T10:00:00+02:00" }),
    ms - 7_200_000,
  );
  assert.equal(cooldownRemaining(undefined, 1000, ms), 0);
  assert.equal(cooldownRemaining(ms, 1000, ms + 400), 600);
  assert.equal(cooldownRemaining(ms, 1000, ms + 4000), 0);
});

Deno.test("policySettings: spec fields, durations, the operator's switches and timeout", () => {
  const op = { dryRun: true, preservation: false, migrationTimeoutMs: 120_000 };
  const tiers = new Map([["n", "hot"], ["s", "warm"], ["h", "cold"]] as const);
  const s = policySettings(
    "gold",
    {
      highWatermarkIOPS: 5000,
      warmWatermarkIOPS: 2000,
      lowWatermarkIOPS: 500,
      samplingWindow: "1h",
      cooldownPeriod: "24h",
      maxConcurrentMigrations: 2,
      migrationTimeout: "15m",
      dryRun: false,
      preservationMode: false,
      hotPoolSelector: { matchLabels: { tier: "nvme" } },
      warmPoolSelector: { matchLabels: { tier: "ssd" } },
      coldPoolSelector: { matchLabels: { tier: "hdd" } },
    },
    tiers,
    new Set(["hot", "cold"]),
    op,
  );
  assert.equal(s.policy.cooldownMs, 86_400_000);
  assert.equal(s.samplingWindowMs, 3_600_000);
  assert.equal(s.migrationTimeoutMs, 900_000);
  assert.equal(s.policy.warmTier, true);
  assert.equal(s.policy.enabled, true);
  assert.equal(s.dryRun, true);
  assert.equal(s.preservation, false);
  assert.deepEqual(Object.keys(s.selectors), ["hot", "warm", "cold"]);
  assert.equal(s.maxMetricsAgeMs, 3_600_000 + 60_000);
  // Without a migrationTimeout of its own the policy takes the operator's (--migration-timeout).
  const own = { ...spec0(), migrationTimeout: undefined };
  assert.equal(policySettings("g", own, tiers, new Set(), op).migrationTimeoutMs, 120_000);
  // No warm pool: no warm band, even with a warm watermark.
  const noWarm = new Map([["n", "hot"], ["h", "cold"]] as const);
  assert.equal(policySettings("g", spec0(), noWarm, new Set(), op).policy.warmTier, false);
  assert.throws(
    () =>
      policySettings(
        "x",
        {
          highWatermarkIOPS: 1,
          lowWatermarkIOPS: 0,
          samplingWindow: "soon",
          cooldownPeriod: "1h",
          maxConcurrentMigrations: 1,
        },
        new Map(),
        new Set(),
        op,
      ),
    /samplingWindow/,
  );
});

function spec0() {
  return {
    highWatermarkIOPS: 5000,
    warmWatermarkIOPS: 2000,
    lowWatermarkIOPS: 500,
    samplingWindow: "1h",
    cooldownPeriod: "24h",
    maxConcurrentMigrations: 2,
    migrationTimeout: "15m",
  };
}
