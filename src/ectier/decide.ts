/**
 * Pure placement of the EC cold tier: which cold pools hold a volume's shards (one failure
 * domain each) and which pools take a rehydrated volume's replicas. Whether a volume goes to the
 * EC tier at all is tiering's rule (src/tiering/ec_route.ts).
 */
import type { Pool, Tier } from "../model/storage.ts";

/** The failure domain of a pool: its label under the key, or its node for the hostname key. */
export function failureDomain(pool: Pool, topologyKey: string): string | undefined {
  const v = pool.labels[topologyKey];
  if (v !== undefined) return v;
  return topologyKey === "kubernetes.io/hostname" ? pool.node : undefined;
}

/** Shard pools of a volume, or why there are not enough. */
export type ShardPoolChoice =
  | {
    ok: true;
    /** One pool per failure domain: the first `need` hold shards, the rest are spares. */
    pools: string[];
  }
  | { ok: false; reason: "NotEnoughColdPools"; message: string };

/**
 * Online cold pools, one per failure domain (the roomiest of each domain), most free space
 * first. Fewer domains than shards → refused with a message naming the numbers.
 */
export function chooseShardPools(
  pools: readonly Pool[],
  tiers: ReadonlyMap<string, Tier>,
  topologyKey: string,
  need: number,
): ShardPoolChoice {
  const best = new Map<string, Pool>();
  for (const p of pools) {
    if (p.status !== "Online" || tiers.get(p.id) !== "cold") continue;
    const d = failureDomain(p, topologyKey);
    if (d === undefined) continue;
    const cur = best.get(d);
    if (!cur || free(p) > free(cur) || (free(p) === free(cur) && p.id < cur.id)) best.set(d, p);
  }
  const chosen = [...best.values()].sort((a, b) => free(b) - free(a) || (a.id < b.id ? -1 : 1));
  if (chosen.length < need) {
    return {
      ok: false,
      reason: "NotEnoughColdPools",
      message: `the EC tier needs ${need} Online cold pools in distinct failure domains ` +
        `(${topologyKey}), found ${chosen.length}`,
    };
  }
  return { ok: true, pools: chosen.map((p) => p.id) };
}

function free(p: Pool): number {
  return p.capacityBytes - p.usedBytes;
}

/**
 * Pools for a rehydrated volume's replicas: Online pools of the tier with room for the volume,
 * one per node, most free first, at most `count`.
 */
export function chooseRehydrationPools(
  pools: readonly Pool[],
  tiers: ReadonlyMap<string, Tier>,
  to: Tier,
  sizeBytes: number,
  count: number,
): string[] {
  const byNode = new Map<string, Pool>();
  for (const p of pools) {
    if (p.status !== "Online" || tiers.get(p.id) !== to) continue;
    if (free(p) < sizeBytes) continue;
    const cur = byNode.get(p.node);
    if (!cur || free(p) > free(cur)) byNode.set(p.node, p);
  }
  return [...byNode.values()].sort((a, b) => free(b) - free(a) || (a.id < b.id ? -1 : 1))
    .slice(0, Math.max(1, count)).map((p) => p.id);
}
