/**
 * Pure pool selection: which pools belong to a tier (Kubernetes LabelSelector
 * semantics over the pool labels) and which pool receives a new replica of a
 * volume. No I/O; every input is passed in so the rules are unit-testable.
 */
import type { LabelSelector, LabelSelectorRequirement } from "../api/meta.ts";
import { matchesLabelSelector } from "../api/selector.ts";
import type { Pool, Tier, Volume } from "../model/storage.ts";

/** The LabelSelector shape and matching rules are the API's (src/api): one definition. */
export type { LabelSelector, LabelSelectorRequirement };

/**
 * Problems that make a selector invalid, as the API server would report them:
 * In/NotIn need at least one value, Exists/DoesNotExist take none.
 */
export function selectorErrors(selector: LabelSelector): string[] {
  const errors: string[] = [];
  for (const [i, r] of (selector.matchExpressions ?? []).entries()) {
    const n = r.values?.length ?? 0;
    if ((r.operator === "In" || r.operator === "NotIn") && n === 0) {
      errors.push(`matchExpressions[${i}] (${r.key} ${r.operator}): values must be non-empty`);
    }
    if ((r.operator === "Exists" || r.operator === "DoesNotExist") && n > 0) {
      errors.push(`matchExpressions[${i}] (${r.key} ${r.operator}): values must be empty`);
    }
  }
  return errors;
}

/**
 * Whether labels satisfy the selector. An empty selector matches everything;
 * `undefined` (a null selector in Kubernetes) and invalid selectors match nothing,
 * so a typo never sweeps every pool into a tier.
 */
export function matchesSelector(
  labels: Record<string, string>,
  selector: LabelSelector | undefined,
): boolean {
  if (!selector) return false;
  if (selectorErrors(selector).length > 0) return false;
  return matchesLabelSelector(selector, labels);
}

/** Pool selectors per tier, as a StoragePolicy gives them. */
export type TierSelectors = Partial<Record<Tier, LabelSelector>>;

const TIER_ORDER: Tier[] = ["hot", "warm", "cold"];

/** The pools a tier's selector matches. */
export function poolsForTier(pools: Pool[], selector: LabelSelector | undefined): Pool[] {
  return pools.filter((p) => matchesSelector(p.labels, selector));
}

/**
 * The tier of a pool: the first of hot, warm, cold whose selector matches it
 * (a pool matched by two tiers is a policy mistake; the hotter one wins so the
 * answer is stable), or undefined.
 */
export function tierOfPool(pool: Pool, selectors: TierSelectors): Tier | undefined {
  return TIER_ORDER.find((t) => matchesSelector(pool.labels, selectors[t]));
}

/** The tier a volume lives on: the tier of its replicas' pools when they agree. */
export function tierOfVolume(
  volume: Volume,
  pools: Pool[],
  selectors: TierSelectors,
): Tier | "mixed" | undefined {
  const byId = new Map(pools.map((p) => [p.id, p]));
  const tiers = new Set<Tier | undefined>();
  for (const r of volume.replicas) {
    const p = byId.get(r.pool);
    tiers.add(p ? tierOfPool(p, selectors) : undefined);
  }
  if (tiers.size === 0) return undefined;
  if (tiers.size > 1) return "mixed";
  return [...tiers][0];
}

/** Free bytes of a pool (never negative). */
export function freeBytes(pool: Pool): number {
  return Math.max(0, pool.capacityBytes - pool.usedBytes);
}

/** Space to keep free on a pool beyond the volume's size. */
export interface PoolMargins {
  /** Extra free bytes to keep beyond the volume size (absolute). */
  marginBytes?: number;
  /** Extra free space to keep, as a fraction of the pool capacity (0.05 = 5%). */
  marginRatio?: number;
}

/** Why a pool cannot take a new replica of a volume. */
export type RejectReason = "not-online" | "no-capacity" | "holds-replica";

/**
 * Whether `pool` can take a new replica of `volume`: it is Online, holds no replica of the
 * volume, and its free space covers the volume size plus the margins (inclusive).
 */
export function poolRejection(
  volume: Volume,
  pool: Pool,
  m: PoolMargins = {},
): RejectReason | undefined {
  if (pool.status !== "Online") return "not-online";
  if (volume.replicas.some((r) => r.pool === pool.id)) return "holds-replica";
  const need = volume.sizeBytes + (m.marginBytes ?? 0) + (m.marginRatio ?? 0) * pool.capacityBytes;
  return freeBytes(pool) < need ? "no-capacity" : undefined;
}
