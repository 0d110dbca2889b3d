/** Shared by the plan tests: a policy with three tiers and a plan input at a fixed instant. */
import type { Tier } from "../../src/model/storage.ts";
import type { TieringPolicy } from "../../src/tiering/decide.ts";
import type { PlanInput, PlanVolume } from "../../src/tiering/volume_plan.ts";

export const MIN = 60_000;
export const H = 60 * MIN;
/** A Wednesday, 12:00 UTC. */
export const NOW = Date.UTC(2026, 11, 2, 12);

/** Watermarks 100 / 300 / 1000, a 6 h cooldown, ten moves at a time, every tier available. */
export function testPolicy(over: Partial<TieringPolicy> = {}): TieringPolicy {
  return {
    name: "dbs",
    watermarks: { highWatermarkIOPS: 1000, warmWatermarkIOPS: 300, lowWatermarkIOPS: 100 },
    cooldownMs: 6 * H,
    maxConcurrentMigrations: 10,
    warmTier: true,
    tiersAvailable: new Set<Tier>(["hot", "warm", "cold"]),
    ...over,
  };
}

/** A plan input at NOW with these IOPS (undefined = the read failed). */
export function planInput(
  volumes: PlanVolume[],
  iops: Record<string, number> | undefined,
  over: Partial<PlanInput> = {},
): PlanInput {
  return {
    policy: testPolicy(),
    volumes,
    metrics: iops ? { at: NOW, iops: new Map(Object.entries(iops)) } : undefined,
    now: NOW,
    maxMetricsAgeMs: 10 * MIN,
    inFlight: { policy: 0, global: 0 },
    globalLimit: 10,
    ...over,
  };
}
