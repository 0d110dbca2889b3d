import assert from "node:assert/strict";
import fc from "fast-check";
import { classify } from "../../src/tiering/bands.ts";
import {
  decide,
  type DecideInput,
  type DecisionReason,
  type TieringPolicy,
  type VolumeState,
} from "../../src/tiering/decide.ts";
import type { Tier } from "../../src/model/storage.ts";

const NOW = Date.UTC(2026, 0, 1, 12);
const MIN = 60_000;

function policy(over: Partial<TieringPolicy> = {}): TieringPolicy {
  return {
    name: "p",
    watermarks: { highWatermarkIOPS: 1000, warmWatermarkIOPS: 300, lowWatermarkIOPS: 100 },
    cooldownMs: 30 * MIN,
    maxConcurrentMigrations: 100,
    warmTier: true,
    tiersAvailable: new Set<Tier>(["hot", "warm", "cold"]),
    ...over,
  };
}

function input(
  volumes: VolumeState[],
  iops: Record<string, number> | undefined,
  over: Partial<DecideInput> = {},
): DecideInput {
  return {
    policy: policy(),
    volumes,
    metrics: iops ? { at: NOW, iops: new Map(Object.entries(iops)) } : undefined,
    now: NOW,
    maxMetricsAgeMs: 5 * MIN,
    inFlight: { policy: 0, global: 0 },
    globalLimit: 100,
    ...over,
  };
}

function one(v: VolumeState, iops: number | undefined, over: Partial<DecideInput> = {}) {
  return decide(input([v], iops === undefined ? {} : { [v.name]: iops }, over)).decisions[0];
}

Deno.test("bands: boundaries are inclusive as documented", () => {
  const w = { highWatermarkIOPS: 1000, warmWatermarkIOPS: 300, lowWatermarkIOPS: 100 };
  assert.deepEqual(classify(1000, w, true), { kind: "target", tier: "hot" });
  assert.deepEqual(classify(999.9, w, true), { kind: "hold" });
  assert.deepEqual(classify(300.1, w, true), { kind: "hold" });
  assert.deepEqual(classify(300, w, true), { kind: "target", tier: "warm" });
  assert.deepEqual(classify(100.1, w, true), { kind: "target", tier: "warm" });
  assert.deepEqual(classify(100, w, true), { kind: "target", tier: "cold" });
  assert.deepEqual(classify(0, w, true), { kind: "target", tier: "cold" });
  // Without a warm tier the whole (low, high) range is the hysteresis band.
  assert.deepEqual(classify(200, w, false), { kind: "hold" });
  assert.deepEqual(classify(100, w, false), { kind: "target", tier: "cold" });
});

Deno.test("decide: promote, demote, warm, band, already on tier", () => {
  assert.equal(one({ name: "a", tier: "cold" }, 5000).reason, "Promote");
  assert.equal(one({ name: "a", tier: "cold" }, 5000).to, "hot");
  assert.equal(one({ name: "a", tier: "hot" }, 3).reason, "Demote");
  assert.equal(one({ name: "a", tier: "hot" }, 200).to, "warm");
  assert.equal(one({ name: "a", tier: "hot" }, 200).reason, "Demote");
  assert.equal(one({ name: "a", tier: "cold" }, 200).reason, "Promote");
  assert.equal(one({ name: "a", tier: "cold" }, 500).reason, "WithinBand");
  assert.equal(one({ name: "a", tier: "hot" }, 500).reason, "WithinBand");
  assert.equal(one({ name: "a", tier: "hot" }, 1000).reason, "AlreadyOnTier");
  assert.equal(one({ name: "a", tier: "warm" }, 150).reason, "AlreadyOnTier");
  assert.equal(one({ name: "a", tier: "mixed" }, 5000).reason, "Promote");
  assert.equal(one({ name: "a", tier: "mixed" }, 5).reason, "Demote");
  assert.equal(one({ name: "a", tier: undefined }, 5).reason, "UnknownTier");
});

Deno.test("decide: without a warm selector there is no warm target", () => {
  const p = policy({ warmTier: false, tiersAvailable: new Set<Tier>(["hot", "cold"]) });
  const d = decide(input([{ name: "a", tier: "hot" }], { a: 200 }, { policy: p })).decisions[0];
  assert.equal(d.reason, "WithinBand");
});

