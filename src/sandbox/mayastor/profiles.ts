/**
 * Workload profiles of simulated volumes: pure functions of time giving IOPS,
 * and their exact integrals (operations between two instants), so counters
 * advanced at any cadence agree with `rate()` over them. Times are Unix ms.
 */
import { z } from "zod";

const common = {
  /** Share of operations that are reads (0..1); default 0.7. */
  readRatio: z.number().min(0).max(1).optional(),
  /** Bytes per operation; default 4096. */
  blockSize: z.number().int().positive().optional(),
};

/** A workload profile; `startMs` of ramps defaults to "now" where it is set. */
export const WorkloadProfileSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("idle"), ...common }),
  z.object({ kind: z.literal("steady"), iops: z.number().nonnegative(), ...common }),
  z.object({
    kind: z.literal("bursty"),
    baseIops: z.number().nonnegative(),
    burstIops: z.number().nonnegative(),
    /** A burst starts every periodMs (at multiples of it) and lasts burstMs. */
    periodMs: z.number().positive(),
    burstMs: z.number().nonnegative(),
    ...common,
  }),
  z.object({
    kind: z.literal("diurnal"),
    minIops: z.number().nonnegative(),
    maxIops: z.number().nonnegative(),
    /** Cycle length; default one day. */
    periodMs: z.number().positive().optional(),
    /** An instant of peak load (ms); default 14:00 UTC of 1970-01-01. */
    peakAtMs: z.number().optional(),
    ...common,
  }),
  z.object({
    kind: z.literal("going-cold"),
    fromIops: z.number().nonnegative(),
    toIops: z.number().nonnegative(),
    startMs: z.number().optional(),
    durationMs: z.number().positive(),
    ...common,
  }),
  z.object({
    kind: z.literal("heating-up"),
    fromIops: z.number().nonnegative(),
    toIops: z.number().nonnegative(),
    startMs: z.number().optional(),
    durationMs: z.number().positive(),
    ...common,
  }),
]);
/** A workload profile. */
export type WorkloadProfile = z.infer<typeof WorkloadProfileSchema>;

/** Profile with ramps anchored: `startMs` filled with `nowMs` when missing. */
export function anchorProfile(p: WorkloadProfile, nowMs: number): WorkloadProfile {
  if ((p.kind === "going-cold" || p.kind === "heating-up") && p.startMs === undefined) {
    return { ...p, startMs: nowMs };
  }
  return p;
}

const DAY = 86_400_000;
const PEAK = 14 * 3_600_000;

/** Instantaneous IOPS at time t. */
export function iopsAt(p: WorkloadProfile, t: number): number {
  switch (p.kind) {
    case "idle":
      return 0;
    case "steady":
      return p.iops;
    case "bursty": {
      const r = ((t % p.periodMs) + p.periodMs) % p.periodMs;
      return r < p.burstMs ? p.burstIops : p.baseIops;
    }
    case "diurnal": {
      const P = p.periodMs ?? DAY;
      const mid = (p.minIops + p.maxIops) / 2, amp = (p.maxIops - p.minIops) / 2;
      return mid + amp * Math.cos((2 * Math.PI * (t - (p.peakAtMs ?? PEAK))) / P);
    }
    case "going-cold":
    case "heating-up": {
      const s = p.startMs ?? 0;
      const x = Math.min(1, Math.max(0, (t - s) / p.durationMs));
      return p.fromIops + (p.toIops - p.fromIops) * x;
    }
  }
}

/** Operations performed between t0 and t1 (exact integral of iopsAt, t1 >= t0). */
export function opsBetween(p: WorkloadProfile, t0: number, t1: number): number {
  if (t1 <= t0) return 0;
  const dt = t1 - t0;
  switch (p.kind) {
    case "idle":
      return 0;
    case "steady":
      return (p.iops * dt) / 1000;
    case "bursty": {
      // Burst time elapsed in [0, t): whole periods plus the part of the current one.
      const burstUpTo = (t: number) => {
        const n = Math.floor(t / p.periodMs);
        const r = t - n * p.periodMs;
        return n * Math.min(p.burstMs, p.periodMs) + Math.min(r, p.burstMs);
      };
      const burst = burstUpTo(t1) - burstUpTo(t0);
      return (p.baseIops * (dt - burst) + p.burstIops * burst) / 1000;
    }
    case "diurnal": {
      const P = p.periodMs ?? DAY;
      const mid = (p.minIops + p.maxIops) / 2, amp = (p.maxIops - p.minIops) / 2;
      const w = (2 * Math.PI) / P, peak = p.peakAtMs ?? PEAK;
      const wave = (amp / w) * (Math.sin(w * (t1 - peak)) - Math.sin(w * (t0 - peak)));
      return (mid * dt + wave) / 1000;
    }
    case "going-cold":
    case "heating-up": {
      const s = p.startMs ?? 0, e = s + p.durationMs;
      // Antiderivative of the clamped ramp, in IOPS·ms.
      const F = (t: number) => {
        if (t <= s) return p.fromIops * (t - s);
        const slope = (p.toIops - p.fromIops) / p.durationMs;
        if (t <= e) return p.fromIops * (t - s) + (slope * (t - s) ** 2) / 2;
        return ((p.fromIops + p.toIops) / 2) * p.durationMs + p.toIops * (t - e);
      };
      return (F(t1) - F(t0)) / 1000;
    }
  }
}

/** Read share and block size with defaults. */
export function ioShape(p: WorkloadProfile): { readRatio: number; blockSize: number } {
  return { readRatio: p.readRatio ?? 0.7, blockSize: p.blockSize ?? 4096 };
}
