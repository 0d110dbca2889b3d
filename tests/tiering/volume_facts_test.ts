/** volumeFacts: one volume's PV, PVC and Mayastor view read into the plan's input. */
import assert from "node:assert/strict";
import type { Volume } from "../../src/model/storage.ts";
import { APPROVE_ANNOTATION } from "../../src/tiering/approval.ts";
import { BACKOFF_ANNOTATION, encodeBackoff, recordFailure } from "../../src/tiering/backoff.ts";
import { LAST_MIGRATION_ANNOTATION } from "../../src/tiering/cooldown.ts";
import { PIN_ANNOTATION } from "../../src/tiering/overrides.ts";
import { volumeFacts } from "../../src/tiering/volume_facts.ts";
import { persistedWork } from "../../src/controllers/storage-policy/persisted_work.ts";

const T = Date.UTC(2026, 11, 1);
const tiers = new Map([["p-hot", "hot" as const], ["p-cold", "cold" as const]]);
const volume = (pools: string[], targetNode?: string): Volume => ({
  uuid: "u1",
  sizeBytes: 1,
  replicaCount: pools.length,
  status: "Online",
  replicas: pools.map((pool, i) => ({ uuid: `r${i}`, pool, node: `n${i}`, state: "Online" })),
  ...(targetNode ? { targetNode } : {}),
});

Deno.test("volume facts: claim, pin on the PVC, backoff and cooldown on the PV, tier, health", () => {
  const f = volumeFacts({
    subject: {
      pv: {
        metadata: {
          name: "pvc-1",
          annotations: {
            [BACKOFF_ANNOTATION]: encodeBackoff(recordFailure(undefined, "Failed", T)),
            [LAST_MIGRATION_ANNOTATION]: new Date(T - 1000).toISOString(),
          },
        },
        spec: { claimRef: { namespace: "shop", name: "db" } },
      },
      pvc: {
        metadata: {
          namespace: "shop",
          name: "db",
          annotations: { [PIN_ANNOTATION]: "hot", [APPROVE_ANNOTATION]: "dbs/p-1" },
        },
        spec: { volumeName: "pvc-1" },
      },
    },
    volume: volume(["p-cold"], "n0"),
    tiers,
    lastFinishedMs: T - 500,
  });
  assert.deepEqual(f.plan, {
    name: "pvc-1",
    tier: "cold",
    inFlight: false,
    override: { kind: "pin", tier: "hot", on: "pvc" },
    approvals: [{ policy: "dbs", id: "p-1" }],
    claim: "shop/db",
    lastMigrationMs: T - 500,
    backoff: recordFailure(undefined, "Failed", T),
    health: "Online",
    detached: false,
  });
  assert.deepEqual([f.overrideProblems, f.problems], [[], []]);
});

Deno.test("volume facts: problems are reported; a broken move annotation counts as in flight", () => {
  const annotations = {
    [PIN_ANNOTATION]: "fast",
    [BACKOFF_ANNOTATION]: "nope",
    "storage.billyronks.io/migration": "{",
  };
  const f = volumeFacts({
    subject: { pv: { metadata: { name: "pvc-2", annotations } } },
    volume: volume(["p-hot", "p-cold"]),
    tiers,
    persisted: persistedWork({ metadata: { name: "pvc-2", annotations } }),
  });
  assert.equal(f.plan.override?.kind, "invalid");
  assert.equal(f.overrideProblems[0].on, "pv");
  assert.equal(f.plan.inFlight, true);
  assert.equal(f.plan.tier, "mixed");
  assert.equal(f.plan.detached, true);
  assert.equal(f.problems.length, 2);
  assert.deepEqual(persistedWork({ metadata: { name: "pvc-2" } }), { inFlight: false });
});

Deno.test("volume facts: an EC-tiered volume is cold and never detached; no Mayastor volume, no tier", () => {
  const pv = { metadata: { name: "pvc-3" } };
  assert.deepEqual(
    [volumeFacts({ subject: { pv }, volume: volume([]), tiers, ecTiered: true }).plan.tier],
    ["cold"],
  );
  const none = volumeFacts({ subject: { pv }, tiers });
  assert.deepEqual([none.plan.tier, none.plan.health, none.plan.detached], [
    undefined,
    undefined,
    undefined,
  ]);
});
