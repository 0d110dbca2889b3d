/** Pure parts of the ec-policy controller: validation, ECStripe records, aggregation. */
import assert from "node:assert/strict";
import {
  type ECStripe,
  ECStripeSchema,
  type ErasureCodingPolicy,
  ErasureCodingPolicySchema,
  GROUP_VERSION,
} from "../../src/api/mod.ts";
import { aggregate, readyStatus } from "../../src/controllers/ec-policy/aggregate.ts";
import {
  buildRecords,
  type Observations,
  recordStripesFor,
  runsOf,
} from "../../src/controllers/ec-policy/ecstripe_records.ts";
import {
  checkPlacement,
  codeParams,
  validatePolicy,
} from "../../src/controllers/ec-policy/validate.ts";
import type { Stripe } from "../../src/ec/store/manifest.ts";

function policy(spec: Record<string, unknown>): ErasureCodingPolicy {
  return ErasureCodingPolicySchema.parse({
    apiVersion: GROUP_VERSION,
    kind: "ErasureCodingPolicy",
    metadata: { name: "p", generation: 3, uid: "u-1" },
    spec,
  });
}

function stripe(id: number, placement: string[], extra: Partial<Stripe> = {}): Stripe {
  return {
    id,
    generation: 1,
    dataBytes: 4096,
    shardSize: 2048,
    placement,
    health: "healthy",
    writeId: 1,
    index: id,
    dataHash: "0".repeat(16),
    ...extra,
  };
}

const NONE: Observations = { downTargets: new Set(), findings: new Map() };

function records(stripes: Stripe[], observed = NONE, per = 4) {
  return buildRecords({
    volume: "v",
    policy: "p",
    policyUid: "u-1",
    node: "n1",
    code: { algorithm: "ReedSolomon", k: 2, m: 1 },
    stripes,
    stripesPerRecord: per,
    observed,
    checksum: (run, i) => `xxh64:${run.length.toString(16)}${i}`,
    now: Date.UTC(2026, 0, 1),
  });
}

Deno.test("ec-policy records: granularity keeps a 10 GiB volume to a few dozen ECStripes", () => {
  const tenGiB = 10 * 1024 ** 3;
  for (const stripeSize of [1 << 20, 4 << 20, 16 << 20, 64 << 20]) {
    const stripes = tenGiB / stripeSize;
    assert.equal(Math.ceil(stripes / recordStripesFor(stripeSize)), 40, `${stripeSize}`);
  }
  assert.equal(recordStripesFor(64 * 1024), 4096);
});

Deno.test("ec-policy records: runs are aligned windows cut where placement changes", () => {
  const a = ["t0", "t1", "t2"];
  const b = ["t0", "t3", "t2"];
  const runs = runsOf([
    stripe(5, a),
    stripe(0, a),
    stripe(1, a),
    stripe(2, b),
    stripe(3, a),
    stripe(4, a),
  ], 4);
  assert.deepEqual(runs.map((r) => r.map((s) => s.id)), [[0, 1], [2], [3], [4, 5]]);
});

Deno.test("ec-policy records: specs validate against the ECStripe schema, LBAs are contiguous", () => {
  const p = ["t0", "t1", "t2"];
  const recs = records(
    [0, 1, 2, 3, 4].map((i) => stripe(i, p, { lastScrub: Date.UTC(2026, 0, 1) })),
  );
  assert.deepEqual(recs.map((r) => [r.name, r.spec.stripeCount, r.spec.lbaStart, r.spec.lbaEnd]), [
    ["v-s000000", 4, 0, 32],
    ["v-s000004", 1, 32, 40],
  ]);
  for (const r of recs) {
    ECStripeSchema.parse({
      apiVersion: GROUP_VERSION,
      kind: "ECStripe",
      metadata: { name: r.name },
      spec: { ...r.spec, generation: 1 },
      status: r.status,
    });
  }
  assert.deepEqual(recs[0].spec.shards.map((s) => [s.index, s.kind, s.pool, s.offsetBytes]), [
    [0, "Data", "t0", 0],
    [1, "Data", "t1", 0],
    [2, "Parity", "t2", 0],
  ]);
  assert.equal(recs[1].spec.shards[0].offsetBytes, 4 * 2048);
  assert.equal(recs[0].status.state, "Healthy");
  assert.equal(recs[0].status.shards![0].lastVerified, "2026-01-01T00:00:00Z");
  assert.equal(recs[0].storedBytes, 4 * 2048 * 3);
  assert.equal(recs[0].ownerReferences?.[0].uid, "u-1");
});

Deno.test("ec-policy records: down targets, findings and rebuilds set shard and stripe states", () => {
  const p = ["t0", "t1", "t2"];
  const s = [0, 1, 2, 3].map((i) => stripe(i, p));
  const down = records(s, { downTargets: new Set(["t1"]), findings: new Map() })[0];
  assert.equal(down.status.state, "Degraded");
  assert.deepEqual(down.status.shards!.map((x) => x.state), ["Healthy", "Missing", "Healthy"]);

  const corrupt =
    records(s, { downTargets: new Set(), findings: new Map([["2/0", "Corrupt"]]) })[0];
  assert.deepEqual(corrupt.status.shards!.map((x) => x.state), ["Corrupt", "Healthy", "Healthy"]);

  const rebuilding = records(s, {
    downTargets: new Set(["t1"]),
    findings: new Map(),
    rebuild: { order: [0, 1, 2, 3], done: 1 },
  })[0];
  assert.equal(rebuilding.status.state, "Rebuilding");
  assert.equal(rebuilding.status.rebuildProgressPercent, 25);
  assert.equal(rebuilding.status.shards![1].state, "Rebuilding");

  const writing = records(s, { ...NONE, writing: new Set([3]) })[0];
  assert.equal(writing.status.state, "Writing");

  const failed = records(s, { downTargets: new Set(["t0", "t1"]), findings: new Map() })[0];
  assert.equal(failed.status.state, "Failed");
  const lost = records([stripe(0, p, { health: "lost" })])[0];
  assert.equal(lost.status.state, "Failed");
});

