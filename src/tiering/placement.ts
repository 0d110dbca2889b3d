/**
 * Pools → tiers, a volume's current tier, and where a move goes. Pure.
 */
import type { Pool, Tier, Volume } from "../mayastor/port.ts";

/** A Kubernetes label selector (matchLabels and matchExpressions). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: string[];
  }[];
}

/** True when the labels satisfy the selector (an empty selector matches everything). */
export function selectorMatches(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const vals = e.values ?? [];
    if (e.operator === "In" && !(has && vals.includes(labels[e.key]))) return false;
    if (e.operator === "NotIn" && has && vals.includes(labels[e.key])) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

/**
 * Pool id → tier from a policy's pool selectors. A pool matching several selectors takes
 * the fastest tier it matches (hot, then warm, then cold), so the map is deterministic.
 */
export function poolTiers(
  pools: readonly Pool[],
  selectors: Partial<Record<Tier, LabelSelector>>,
): Map<string, Tier> {
  const out = new Map<string, Tier>();
  for (const p of pools) {
    for (const tier of ["hot", "warm", "cold"] as const) {
      const sel = selectors[tier];
      if (sel && selectorMatches(sel, p.labels)) {
        out.set(p.id, tier);
        break;
      }
    }
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
 * Chooses the replica to move (one not on the target tier, lowest uuid first) and the pool to
 * put its replacement on: an Online pool of the target tier that holds no replica of this
 * volume and has room for it, the one with most free bytes first.
 */
export function choosePlacement(
  v: Volume,
  pools: readonly Pool[],
  tiers: ReadonlyMap<string, Tier>,
  to: Tier,
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
  const used = new Set(v.replicas.map((r) => r.pool));
  const candidates = pools
    .filter((p) =>
      tiers.get(p.id) === to && p.status === "Online" && !used.has(p.id) &&
      p.capacityBytes - p.usedBytes >= v.sizeBytes
    )
    .sort((a, b) =>
      (b.capacityBytes - b.usedBytes) - (a.capacityBytes - a.usedBytes) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
    );
  if (candidates.length === 0) {
    return {
      ok: false,
      reason: "NoTargetPool",
      detail: `no Online ${to} pool with ${v.sizeBytes} free bytes and no replica of ${v.uuid}`,
    };
  }
  return { ok: true, oldReplica: old.uuid, oldPool: old.pool, from, targetPool: candidates[0].id };
}