Deno.test("decide: no metrics, failed read, stale snapshot, NaN", () => {
  assert.equal(one({ name: "a", tier: "hot" }, undefined).reason, "NoMetrics");
  const failed = decide(input([{ name: "a", tier: "hot" }], undefined)).decisions[0];
  assert.equal(failed.reason, "NoMetrics");
  assert.equal(failed.move, false);
  const stale = decide({
    ...input([{ name: "a", tier: "hot" }], { a: 1 }),
    metrics: { at: NOW - 6 * MIN, iops: new Map([["a", 1]]) },
  });
  assert.equal(stale.decisions[0].reason, "StaleMetrics");
  assert.equal(one({ name: "a", tier: "hot" }, NaN).reason, "NoMetrics");
});

Deno.test("decide: cooldown from the last migration, including a future stamp", () => {
  const d = one({ name: "a", tier: "cold", lastMigrationMs: NOW - 10 * MIN }, 5000);
  assert.equal(d.reason, "InCooldown");
  assert.equal(d.cooldownRemainingMs, 20 * MIN);
  assert.equal(
    one({ name: "a", tier: "cold", lastMigrationMs: NOW - 30 * MIN }, 5000).reason,
    "Promote",
  );
  assert.equal(
    one({ name: "a", tier: "cold", lastMigrationMs: NOW + MIN }, 5000).reason,
    "InCooldown",
  );
});

Deno.test("decide: in-flight, missing target pool, invalid policy", () => {
  assert.equal(one({ name: "a", tier: "cold", inFlight: true }, 5000).reason, "MigrationInFlight");
  const noHot = { policy: policy({ tiersAvailable: new Set<Tier>(["cold", "warm"]) }) };
  assert.equal(one({ name: "a", tier: "cold" }, 5000, noHot).reason, "NoTargetPool");
  const bad = {
    policy: policy({
      watermarks: { highWatermarkIOPS: 100, warmWatermarkIOPS: 300, lowWatermarkIOPS: 50 },
    }),
  };
  const d = one({ name: "a", tier: "cold" }, 5000, bad);
  assert.equal(d.reason, "InvalidPolicy");
  assert.match(d.detail ?? "", /warmWatermarkIOPS/);
});

Deno.test("decide: hottest promoted first, then coldest demoted, within the budgets", () => {
  const vols: VolumeState[] = [
    { name: "c1", tier: "hot" },
    { name: "h1", tier: "cold" },
    { name: "h2", tier: "cold" },
    { name: "c2", tier: "hot" },
    { name: "h3", tier: "warm" },
  ];
  const iops = { c1: 50, h1: 2000, h2: 9000, c2: 1, h3: 1500 };
  const plan = decide(
    input(vols, iops, {
      policy: policy({ maxConcurrentMigrations: 5 }),
      inFlight: { policy: 1, global: 3 },
      globalLimit: 7,
    }),
  );
  assert.equal(plan.budget, 4);
  assert.deepEqual(plan.moves.map((m) => m.volume), ["h2", "h1", "h3", "c2"]);
  assert.equal(plan.decisions[0].reason, "ConcurrencyLimit");
  assert.equal(plan.counts.ConcurrencyLimit, 1);
  assert.equal(plan.counts.Promote, 3);
  assert.equal(plan.counts.Demote, 1);
  // Decisions keep input order.
  assert.deepEqual(plan.decisions.map((d) => d.volume), vols.map((v) => v.name));
});

Deno.test("decide: budget already spent by moves in flight", () => {
  const plan = decide(
    input([{ name: "a", tier: "cold" }], { a: 5000 }, {
      policy: policy({ maxConcurrentMigrations: 2 }),
      inFlight: { policy: 3, global: 3 },
    }),
  );
  assert.equal(plan.budget, 0);
  assert.equal(plan.decisions[0].reason, "ConcurrencyLimit");
});

// ---- property tests ----

