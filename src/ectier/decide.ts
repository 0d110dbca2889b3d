/**
 * Pure choices of the EC cold tier: whether a volume bound for the cold tier goes to EC stripes
 * instead of a cold replica, and which cold pools hold its shards (one failure domain each).
 */
import type { LabelSelector } from "../api/meta.ts";
import { matchesLabelSelector } from "../api/selector.ts";
import type { Pool, Tier } from "../model/storage.ts";

/** The StoragePolicy fields the choice reads. */
export interface EcTierSpec {
  ecPolicyRef?: string;
  ecMinVolumeSizeBytes: number;
  preservationMode: boolean;
}

/** Whether a move goes to the EC tier, and why (or why not). */
export type EcTierChoice =
  | { ec: true; ecPolicy: string }
  | {
    ec: false;
    reason: "NotCold" | "NoEcPolicy" | "BelowMinSize" | "PreservationMode";
    detail: string;
  };

/**
 * Cold target + ecPolicyRef + size ≥ ecMinVolumeSizeBytes → the EC tier instead of a cold
 * replica. Preservation mode keeps replicas (the EC tier retires them), so it stays a replica.
 */
export function chooseEcTier(spec: EcTierSpec, target: Tier, sizeBytes: number): EcTierChoice {
  if (target !== "cold") return { ec: false, reason: "NotCold", detail: `target is ${target}` };
  if (!spec.ecPolicyRef) {
    return { ec: false, reason: "NoEcPolicy", detail: "the policy sets no ecPolicyRef" };
  }
  if (sizeBytes < spec.ecMinVolumeSizeBytes) {
    return {
      ec: false,
      reason: "BelowMinSize",
      detail: `${sizeBytes} bytes < ecMinVolumeSizeBytes ${spec.ecMinVolumeSizeBytes}`,
    };
  }
  if (spec.preservationMode) {
    return {
      ec: false,
      reason: "PreservationMode",
      detail: "preservation mode never retires replicas, so cold volumes keep one",
    };
  }
  return { ec: true, ecPolicy: spec.ecPolicyRef };
}

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
  coldSelector: LabelSelector,
  topologyKey: string,
  need: number,
): ShardPoolChoice {
  const best = new Map<string, Pool>();
  for (const p of pools) {
    if (p.status !== "Online" || !matchesLabelSelector(coldSelector, p.labels)) continue;
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
 * Pools for a rehydrated volume's replicas: Online pools the tier's selector matches with room
 * for the volume, one per node, most free first, at most `count`.
 */
export function chooseRehydrationPools(
  pools: readonly Pool[],
  selector: LabelSelector,
  sizeBytes: number,
  count: number,
): string[] {
  const byNode = new Map<string, Pool>();
  for (const p of pools) {
    if (p.status !== "Online" || !matchesLabelSelector(selector, p.labels)) continue;
    if (free(p) < sizeBytes) continue;
    const cur = byNode.get(p.node);
    if (!cur || free(p) > free(cur)) byNode.set(p.node, p);
  }
  return [...byNode.values()].sort((a, b) => free(b) - free(a) || (a.id < b.id ? -1 : 1))
    .slice(0, Math.max(1, count)).map((p) => p.id);
}
