/** The documented defaults: zod applies them, and the CRD (API server defaulting) applies the same. */
import assert from "node:assert/strict";
import {
  ErasureCodingPolicySchema,
  StoragePolicySchema,
  TIER_LABEL_KEY,
} from "../../src/api/mod.ts";
import { validatorFor } from "./helpers.ts";

const minimal = (kind: string, spec?: Record<string, unknown>) => ({
  apiVersion: "storage.billyronks.io/v1",
  kind,
  metadata: { name: "minimal" },
  ...(spec ? { spec } : {}),
});

Deno.test("StoragePolicy: zod fills the documented defaults", () => {
  const sp = StoragePolicySchema.parse(minimal("StoragePolicy"));
  assert.deepEqual(sp.spec, {
    highWatermarkIOPS: 5000,
    warmWatermarkIOPS: 2000,
    lowWatermarkIOPS: 500,
    samplingWindow: "1h",
    cooldownPeriod: "24h",
    hotPoolSelector: { matchLabels: { [TIER_LABEL_KEY]: "hot" } },
    warmPoolSelector: { matchLabels: { [TIER_LABEL_KEY]: "warm" } },
    coldPoolSelector: { matchLabels: { [TIER_LABEL_KEY]: "cold" } },
    maxConcurrentMigrations: 2,
    // No migrationTimeout default: unset, the operator's --migration-timeout applies.
    approval: "Auto",
    approvalTTL: "24h",
    enabled: true,
    dryRun: false,
    preservationMode: false,
    ecMinVolumeSizeBytes: 10 * 1024 ** 3,
    ecMinDetachedFor: "1h",
  });
});

Deno.test("ErasureCodingPolicy: zod fills the documented defaults, nested objects included", () => {
  const ecp = ErasureCodingPolicySchema.parse(minimal("ErasureCodingPolicy", {}));
  assert.deepEqual(ecp.spec, {
    dataShards: 4,
    parityShards: 2,
    algorithm: "ReedSolomon",
    stripeSizeBytes: 1024 * 1024,
    journal: { sizeBytes: 1024 ** 3, destageThresholdPercent: 80, destageInterval: "30s" },
    scrub: { enabled: true, interval: "7d", bandwidthLimitBytesPerSecond: 50 * 1024 * 1024 },
    placement: { failureDomainTopologyKey: "kubernetes.io/hostname" },
  });
  // A partly written nested object keeps its values and gets the rest.
  const partial = ErasureCodingPolicySchema.parse(
    minimal("ErasureCodingPolicy", { journal: { destageThresholdPercent: 50 } }),
  );
  assert.deepEqual(partial.spec.journal, {
    sizeBytes: 1024 ** 3,
    destageThresholdPercent: 50,
    destageInterval: "30s",
  });
});

Deno.test("default pool selectors are fresh objects on every parse", () => {
  const a = StoragePolicySchema.parse(minimal("StoragePolicy"));
  a.spec.hotPoolSelector.matchLabels![TIER_LABEL_KEY] = "changed";
  const b = StoragePolicySchema.parse(minimal("StoragePolicy"));
  assert.equal(b.spec.hotPoolSelector.matchLabels![TIER_LABEL_KEY], "hot");
});

for (
  const [kind, schema, spec] of [
    ["StoragePolicy", StoragePolicySchema, undefined],
    ["StoragePolicy", StoragePolicySchema, { lowWatermarkIOPS: 100, dryRun: true }],
    ["StoragePolicy", StoragePolicySchema, {
      approval: "Manual",
      moveWindows: ["Sat-Sun 01:00-06:00 Europe/Paris"],
      claimSelector: { matchLabels: { app: "db" } },
    }],
    ["ErasureCodingPolicy", ErasureCodingPolicySchema, undefined],
    ["ErasureCodingPolicy", ErasureCodingPolicySchema, { scrub: { enabled: false } }],
    ["ErasureCodingPolicy", ErasureCodingPolicySchema, {
      algorithm: "LRC",
      dataShards: 12,
      localGroups: 3,
      placement: {},
    }],
  ] as const
) {
  Deno.test(`${kind} ${JSON.stringify(spec)}: CRD defaulting equals zod defaulting`, () => {
    const obj = minimal(kind, spec as Record<string, unknown> | undefined);
    const r = validatorFor(kind).validate(obj);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.value.spec, schema.parse(obj).spec);
  });
}

Deno.test("the CRD prunes unknown spec fields as the API server does", () => {
  const r = validatorFor("StoragePolicy").validate(
    minimal("StoragePolicy", { highWatermarkIOPS: 9000, typoWatermark: 1 }),
  );
  assert.ok(r.ok);
  const spec = r.value.spec as Record<string, unknown>;
  assert.equal(spec.highWatermarkIOPS, 9000);
  assert.equal("typoWatermark" in spec, false);
});
