/**
 * Property tests: for random specs, the zod schema and the generated CRD
 * (ajv + CEL) accept and reject the same objects, naming the same fields; and
 * the CRD's duration pattern accepts exactly what isDuration accepts.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { isDuration } from "../../src/config/duration.ts";
import {
  DURATION_PATTERN,
  ErasureCodingPolicySchema,
  StoragePolicySchema,
} from "../../src/api/mod.ts";
import { validatorFor, zodFields } from "./helpers.ts";

function verdicts(
  kind: string,
  schema: typeof StoragePolicySchema | typeof ErasureCodingPolicySchema,
  spec: unknown,
) {
  const obj = { apiVersion: "storage.billyronks.io/v1", kind, metadata: { name: "p" }, spec };
  const z = zodFields(schema, obj).sort();
  const r = validatorFor(kind).validate(obj);
  const crd = r.ok ? [] : [...new Set(r.errors.map((e) => e.field))].sort();
  return { z, crd };
}

Deno.test("ErasureCodingPolicy: zod and CRD agree on random shard layouts", () => {
  const spec = fc.record({
    dataShards: fc.integer({ min: -2, max: 260 }),
    parityShards: fc.integer({ min: -2, max: 260 }),
    algorithm: fc.constantFrom("ReedSolomon", "LRC", "Raid5"),
    localGroups: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
    minHealthyShards: fc.option(fc.integer({ min: 0, max: 270 }), { nil: undefined }),
    stripeSizeBytes: fc.constantFrom(1024, 65536, 1048576, 67108864, 67108865),
  }, { requiredKeys: ["dataShards", "parityShards", "algorithm"] });
  fc.assert(
    fc.property(spec, (s) => {
      const clean = JSON.parse(JSON.stringify(s)); // drop undefined keys, as YAML would
      const { z, crd } = verdicts("ErasureCodingPolicy", ErasureCodingPolicySchema, clean);
      assert.deepEqual(crd, [...new Set(z)].sort(), JSON.stringify(clean));
    }),
    { numRuns: 400 },
  );
});

Deno.test("StoragePolicy: zod and CRD agree on random watermarks and durations", () => {
  const duration = fc.oneof(
    fc.constantFrom("1h", "30m", "1h30m", "7d", "250ms", "1.5h", "0s"),
    fc.constantFrom("", "1", "h", "1 h", "1H", "-1h", "1y", "soon", "1h-"),
  );
  const spec = fc.record({
    highWatermarkIOPS: fc.integer({ min: -1, max: 20000 }),
    warmWatermarkIOPS: fc.integer({ min: -1, max: 20000 }),
    lowWatermarkIOPS: fc.integer({ min: -1, max: 20000 }),
    samplingWindow: duration,
    maxConcurrentMigrations: fc.integer({ min: -1, max: 70 }),
  }, { requiredKeys: [] });
  fc.assert(
    fc.property(spec, (s) => {
      const { z, crd } = verdicts("StoragePolicy", StoragePolicySchema, s);
      assert.deepEqual(crd, [...new Set(z)].sort(), JSON.stringify(s));
    }),
    { numRuns: 400 },
  );
});

Deno.test("DURATION_PATTERN accepts exactly what isDuration accepts", () => {
  const re = new RegExp(DURATION_PATTERN);
  const token = fc.oneof(
    fc.constantFrom("ms", "s", "m", "h", "d", "1", "30", "0.5", ".", " ", "y", "H", "-"),
    fc.string({ maxLength: 2 }),
  );
  fc.assert(
    fc.property(fc.array(token, { maxLength: 6 }).map((t) => t.join("")), (s) => {
      assert.equal(re.test(s), isDuration(s), JSON.stringify(s));
    }),
    { numRuns: 2000 },
  );
});