const tierArb = fc.constantFrom<Tier | "mixed" | undefined>(
  "hot",
  "warm",
  "cold",
  "mixed",
  undefined,
);
const volArb = fc.record({
  tier: tierArb,
  lastAgoMin: fc.option(fc.integer({ min: -10, max: 120 }), { nil: undefined }),
  inFlight: fc.boolean(),
  iops: fc.option(fc.double({ min: 0, max: 5000, noNaN: true }), { nil: undefined }),
});
const scenarioArb = fc.record({
  vols: fc.array(volArb, { maxLength: 60 }),
  low: fc.integer({ min: 0, max: 200 }),
  warmGap: fc.integer({ min: 1, max: 500 }),
  highGap: fc.integer({ min: 1, max: 2000 }),
  warmTier: fc.boolean(),
  cooldownMin: fc.integer({ min: 0, max: 90 }),
  maxPer: fc.integer({ min: 0, max: 10 }),
  inFlightPolicy: fc.integer({ min: 0, max: 12 }),
  globalExtra: fc.integer({ min: 0, max: 12 }),
  globalLimit: fc.integer({ min: 0, max: 20 }),
  tiers: fc.subarray<Tier>(["hot", "warm", "cold"]),
  metricsOk: fc.boolean(),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario): DecideInput {
  const volumes: VolumeState[] = s.vols.map((v, i) => ({
    name: `v${i}`,
    tier: v.tier,
    lastMigrationMs: v.lastAgoMin === undefined ? undefined : NOW - v.lastAgoMin * MIN,
    inFlight: v.inFlight,
  }));
  const iops = new Map<string, number>();
  s.vols.forEach((v, i) => v.iops !== undefined && iops.set(`v${i}`, v.iops));
  const warm = s.low + s.warmGap;
  return {
    policy: policy({
      watermarks: {
        lowWatermarkIOPS: s.low,
        warmWatermarkIOPS: warm,
        highWatermarkIOPS: warm + s.highGap,
      },
      cooldownMs: s.cooldownMin * MIN,
      maxConcurrentMigrations: s.maxPer,
      warmTier: s.warmTier,
      tiersAvailable: new Set(s.tiers),
    }),
    volumes,
    metrics: s.metricsOk ? { at: NOW, iops } : undefined,
    now: NOW,
    maxMetricsAgeMs: 5 * MIN,
    inFlight: { policy: s.inFlightPolicy, global: s.inFlightPolicy + s.globalExtra },
    globalLimit: s.globalLimit,
  };
}

Deno.test("property: nothing in cooldown, in the band, in flight or without metrics moves", () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const inp = build(s);
      const plan = decide(inp);
      const w = inp.policy.watermarks;
      for (let i = 0; i < inp.volumes.length; i++) {
        const v = inp.volumes[i];
        const d = plan.decisions[i];
        if (!d.move) continue;
        const iops = inp.metrics?.iops.get(v.name);
        assert.ok(inp.metrics !== undefined, "moved without a metrics read");
        assert.ok(iops !== undefined, "moved without a series");
        assert.ok(!v.inFlight, "moved a volume already moving");
        if (v.lastMigrationMs !== undefined) {
          assert.ok(NOW >= v.lastMigrationMs + inp.policy.cooldownMs, "moved in cooldown");
        }
        const inBand = iops > w.lowWatermarkIOPS && iops < w.highWatermarkIOPS &&
          !(inp.policy.warmTier && iops <= (w.warmWatermarkIOPS as number));
        assert.ok(!inBand, "moved within the hysteresis band");
        assert.notEqual(d.to, v.tier, "moved to the tier it is on");
        assert.ok(inp.policy.tiersAvailable.has(d.to as Tier), "moved to a tier with no pool");
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: moves never exceed the per-policy or the global budget", () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const inp = build(s);
      const plan = decide(inp);
      const n = plan.decisions.filter((d) => d.move).length;
      assert.equal(n, plan.moves.length);
      assert.ok(
        inp.inFlight.policy + n <=
          Math.max(inp.policy.maxConcurrentMigrations, inp.inFlight.policy),
      );
      assert.ok(inp.inFlight.global + n <= Math.max(inp.globalLimit, inp.inFlight.global));
      // Every eligible volume beyond the budget is held for ConcurrencyLimit, none silently.
      const eligible = plan.decisions.filter((d) =>
        d.move || d.reason === "ConcurrencyLimit"
      ).length;
      assert.equal(n, Math.min(eligible, plan.budget));
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: promotions precede demotions, hottest first then coldest first", () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const plan = decide(build(s));
      const kinds = plan.moves.map((m) => m.reason);
      const firstDemote = kinds.indexOf("Demote");
      if (firstDemote >= 0) assert.ok(!kinds.slice(firstDemote).includes("Promote"));
      const ups = plan.moves.filter((m) => m.reason === "Promote").map((m) => m.iops as number);
      const downs = plan.moves.filter((m) => m.reason === "Demote").map((m) => m.iops as number);
      for (let i = 1; i < ups.length; i++) assert.ok(ups[i - 1] >= ups[i]);
      for (let i = 1; i < downs.length; i++) assert.ok(downs[i - 1] <= downs[i]);
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: hysteresis — IOPS noise within the band never flips a volume", () => {
  // Simulate many passes: the volume moves whenever decided (no cooldown, unlimited budget);
  // IOPS noise stays inside (warm, high). Whatever the start tier, no pass moves it.
  fc.assert(
    fc.property(
      fc.constantFrom<Tier>("hot", "warm", "cold"),
      fc.boolean(),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 50 }),
      (start, warmTier, noise) => {
        const p = policy({ cooldownMs: 0, warmTier });
        const w = p.watermarks;
        const lo = warmTier ? (w.warmWatermarkIOPS as number) : w.lowWatermarkIOPS;
        let tier: Tier = start;
        for (const n of noise) {
          // Strictly inside (lo, high).
          const iops = lo + 1e-6 + n * (w.highWatermarkIOPS - lo - 2e-6);
          const d = decide(input([{ name: "a", tier }], { a: iops }, { policy: p })).decisions[0];
          assert.equal(d.move, false);
          assert.equal(d.reason, "WithinBand");
          if (d.move) tier = d.to as Tier;
        }
        assert.equal(tier, start);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: once moved to hot, noise anywhere above warm never demotes it", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 300.0001, max: 100_000, noNaN: true }), { maxLength: 50 }),
      (series) => {
        const p = policy({ cooldownMs: 0 });
        let tier: Tier = "hot";
        let flips = 0;
        for (const iops of series) {
          const d = decide(input([{ name: "a", tier }], { a: iops }, { policy: p })).decisions[0];
          if (d.move) {
            tier = d.to as Tier;
            flips++;
          }
        }
        assert.equal(flips, 0);
      },
    ),
  );
});

