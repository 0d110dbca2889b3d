/** ECStripe, DiskPool, Condition and selectors: valid objects pass, bad ones are named. */
import assert from "node:assert/strict";
import {
  ConditionSchema,
  DiskPoolSchema,
  ECStripeSchema,
  StoragePolicySchema,
  tierSelector,
} from "../../src/api/mod.ts";
import { validatorFor, zodFields } from "./helpers.ts";

const shard = (index: number, kind: string) => ({
  index,
  kind,
  pool: `pool-cold-node-${index + 1}`,
  node: `node-${index + 1}`,
  offsetBytes: 0,
  sizeBytes: 262144,
  checksum: "crc32c:1a2b3c4d",
});

const stripe = (spec: Record<string, unknown> = {}, status?: Record<string, unknown>) => ({
  apiVersion: "storage.billyronks.io/v1",
  kind: "ECStripe",
  metadata: { name: "pvc-1-stripes-0" },
  spec: {
    volume: "pvc-1",
    policy: "rs-4-2",
    stripeId: 0,
    lbaStart: 0,
    lbaEnd: 2048,
    shards: [0, 1, 2, 3].map((i) => shard(i, "Data")).concat([4, 5].map((i) => shard(i, "Parity"))),
    generation: 1,
    ...spec,
  },
  ...(status ? { status } : {}),
});

function bothReject(
  kind: string,
  schema: Parameters<typeof zodFields>[0],
  obj: unknown,
  field: string,
) {
  assert.deepEqual(zodFields(schema, obj), [field], "zod");
  const r = validatorFor(kind).validate(obj);
  assert.ok(!r.ok, "CRD rejects");
  assert.deepEqual(r.errors.map((e) => e.field), [field], JSON.stringify(r.errors));
}

Deno.test("ECStripe: a 4+2 stripe with status passes zod and the CRD", () => {
  const obj = stripe({}, {
    state: "Degraded",
    shards: [{ index: 0, state: "Healthy", lastVerified: "2026-11-26T23:00:00Z" }, {
      index: 4,
      state: "Missing",
    }],
    rebuildProgressPercent: 12.5,
  });
  assert.deepEqual(zodFields(ECStripeSchema, obj), []);
  assert.ok(validatorFor("ECStripe").validate(obj).ok);
});

Deno.test("ECStripe: bad objects are rejected by both, on the same field", () => {
  bothReject("ECStripe", ECStripeSchema, stripe({ lbaEnd: 0 }), "spec.lbaEnd");
  bothReject("ECStripe", ECStripeSchema, stripe({}, { state: "Broken" }), "status.state");
  const s = stripe();
  (s.spec.shards[5] as { index: number }).index = 9;
  bothReject("ECStripe", ECStripeSchema, s, "spec.shards");
  const c = stripe();
  (c.spec.shards[1] as { checksum: string }).checksum = "not a checksum";
  bothReject("ECStripe", ECStripeSchema, c, "spec.shards[1].checksum");
  const k = stripe();
  (k.spec.shards[0] as { kind: string }).kind = "Spare";
  bothReject("ECStripe", ECStripeSchema, k, "spec.shards[0].kind");
});

Deno.test("ECStripe: the CRD refuses two shards with the same index (list-map key)", () => {
  const s = stripe();
  (s.spec.shards[5] as { index: number }).index = 4;
  const r = validatorFor("ECStripe").validate(s);
  assert.ok(!r.ok);
  assert.equal(r.errors[0].field, "spec.shards[5]");
  assert.equal(r.errors[0].reason, "FieldValueDuplicate");
});

Deno.test("DiskPool: Mayastor's shape with status; cr_state defaults to Creating", () => {
  const pool = {
    apiVersion: "openebs.io/v1beta2",
    kind: "DiskPool",
    metadata: { name: "p", namespace: "openebs", labels: { "storage.billyronks.io/tier": "cold" } },
    spec: { node: "node-1", disks: ["aio:///dev/sdb"], topology: { labelled: { zone: "a" } } },
    status: { pool_status: "Online", capacity: 100, used: 10, available: 90 },
  };
  assert.equal(DiskPoolSchema.parse(pool).status?.cr_state, "Creating");
  const r = validatorFor("DiskPool").validate(pool);
  assert.ok(r.ok);
  assert.equal((r.value.status as { cr_state: string }).cr_state, "Creating");
  bothReject("DiskPool", DiskPoolSchema, { ...pool, spec: { node: "n", disks: [] } }, "spec.disks");
  bothReject(
    "DiskPool",
    DiskPoolSchema,
    { ...pool, status: { ...pool.status, pool_status: "Sleepy" } },
    "status.pool_status",
  );
});

Deno.test("Condition: metav1.Condition rules for status, reason and time", () => {
  const ok = {
    type: "Ready",
    status: "True",
    reason: "Reconciled",
    message: "",
    lastTransitionTime: "2026-11-26T23:00:00Z",
    observedGeneration: 3,
  };
  assert.ok(ConditionSchema.safeParse(ok).success);
  assert.deepEqual(zodFields(ConditionSchema, { ...ok, status: "Yes" }), ["status"]);
  assert.deepEqual(zodFields(ConditionSchema, { ...ok, reason: "not camel case" }), ["reason"]);
  assert.deepEqual(zodFields(ConditionSchema, { ...ok, lastTransitionTime: "yesterday" }), [
    "lastTransitionTime",
  ]);
  const sp = (conditions: unknown[]) => ({
    apiVersion: "storage.billyronks.io/v1",
    kind: "StoragePolicy",
    metadata: { name: "c" },
    status: { phase: "Active", conditions },
  });
  assert.ok(validatorFor("StoragePolicy").validate(sp([ok])).ok);
  bothReject(
    "StoragePolicy",
    StoragePolicySchema,
    sp([{ ...ok, lastTransitionTime: "2026-13-45" }]),
    "status.conditions[0].lastTransitionTime",
  );
  const dup = validatorFor("StoragePolicy").validate(sp([ok, ok]));
  assert.ok(!dup.ok && dup.errors[0].field === "status.conditions[1]");
});

Deno.test("StoragePolicy status: migration history holds at most 50 entries", () => {
  const rec = {
    volume: "pvc-1",
    time: "2026-11-26T23:00:00Z",
    from: "hot",
    to: "cold",
    triggerIOPS: 12.5,
    duration: "4m10s",
    result: "Succeeded",
  };
  const sp = (n: number) => ({
    apiVersion: "storage.billyronks.io/v1",
    kind: "StoragePolicy",
    metadata: { name: "h" },
    status: {
      migrationHistory: Array.from({ length: n }, () => rec),
      ecBytes: { logical: 4, stored: 6, efficiency: 0.667 },
    },
  });
  assert.deepEqual(zodFields(StoragePolicySchema, sp(50)), []);
  assert.ok(validatorFor("StoragePolicy").validate(sp(50)).ok);
  bothReject("StoragePolicy", StoragePolicySchema, sp(51), "status.migrationHistory");
});

Deno.test("tierSelector builds the matchLabels selector on the tier label", () => {
  assert.deepEqual(tierSelector("warm"), { matchLabels: { "storage.billyronks.io/tier": "warm" } });
});
