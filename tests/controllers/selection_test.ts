import assert from "node:assert/strict";
import { StoragePolicySchema } from "../../src/api/storage_policy.ts";
import {
  countTiers,
  resyncInterval,
  toRecord,
  withFinished,
} from "../../src/controllers/storage-policy/status.ts";
import { poolTiers } from "../../src/tiering/placement.ts";
import { tierSelectors } from "../../src/tiering/policy.ts";
import type { Pool } from "../../src/model/storage.ts";

const spec = (s: Record<string, unknown> = {}) =>
  StoragePolicySchema.parse({
    apiVersion: "storage.billyronks.io/v1",
    kind: "StoragePolicy",
    metadata: { name: "p" },
    spec: s,
  }).spec;

Deno.test("view: pool tiers follow the policy's selectors (api semantics), fastest first", () => {
  const pool = (id: string, labels: Record<string, string>): Pool => ({
    id,
    node: "n",
    status: "Online",
    capacityBytes: 1,
    usedBytes: 0,
    labels,
  });
  const s = spec({
    coldPoolSelector: {
      matchExpressions: [
        { key: "storage.billyronks.io/tier", operator: "In", values: ["cold"] },
        { key: "draining", operator: "DoesNotExist" },
      ],
    },
  });
  const m = poolTiers([
    pool("h", { "storage.billyronks.io/tier": "hot" }),
    pool("w", { "storage.billyronks.io/tier": "warm" }),
    pool("c", { "storage.billyronks.io/tier": "cold" }),
    pool("c2", { "storage.billyronks.io/tier": "cold", draining: "yes" }),
    pool("x", {}),
  ], tierSelectors(s));
  assert.deepEqual([...m], [["h", "hot"], ["w", "warm"], ["c", "cold"]]);
  assert.deepEqual(countTiers(["hot", "cold", "mixed", undefined, "cold"]), {
    watched: 5,
    hot: 1,
    warm: 0,
    cold: 2,
    other: 2,
  });
});

Deno.test("view: history records are newest first, capped, counted once per result", () => {
  let st = undefined;
  for (let i = 0; i < 55; i++) {
    const rec = toRecord({
      volume: `pv-${i}`,
      time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      from: "cold",
      to: "hot",
      triggerIOPS: 1234.567,
      durationSeconds: 61.5,
      result: i % 10 === 0 ? "RolledBack" : i % 2 ? "Preserved" : "Succeeded",
      ...(i % 10 === 0 ? { error: "timed out" } : {}),
    });
    st = withFinished(st, rec, 50);
  }
  assert.equal(st!.migrationHistory!.length, 50);
  assert.equal(st!.migrationHistory![0].volume, "pv-54");
  assert.equal(st!.totalMigrations, 55);
  assert.equal(st!.failedMigrations, 6);
  const r = st!.migrationHistory![0];
  assert.equal(r.duration, "1m1s500ms");
  assert.equal(r.time, "2026-01-01T00:00:54Z");
  assert.equal(r.triggerIOPS, 1234.57);
  assert.ok(st!.migrationHistory!.every((h) => h.result !== ("Preserved" as string)));
  assert.equal(resyncInterval(30_000), 15_000);
  assert.equal(resyncInterval(100), 1_000);
  assert.equal(resyncInterval(3_600_000), 300_000);
});