Deno.test("every reason appears in counts", () => {
  const plan = decide(input([], {}));
  const reasons: DecisionReason[] = Object.keys(plan.counts) as DecisionReason[];
  assert.equal(reasons.length, 13);
  const off = decide(input([{ name: "a", tier: "cold" }], { a: 1e6 }, {
    policy: policy({ enabled: false }),
  }));
  assert.equal(off.decisions[0].reason, "PolicyDisabled");
  assert.equal(off.moves.length, 0);
});

Deno.test("property: over many passes, limits and cooldown hold with moves in flight", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(
        fc.array(fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }), {
          minLength: 40,
          maxLength: 40,
        }),
        { minLength: 1, maxLength: 30 },
      ),
      fc.integer({ min: 0, max: 10 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 30, maxLength: 30 }),
      (n, passes, cooldownMin, maxPer, globalLimit, duration, others) => {
        const tiers: Tier[] = Array.from(
          { length: n },
          (_, i) => (["hot", "warm", "cold"] as const)[i % 3],
        );
        const last: (number | undefined)[] = new Array(n).fill(undefined);
        const running = new Map<number, { to: Tier; endsAt: number }>();
        const p = policy({ cooldownMs: cooldownMin * MIN, maxConcurrentMigrations: maxPer });
        passes.forEach((iopsRow, pass) => {
          const now = NOW + pass * MIN;
          for (const [i, r] of running) {
            if (r.endsAt <= now) {
              tiers[i] = r.to;
              last[i] = r.endsAt;
              running.delete(i);
            }
          }
          const other = Math.min(others[pass], globalLimit);
          const iops = new Map<string, number>();
          iopsRow.slice(0, n).forEach((v, i) => v !== undefined && iops.set(`v${i}`, v));
          const plan = decide({
            policy: p,
            volumes: tiers.map((t, i) => ({
              name: `v${i}`,
              tier: t,
              lastMigrationMs: last[i],
              inFlight: running.has(i),
            })),
            metrics: { at: now, iops },
            now,
            maxMetricsAgeMs: MIN,
            inFlight: { policy: running.size, global: running.size + other },
            globalLimit,
          });
          for (const m of plan.moves) {
            const i = Number(m.volume.slice(1));
            assert.ok(!running.has(i), "moved a volume already moving");
            if (last[i] !== undefined) assert.ok(now - last[i]! >= p.cooldownMs, "in cooldown");
            running.set(i, { to: m.to as Tier, endsAt: now + duration * MIN });
          }
          if (plan.moves.length > 0) {
            assert.ok(running.size <= maxPer, "per-policy limit");
            assert.ok(running.size + other <= globalLimit, "global limit");
          }
        });
      },
    ),
    { numRuns: 300 },
  );
});
