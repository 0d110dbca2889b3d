import assert from "node:assert/strict";
import fc from "fast-check";
import {
  anchorProfile,
  iopsAt,
  opsBetween,
  type WorkloadProfile,
  WorkloadProfileSchema,
} from "../../../src/sandbox/mayastor/profiles.ts";

const T0 = Date.UTC(2026, 0, 1);

const profiles: WorkloadProfile[] = [
  { kind: "idle" },
  { kind: "steady", iops: 250 },
  { kind: "bursty", baseIops: 10, burstIops: 1000, periodMs: 60_000, burstMs: 5_000 },
  { kind: "diurnal", minIops: 5, maxIops: 500, periodMs: 3_600_000 },
  { kind: "going-cold", fromIops: 800, toIops: 2, startMs: T0 + 10_000, durationMs: 600_000 },
  { kind: "heating-up", fromIops: 1, toIops: 900, startMs: T0 + 5_000, durationMs: 120_000 },
];

/** Midpoint-rule integral of iopsAt with 10 ms steps. */
function numeric(p: WorkloadProfile, a: number, b: number): number {
  let s = 0;
  for (let t = a; t < b; t += 10) s += iopsAt(p, t + Math.min(10, b - t) / 2) * Math.min(10, b - t);
  return s / 1000;
}

Deno.test("opsBetween is the integral of iopsAt for every profile kind", () => {
  for (const p of profiles) {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 900_000 }),
        fc.integer({ min: 0, max: 90_000 }),
        (start, len) => {
          const a = T0 + start, b = a + len;
          const exact = opsBetween(p, a, b);
          const approx = numeric(p, a, b);
          // Bursty edges fall inside one 10 ms step: allow one step at the burst rate.
          return Math.abs(exact - approx) <= 1e-6 * Math.max(1, exact) + 10;
        },
      ),
      { numRuns: 40 },
    );
  }
});

Deno.test("opsBetween is additive over adjacent intervals and zero for empty ones", () => {
  for (const p of profiles) {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500_000 }),
        fc.integer({ min: 0, max: 500_000 }),
        fc.integer({ min: 0, max: 500_000 }),
        (x, y, z) => {
          const [a, b, c] = [x, y, z].sort((m, n) => m - n).map((v) => T0 + v);
          const whole = opsBetween(p, a, c), parts = opsBetween(p, a, b) + opsBetween(p, b, c);
          return Math.abs(whole - parts) <= 1e-6 * Math.max(1, whole) && opsBetween(p, c, a) === 0;
        },
      ),
      { numRuns: 50 },
    );
  }
});

Deno.test("profile shapes: steady, bursty, diurnal peak, ramps clamp at both ends", () => {
  assert.equal(opsBetween(profiles[1], T0, T0 + 10_000), 2500);
  const b = profiles[2];
  assert.equal(iopsAt(b, 0), 1000);
  assert.equal(iopsAt(b, 5_000), 10);
  assert.equal(opsBetween(b, 0, 60_000), 1000 * 5 + 10 * 55);
  const d = { kind: "diurnal", minIops: 0, maxIops: 100, periodMs: 1000, peakAtMs: 0 } as const;
  assert.equal(iopsAt(d, 0), 100);
  assert.ok(Math.abs(iopsAt(d, 500)) < 1e-9);
  assert.ok(Math.abs(opsBetween(d, 0, 1000) - 50) < 1e-9, "mean of a full cycle");
  const cold = profiles[4];
  assert.equal(iopsAt(cold, T0), 800);
  assert.equal(iopsAt(cold, T0 + 10_000 + 300_000), 401);
  assert.equal(iopsAt(cold, T0 + 10_000_000), 2);
  const hot = profiles[5];
  assert.ok(iopsAt(hot, T0 + 60_000) > iopsAt(hot, T0 + 30_000));
});

Deno.test("anchorProfile starts ramps now unless told; the schema rejects nonsense", () => {
  const p = anchorProfile({ kind: "going-cold", fromIops: 10, toIops: 0, durationMs: 1000 }, 42);
  assert.equal(p.kind === "going-cold" && p.startMs, 42);
  assert.deepEqual(anchorProfile(profiles[1], 42), profiles[1]);
  assert.equal(WorkloadProfileSchema.safeParse({ kind: "steady", iops: -1 }).success, false);
  assert.equal(WorkloadProfileSchema.safeParse({ kind: "tepid" }).success, false);
  assert.equal(
    WorkloadProfileSchema.safeParse({ kind: "steady", iops: 5, readRatio: 1.5 }).success,
    false,
  );
});
