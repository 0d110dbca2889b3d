import assert from "node:assert/strict";
import {
  availableTiers,
  choosePlacement,
  poolTiers,
  volumeTier,
} from "../../src/tiering/placement.ts";
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

Deno.test("placement: most free Online pool of the target tier, never one already used", () => {
  const t = poolTiers(pools, selectors);
  const p = choosePlacement(vol(["cold-1"]), pools, t, "hot");
  assert.deepEqual(p, {
    ok: true,
    oldReplica: "r0",
    oldPool: "cold-1",
    from: "cold",
    targetPool: "hot-2",
  });
  const q = choosePlacement(vol(["cold-1", "hot-2"]), pools, t, "hot");
  assert.ok(q.ok && q.targetPool === "hot-1" && q.oldReplica === "r0");
  const full = choosePlacement({ ...vol(["cold-1"]), sizeBytes: 90 * GiB }, pools, t, "hot");
  assert.equal(full.ok ? "" : full.reason, "NoTargetPool");
  const done = choosePlacement(vol(["hot-1"]), pools, t, "hot");
  assert.equal(done.ok ? "" : done.reason, "AlreadyOnTier");
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
