/**
 * IOPS bands → target tier. Pure.
 *
 * Band semantics (watermarks low < warm < high; IOPS measured over the sampling window):
 *
 *   [0, low]       → cold
 *   (low, warm]    → warm   (only when the policy has a warm pool selector and warmWatermark)
 *   (warm, high)   → stay   (hysteresis: the volume keeps whatever tier it is on)
 *   [high, ∞)      → hot
 *
 * Without a warm tier the hysteresis band is (low, high). The hysteresis band is what stops a
 * volume whose IOPS hover just under the hot watermark from flapping between tiers; between
 * cold and warm there is no band, so the cooldown is what limits flapping around `low`.
 */
import type { Tier } from "../model/storage.ts";

/** The three watermarks of a policy (warm optional). */
export interface Watermarks {
  highWatermarkIOPS: number;
  /** Upper edge of the warm band; used only when the policy has a warm tier. */
  warmWatermarkIOPS?: number;
  lowWatermarkIOPS: number;
}

/** Result of classifying one IOPS figure: a tier to be on, or "stay where you are". */
export type BandResult = { kind: "target"; tier: Tier } | { kind: "hold" };

/** Why a set of watermarks is unusable, or undefined when it is fine. */
export function watermarkProblem(w: Watermarks, warmTier: boolean): string | undefined {
  const nums = [w.highWatermarkIOPS, w.lowWatermarkIOPS];
  if (warmTier && w.warmWatermarkIOPS !== undefined) nums.push(w.warmWatermarkIOPS);
  if (nums.some((n) => !Number.isFinite(n) || n < 0)) return "watermarks must be finite and >= 0";
  if (!(w.lowWatermarkIOPS < w.highWatermarkIOPS)) {
    return "lowWatermarkIOPS must be below highWatermarkIOPS";
  }
  if (warmTier && w.warmWatermarkIOPS !== undefined) {
    if (
      !(w.lowWatermarkIOPS < w.warmWatermarkIOPS && w.warmWatermarkIOPS < w.highWatermarkIOPS)
    ) {
      return "warmWatermarkIOPS must lie strictly between lowWatermarkIOPS and highWatermarkIOPS";
    }
  }
  return undefined;
}

/**
 * The tier a volume with this IOPS belongs on. `warmTier` says whether the policy has a warm
 * pool selector; without it (or without warmWatermarkIOPS) there is no warm band.
 */
export function classify(iops: number, w: Watermarks, warmTier: boolean): BandResult {
  if (iops >= w.highWatermarkIOPS) return { kind: "target", tier: "hot" };
  if (iops <= w.lowWatermarkIOPS) return { kind: "target", tier: "cold" };
  if (warmTier && w.warmWatermarkIOPS !== undefined && iops <= w.warmWatermarkIOPS) {
    return { kind: "target", tier: "warm" };
  }
  return { kind: "hold" };
}

/** Rank of a tier, slowest first: a move to a higher rank is a promotion. */
export const TIER_RANK: Record<Tier, number> = { cold: 0, warm: 1, hot: 2 };
