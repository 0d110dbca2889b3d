/** The status view: bounded, most pressing first, valid against the StoragePolicy schema. */
import assert from "node:assert/strict";
import { StoragePolicyStatusSchema } from "../../src/api/storage_policy.ts";
import {
  planStatus,
  proposalFromStatus,
  proposalToStatus,
  timeLeftText,
} from "../../src/tiering/status_view.ts";
import { type PlanVolume, planVolumes } from "../../src/tiering/volume_plan.ts";
import { recordFailure } from "../../src/tiering/backoff.ts";
import { MIN, NOW, planInput, testPolicy } from "./_plan_fixtures.ts";
import { validatorFor } from "../api/helpers.ts";

function plan(volumes: PlanVolume[], iops: Record<string, number>, manual = false) {
  return planVolumes(planInput(volumes, iops, {
    policy: testPolicy({ cooldownMs: 60 * MIN, maxConcurrentMigrations: 1 }),
    globalLimit: 4,
    ...(manual ? { approval: { mode: "Manual" as const, ttlMs: 60 * MIN, previous: [] } } : {}),
  }));
}

Deno.test("status view: listed volumes, most pressing first, counts and a schema-valid status", () => {
  const volumes: PlanVolume[] = [
    { name: "z-cool", tier: "hot", lastMigrationMs: NOW - 30 * MIN },
    { name: "a-back", tier: "hot", backoff: recordFailure(undefined, "Failed", NOW - MIN) },
    { name: "b-ok", tier: "cold" },
    { name: "c-move", tier: "hot", claim: "shop/c" },
    { name: "d-limit", tier: "hot" },
    { name: "e-nometrics", tier: "hot" },
  ];
  const iops = { "z-cool": 1, "a-back": 1, "b-ok": 1, "c-move": 1, "d-limit": 2 };
  const s = planStatus(plan(volumes, iops));
  assert.deepEqual(s.volumeDecisions.map((d) => [d.volume, d.reason, d.timeLeft]), [
    ["a-back", "BackingOff", "4m"],
    ["e-nometrics", "NoMetrics", undefined],
    ["d-limit", "ConcurrencyLimit", undefined],
    ["z-cool", "InCooldown", "30m"],
    ["c-move", "Demote", undefined],
  ], "a move starting now is listed too (last): it is not on its tier yet");
  assert.deepEqual(s.decisionCounts, {
    BackingOff: 1,
    NoMetrics: 1,
    ConcurrencyLimit: 1,
    InCooldown: 1,
    Demote: 1,
    AlreadyOnTier: 1,
  });
  assert.deepEqual([s.proposals, s.pendingApprovals], [[], 0]);
  const d = s.volumeDecisions[0];
  assert.deepEqual([d.currentTier, d.wantedTier, d.iops], ["hot", "cold", 1]);
  assert.ok(StoragePolicyStatusSchema.safeParse(s).success);
});

Deno.test("status view: at most the limit, proposals round-trip through the status", () => {
  const volumes = Array.from({ length: 80 }, (_, i): PlanVolume => ({
    name: `v${String(i).padStart(2, "0")}`,
    tier: "hot",
    claim: `ns/c${i}`,
  }));
  const iops = Object.fromEntries(volumes.map((v) => [v.name, 1]));
  const p = plan(volumes, iops, true);
  const s = planStatus(p);
  assert.equal(s.volumeDecisions.length, 50);
  assert.equal(s.proposals.length, 50);
  assert.equal(s.pendingApprovals, 50);
  assert.ok(StoragePolicyStatusSchema.safeParse(s).success);
  // The API server (the CRD's status schema) stores it as written.
  const stored = validatorFor("StoragePolicy").validate({
    apiVersion: "storage.billyronks.io/v1",
    kind: "StoragePolicy",
    metadata: { name: "dbs" },
    spec: {},
    status: s,
  });
  assert.ok(stored.ok, JSON.stringify(stored));
  assert.deepEqual(stored.value.status, s);
  const first = p.proposals!.proposals[0];
  assert.deepEqual(proposalFromStatus(proposalToStatus(first)), { ...first, iops: 1 });
  assert.equal(s.proposals[0].expires, "2026-12-02T13:00:00Z");
});

Deno.test("status view: time left is whole seconds, rounded up", () => {
  assert.deepEqual([timeLeftText(1), timeLeftText(1500), timeLeftText(3_600_000)], [
    "1s",
    "2s",
    "1h",
  ]);
});