Deno.test("ec-policy records: LRC shards are data, local parity, then global parity", () => {
  const pol = policy({ algorithm: "LRC", dataShards: 4, localGroups: 2, parityShards: 2 });
  assert.deepEqual(codeParams(pol), { algorithm: "LRC", k: 4, l: 2, g: 2 });
  const recs = buildRecords({
    volume: "v",
    policy: "p",
    node: "n",
    code: codeParams(pol),
    stripes: [stripe(0, ["a", "b", "c", "d", "e", "f", "g", "h"])],
    stripesPerRecord: 4,
    observed: NONE,
    checksum: () => "xxh64:0",
    now: 0,
  });
  assert.deepEqual(recs[0].spec.shards.map((s) => s.kind), [
    "Data",
    "Data",
    "Data",
    "Data",
    "LocalParity",
    "LocalParity",
    "Parity",
    "Parity",
  ]);
});

Deno.test("ec-policy validate: schema problems name the field; placement needs k+m domains", () => {
  const bad = validatePolicy({
    apiVersion: GROUP_VERSION,
    kind: "ErasureCodingPolicy",
    metadata: { name: "x" },
    spec: { dataShards: 4, parityShards: 2, minHealthyShards: 2 },
  });
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.equal(bad.problem.field, "spec.minHealthyShards");
    assert.match(bad.problem.message, /^spec\.minHealthyShards: minHealthyShards must be at least/);
  }
  const typo = validatePolicy({
    apiVersion: GROUP_VERSION,
    kind: "ErasureCodingPolicy",
    metadata: { name: "x" },
    spec: { scrub: { interval: "weekly" } },
  });
  assert.equal(!typo.ok && typo.problem.field, "spec.scrub.interval");

  const p = policy({ dataShards: 4, parityShards: 2 });
  assert.equal(checkPlacement(p, [{ volume: "a", failureDomains: 6 }]), null);
  assert.equal(checkPlacement(p, [{ volume: "a", failureDomains: 5 }])?.field, "spec.placement");
  const lrc = policy({ algorithm: "LRC", dataShards: 4, localGroups: 2, parityShards: 2 });
  assert.match(
    checkPlacement(lrc, [{ volume: "a", failureDomains: 7 }])!.message,
    /dataShards \+ parityShards \+ localGroups = 8/,
  );
});

Deno.test("ec-policy aggregate: counts weigh records by stripes; status and last scrub", () => {
  const rec = (count: number, state: string, verified?: string, bytes?: number) =>
    ({
      apiVersion: GROUP_VERSION,
      kind: "ECStripe",
      metadata: {
        name: `r${count}${state}`,
        annotations: bytes ? { "storage.billyronks.io/data-bytes": String(bytes) } : undefined,
      },
      spec: {
        volume: "v",
        policy: "p",
        stripeId: 0,
        stripeCount: count,
        lbaStart: 0,
        lbaEnd: 8,
        generation: 1,
        shards: [0, 1, 2].map((index) => ({
          index,
          kind: "Data",
          pool: "t",
          node: "n",
          offsetBytes: 0,
          sizeBytes: 100,
          checksum: "xxh64:0",
        })),
      },
      status: { state, shards: [{ index: 0, state: "Healthy", lastVerified: verified }] },
    }) as unknown as ECStripe;
  const agg = aggregate([
    rec(4, "Healthy", "2026-01-02T00:00:00Z", 1000),
    rec(3, "Degraded", "2026-01-01T00:00:00Z"),
    rec(2, "Rebuilding", "2026-01-03T00:00:00Z"),
    rec(1, "Failed", "2026-01-04T00:00:00Z"),
  ]);
  assert.deepEqual(agg.stripes, {
    total: 10,
    healthy: 4,
    degraded: 3,
    rebuilding: 2,
    failed: 1,
    writing: 0,
  });
  assert.equal(agg.logicalBytes, 1000 + 3 * 8 * 512);
  assert.equal(agg.storedBytes, 4 * 300);
  assert.equal(agg.lastScrub, "2026-01-01T00:00:00Z");
  assert.equal(aggregate([rec(1, "Healthy")]).lastScrub, undefined);

  const st = readyStatus(policy({ dataShards: 4, parityShards: 2 }), agg, new Date(0));
  assert.equal(st.phase, "Degraded");
  assert.equal(st.observedGeneration, 3);
  assert.equal(st.storageEfficiency, 0.667);
  assert.equal(st.conditions![0].reason, "StripesFailed");
  assert.equal(st.lastScrubTime, "2026-01-01T00:00:00Z");
});
