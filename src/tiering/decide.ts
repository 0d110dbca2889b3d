/**
 * One tiering pass of a policy: for every volume, stay or move (and why). Pure: no I/O, time
 * and metrics are passed in. Promotions go first, hottest first; then demotions, coldest
 * first; both share one budget (per-policy and global in-flight limits).
 */
import type { VolumeReason } from "../api/volume_reasons.ts";
import type { Tier } from "../model/storage.ts";
import { classify, TIER_RANK, watermarkProblem, type Watermarks } from "./bands.ts";
import { cooldownRemaining } from "./cooldown.ts";

/** Machine-readable reason carried by every decision. */
export type DecisionReason =
  /** Moves up to a faster tier. */
  | "Promote"
  /** Moves down to a slower tier. */
  | "Demote"
  /** IOPS in the hysteresis band: the volume stays where it is. */
  | "WithinBand"
  /** Already on the tier its IOPS ask for. */
  | "AlreadyOnTier"
  /** No IOPS series for the volume, or the metrics read failed. */
  | "NoMetrics"
  /** The metrics snapshot is older than the allowed age. */
  | "StaleMetrics"
  /** Moved too recently. */
  | "InCooldown"
  /** Would move, but the per-policy or global budget is spent. */
  | "ConcurrencyLimit"
  /** The target tier has no usable pool for this policy. */
  | "NoTargetPool"
  /** A move of this volume is already in flight. */
  | "MigrationInFlight"
  /** The volume's current tier is unknown (its pools carry no tier). */
  | "UnknownTier"
  /** The policy's watermarks or limits are inconsistent. */
  | "InvalidPolicy"
  /** The policy is disabled (`enabled: false`): observed, never moved. */
  | "PolicyDisabled";

// Every reason of decide() is a volume reason of the API too (checked by the compiler).
const _decideReasonsInApi: readonly VolumeReason[] = [] as DecisionReason[];
void _decideReasonsInApi;

/** Every reason, for exhaustive counting. */
export const DECISION_REASONS: readonly DecisionReason[] = [
  "Promote",
  "Demote",
  "WithinBand",
  "AlreadyOnTier",
  "NoMetrics",
  "StaleMetrics",
  "InCooldown",
  "ConcurrencyLimit",
  "NoTargetPool",
  "MigrationInFlight",
  "UnknownTier",
  "InvalidPolicy",
  "PolicyDisabled",
];

/** What of a StoragePolicy the decision needs. */
export interface TieringPolicy {
  name: string;
  watermarks: Watermarks;
  cooldownMs: number;
  /** At most this many moves of this policy in flight at once. */
  maxConcurrentMigrations: number;
  /** The policy has a warm pool selector (so there is a warm band). */
  warmTier: boolean;
  /** Tiers that have at least one usable (Online, selected) pool right now. */
  tiersAvailable: ReadonlySet<Tier>;
  /** false: decisions are computed (for status) but nothing moves. Default true. */
  enabled?: boolean;
}

/**
 * A volume as the decision sees it. `tier` is where its replicas are: one tier, "mixed"
 * (a multi-replica volume part-way through moves), or undefined when its pools carry no tier.
 */
export interface VolumeState {
  /** PersistentVolume name (the `pv_name` of the metrics). */
  name: string;
  tier: Tier | "mixed" | undefined;
  /** From the `storage.billyronks.io/last-migration` annotation. */
  lastMigrationMs?: number;
  /** A move of this volume is in flight (persisted migration state found). */
  inFlight?: boolean;
}

/** IOPS read at one instant; a volume absent from `iops` is unknown. */
export interface MetricsSnapshot {
  at: number;
  iops: ReadonlyMap<string, number>;
}

/** Everything one pass needs. */
export interface DecideInput {
  policy: TieringPolicy;
  volumes: readonly VolumeState[];
  /** undefined when the metrics read failed: then nothing moves. */
  metrics: MetricsSnapshot | undefined;
  now: number;
  /** A snapshot older than this (relative to now) is stale. */
  maxMetricsAgeMs: number;
  /** Moves already in flight, of this policy and across all policies. */
  inFlight: { policy: number; global: number };
  /** Global limit across policies. */
  globalLimit: number;
}

/** The outcome for one volume. */
export interface Decision {
  volume: string;
  /** True when a move is to be started now. */
  move: boolean;
  reason: DecisionReason;
  iops?: number;
  from?: Tier | "mixed";
  /** The tier the IOPS ask for (set on moves and on holds that had a target). */
  to?: Tier;
  /** Cooldown left (ms) when the reason is InCooldown. */
  cooldownRemainingMs?: number;
  /** A human explanation (invalid policy, etc.). */
  detail?: string;
}

/** Result of one pass. */
export interface TieringPlan {
  /** One decision per input volume, in input order. */
  decisions: Decision[];
  /** The moves to start, in start order (hottest promotions, then coldest demotions). */
  moves: Decision[];
  /** New moves this pass was allowed (before any were taken). */
  budget: number;
  /** How many decisions carry each reason. */
  counts: Record<DecisionReason, number>;
}

