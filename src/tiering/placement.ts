/**
 * Pools → tiers, a volume's current tier, and where a move goes. Pure; selector matching and
 * the choice among pools are pools.ts's.
 */
import {
  freeBytes,
  type PoolMargins,
  poolRejection,
  tierOfPool,
  type TierSelectors,
} from "./pools.ts";
import type { Pool, Replica, Tier, Volume } from "../model/storage.ts";

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

/** One replica step of a move: the replica that leaves, and the node and pools it goes to. */
export interface PlacedStep {
  old: string;
  oldPool: string;
  /** The only node left uncordoned while the control plane places the new replica. */
  targetNode: string;
  /** The target tier's pools on that node that can take it; space is reserved on the first. */
  targetPools: string[];
}

/** Where a whole-volume move goes, or why it can't. */
export type Placement =
  | { ok: true; from: Tier; steps: PlacedStep[] }
  | { ok: false; reason: "AlreadyOnTier" | "NoTargetPool" | "UnknownTier"; detail: string };

/** Options of placeVolume. */
export interface PlaceOptions extends PoolMargins {
  /** Preservation mode: old replicas stay, so their nodes stay taken. */
  keepOld?: boolean;
  /** Nodes where a new replica landed on the wrong pool before: tried last. */
  avoidNodes?: readonly string[];
}

/** Most partial plans tried for one volume (a volume has a handful of replicas). */
const SEARCH_LIMIT = 5000;

/**
 * Plans a move of the whole volume: one step per replica not on the target tier (lowest uuid
 * first), each to its own node of the target tier. The control plane never puts two replicas
 * of a volume on one node, so during a step the target node must hold none: not a replica
 * still to move (that step's own old one included), not one already on the tier, not one an
 * earlier step added. Nodes whose every pool is on the target tier come first (the scheduler
 * picks among the open node's pools itself), then the most free space, then the node id;
 * nodes where a replica landed on the wrong pool before come last.
 */
export function placeVolume(
  v: Volume,
  pools: readonly Pool[],
  tiers: ReadonlyMap<string, Tier>,
  to: Tier,
  opts: PlaceOptions = {},
): Placement {
  const movable = v.replicas
    .filter((r) => tiers.get(r.pool) !== to)
    .sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  if (movable.length === 0) {
    return { ok: false, reason: "AlreadyOnTier", detail: `every replica is on ${to}` };
  }
  const unknown = movable.find((r) => tiers.get(r.pool) === undefined);
  if (unknown) {
    return { ok: false, reason: "UnknownTier", detail: `pool ${unknown.pool} matches no tier` };
  }
  const avoid = new Set(opts.avoidNodes ?? []);
  const nodes = targetNodes(v, pools, tiers, to, opts)
    .sort((a, b) => Number(avoid.has(a.node)) - Number(avoid.has(b.node)));
  const steps = search(v, movable, nodes, opts.keepOld ?? false);
  if (!steps) {
    return {
      ok: false,
      reason: "NoTargetPool",
      detail: noRoomDetail(v, pools, tiers, to, opts, movable.length, nodes.length),
    };
  }
  return { ok: true, from: tiers.get(movable[0].pool)!, steps };
}

interface TargetNode {
  node: string;
  /** Eligible target-tier pools, most free first. */
  pools: Pool[];
  /** Online pools of other tiers on the node (the scheduler could pick one). */
  foreign: number;
}

function targetNodes(
  v: Volume,
  pools: readonly Pool[],
  tiers: ReadonlyMap<string, Tier>,
  to: Tier,
  m: PoolMargins,
): TargetNode[] {
  const byNode = new Map<string, TargetNode>();
  for (const p of pools) {
    const n = byNode.get(p.node) ?? { node: p.node, pools: [], foreign: 0 };
    byNode.set(p.node, n);
    if (tiers.get(p.id) !== to) {
      if (p.status === "Online") n.foreign++;
    } else if (poolRejection(v, p, m) === undefined) n.pools.push(p);
  }
  const out = [...byNode.values()].filter((n) => n.pools.length > 0);
  for (const n of out) n.pools.sort((a, b) => freeBytes(b) - freeBytes(a) || cmp(a.id, b.id));
  return out.sort((a, b) =>
    a.foreign - b.foreign || freeBytes(b.pools[0]) - freeBytes(a.pools[0]) || cmp(a.node, b.node)
  );
}

/** Depth-first over step orders and nodes; the first complete plan in preference order. */
function search(
  v: Volume,
  movable: readonly Replica[],
  nodes: readonly TargetNode[],
  keepOld: boolean,
): PlacedStep[] | undefined {
  const staying = v.replicas.filter((r) => !movable.includes(r)).map((r) => r.node);
  let budget = SEARCH_LIMIT;
  const go = (
    left: readonly Replica[],
    added: readonly string[],
    moved: readonly Replica[],
  ): PlacedStep[] | undefined => {
    if (left.length === 0) return [];
    const taken = new Set([
      ...staying,
      ...added,
      ...left.map((r) => r.node),
      ...(keepOld ? moved.map((r) => r.node) : []),
    ]);
    for (const r of left) {
      for (const n of nodes) {
        if (--budget < 0) return undefined;
        if (taken.has(n.node)) continue;
        const rest = go(left.filter((x) => x !== r), [...added, n.node], [...moved, r]);
        if (rest) {
          const step = {
            old: r.uuid,
            oldPool: r.pool,
            targetNode: n.node,
            targetPools: n.pools.map((p) => p.id),
          };
          return [step, ...rest];
        }
      }
    }
    return undefined;
  };
  return go(movable, [], []);
}

function noRoomDetail(
  v: Volume,
  pools: readonly Pool[],
  tiers: ReadonlyMap<string, Tier>,
  to: Tier,
  m: PoolMargins,
  replicas: number,
  nodes: number,
): string {
  const rejected = pools.filter((p) => tiers.get(p.id) === to)
    .map((p) => [p.id, poolRejection(v, p, m)] as const)
    .filter(([, why]) => why !== undefined)
    .map(([id, why]) => `${id}: ${why}`);
  const why = rejected.length ? ` (${rejected.join(", ")})` : "";
  if (nodes === 0) return `no ${to} pool can take ${v.uuid}${why || " (none selected)"}`;
  return `${replicas} replica(s) of ${v.uuid} need ${replicas} ${to} node(s) free of its ` +
    `replicas; ${nodes} node(s) have a ${to} pool that can take it${why}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
