/**
 * Pools → tiers, a volume's current tier, and where a move goes. Pure; selector matching and
 * the choice among pools are pools.ts's.
 */
import { choosePool, tierOfPool, type TierSelectors } from "./pools.ts";
import type { Pool, Tier, Volume } from "../model/storage.ts";

/**
 * Pool id → tier from a policy's pool selectors (the adapter's `tierOfPool`: a pool matching
 * several selectors takes the fastest tier, so the map is deterministic). Built once per pass
 * so classifying 10,000 volumes is a map lookup per replica.
 */
export function poolTiers(pools: readonly Pool[], selectors: TierSelectors): Map<string, Tier> {
  const out = new Map<string, Tier>();
  for (const p of pools) {
    const t = tierOfPool(p, selectors);
    if (t) out.set(p.id, t);
  }
  return out;
}

/** Tiers with at least one Online pool. */
export function availableTiers(
  pools: readonly Pool[],
  tiers: ReadonlyMap<string, Tier>,
): Set<Tier> {
  const out = new Set<Tier>();
  for (const p of pools) {
    const t = tiers.get(p.id);
    if (t && p.status === "Online") out.add(t);
  }
  return out;
}

/** Where a volume's replicas are: one tier, "mixed", or undefined (no replica on a tiered pool). */
export function volumeTier(
  v: Volume,
  tiers: ReadonlyMap<string, Tier>,
): Tier | "mixed" | undefined {
  let seen: Tier | undefined;
  for (const r of v.replicas) {
    const t = tiers.get(r.pool);
    if (t === undefined) return undefined;
    if (seen === undefined) seen = t;
    else if (seen !== t) return "mixed";
  }
  return seen;
}

/** Where one move goes: which replica leaves which pool for which pool. */
export type Placement =
  | {
    ok: true;
    oldReplica: string;
    oldPool: string;
    from: Tier;
    targetPool: string;
  }
  | { ok: false; reason: "AlreadyOnTier" | "NoTargetPool" | "UnknownTier"; detail: string };

/**
 * Chooses the replica to move (one not on the target tier, lowest uuid first) and the pool
 * for its replacement: `choosePool` over the Online pools of the target tier (room for the
 * volume plus the headroom, no replica of it, a node without its staying replicas first, then
 * most free).
 */
export function choosePlacement(
  v: Volume,
  pools: readonly Pool[],
  tiers: ReadonlyMap<string, Tier>,
  to: Tier,
  opts: { marginRatio?: number } = {},
): Placement {
  const movable = v.replicas
    .filter((r) => tiers.get(r.pool) !== to)
    .sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  if (movable.length === 0) {
    return { ok: false, reason: "AlreadyOnTier", detail: `every replica is on ${to}` };
  }
  const old = movable[0];
  const from = tiers.get(old.pool);
  if (from === undefined) {
    return { ok: false, reason: "UnknownTier", detail: `pool ${old.pool} matches no tier` };
  }
  const candidates = pools.filter((p) => tiers.get(p.id) === to);
  const choice = choosePool(v, candidates, { leavingReplica: old.uuid, ...opts });
  if (!choice.pool) {
    const why = choice.rejected.map((r) => `${r.pool}: ${r.reason}`).join(", ");
    return {
      ok: false,
      reason: "NoTargetPool",
      detail: `no ${to} pool can take ${v.uuid}${why ? ` (${why})` : " (none selected)"}`,
    };
  }
  return { ok: true, oldReplica: old.uuid, oldPool: old.pool, from, targetPool: choice.pool.id };
}