/** Decides, for every volume of a policy, whether to move it now. */
export function decide(input: DecideInput): TieringPlan {
  const { policy, volumes, metrics, now } = input;
  const budget = Math.max(
    0,
    Math.min(
      policy.maxConcurrentMigrations - input.inFlight.policy,
      input.globalLimit - input.inFlight.global,
    ),
  );
  const decisions: Decision[] = new Array(volumes.length);
  const promotions: number[] = [];
  const demotions: number[] = [];

  const problem = policyProblem(policy, input.globalLimit);
  const stale = metrics !== undefined && now - metrics.at > input.maxMetricsAgeMs;

  for (let i = 0; i < volumes.length; i++) {
    const v = volumes[i];
    const from = v.tier;
    if (problem) {
      decisions[i] = {
        volume: v.name,
        move: false,
        reason: "InvalidPolicy",
        from,
        detail: problem,
      };
      continue;
    }
    if (policy.enabled === false) {
      decisions[i] = { volume: v.name, move: false, reason: "PolicyDisabled", from };
      continue;
    }
    if (v.inFlight) {
      decisions[i] = { volume: v.name, move: false, reason: "MigrationInFlight", from };
      continue;
    }
    if (metrics === undefined) {
      decisions[i] = { volume: v.name, move: false, reason: "NoMetrics", from };
      continue;
    }
    if (stale) {
      decisions[i] = { volume: v.name, move: false, reason: "StaleMetrics", from };
      continue;
    }
    const iops = metrics.iops.get(v.name);
    if (iops === undefined || !Number.isFinite(iops) || iops < 0) {
      decisions[i] = { volume: v.name, move: false, reason: "NoMetrics", from };
      continue;
    }
    if (from === undefined) {
      decisions[i] = { volume: v.name, move: false, reason: "UnknownTier", iops };
      continue;
    }
    const band = classify(iops, policy.watermarks, policy.warmTier);
    if (band.kind === "hold") {
      decisions[i] = { volume: v.name, move: false, reason: "WithinBand", iops, from };
      continue;
    }
    const to = band.tier;
    if (from === to) {
      decisions[i] = { volume: v.name, move: false, reason: "AlreadyOnTier", iops, from, to };
      continue;
    }
    if (!policy.tiersAvailable.has(to)) {
      decisions[i] = { volume: v.name, move: false, reason: "NoTargetPool", iops, from, to };
      continue;
    }
    const left = cooldownRemaining(v.lastMigrationMs, policy.cooldownMs, now);
    if (left > 0) {
      decisions[i] = {
        volume: v.name,
        move: false,
        reason: "InCooldown",
        iops,
        from,
        to,
        cooldownRemainingMs: left,
      };
      continue;
    }
    const up = isPromotion(from, to);
    decisions[i] = {
      volume: v.name,
      move: false,
      reason: up ? "Promote" : "Demote",
      iops,
      from,
      to,
    };
    (up ? promotions : demotions).push(i);
  }

  const iopsOf = (i: number) => decisions[i].iops as number;
  const byName = (a: number, b: number) =>
    volumes[a].name < volumes[b].name ? -1 : volumes[a].name > volumes[b].name ? 1 : 0;
  promotions.sort((a, b) => iopsOf(b) - iopsOf(a) || byName(a, b));
  demotions.sort((a, b) => iopsOf(a) - iopsOf(b) || byName(a, b));

  const moves: Decision[] = [];
  for (const i of [...promotions, ...demotions]) {
    if (moves.length < budget) {
      decisions[i].move = true;
      moves.push(decisions[i]);
    } else {
      decisions[i].reason = "ConcurrencyLimit";
    }
  }

  const counts = Object.fromEntries(DECISION_REASONS.map((r) => [r, 0])) as Record<
    DecisionReason,
    number
  >;
  for (const d of decisions) counts[d.reason]++;
  return { decisions, moves, budget, counts };
}

/**
 * A move is a promotion when the target is faster than where the volume is. A "mixed"
 * volume (part-way through a multi-replica move) counts as a promotion toward hot, else
 * as a demotion.
 */
export function isPromotion(from: Tier | "mixed", to: Tier): boolean {
  if (from === "mixed") return to === "hot";
  return TIER_RANK[to] > TIER_RANK[from];
}

function policyProblem(p: TieringPolicy, globalLimit: number): string | undefined {
  const w = watermarkProblem(p.watermarks, p.warmTier);
  if (w) return w;
  if (!Number.isFinite(p.cooldownMs) || p.cooldownMs < 0) return "cooldown must be >= 0";
  if (!Number.isInteger(p.maxConcurrentMigrations) || p.maxConcurrentMigrations < 0) {
    return "maxConcurrentMigrations must be an integer >= 0";
  }
  if (!Number.isInteger(globalLimit) || globalLimit < 0) {
    return "the global migration limit must be an integer >= 0";
  }
  return undefined;
}
