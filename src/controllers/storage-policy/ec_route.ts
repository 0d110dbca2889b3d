/**
 * The StoragePolicy pass's bridge to the erasure-coded cold tier (src/ectier): the planner's EC
 * placement under the policy's ErasureCodingPolicy (shard pools in distinct failure domains;
 * replica pools for a restore), and the start of the EC work the pass planned. Without an EC
 * tier in this operator, a policy's ecPolicyRef is reported, never silently ignored.
 */
import { type ErasureCodingPolicy, totalShards } from "../../api/mod.ts";
import type { ConditionUpdate } from "../../kube/conditions.ts";
import { chooseRehydrationPools, chooseShardPools } from "../../ectier/decide.ts";
import type { EcTierRunner } from "../../ectier/runner.ts";
import type { EcPlacer, PlannedEcWork } from "../../tiering/pass.ts";

/** What the pass needs to use the EC tier. */
export interface EcTierHook {
  runner: EcTierRunner;
  /** The validated ErasureCodingPolicy of that name; undefined when absent or invalid. */
  ecPolicy(name: string, signal?: AbortSignal): Promise<ErasureCodingPolicy | undefined>;
}

/** Condition type of the EC tier's state for a policy. */
export const EC_TIER_CONDITION = "EcTierReady";

/** The planner's EC placement under one ErasureCodingPolicy. */
export function ecPlacer(ecPolicy: ErasureCodingPolicy): EcPlacer {
  const spec = ecPolicy.spec;
  const shards = totalShards(spec);
  return {
    archive: (v, pools, tiers) => {
      const c = chooseShardPools(pools, tiers, spec.placement.failureDomainTopologyKey, shards);
      if (!c.ok) return { ok: false, reason: c.reason, message: c.message };
      return { ok: true, pools: c.pools, bytesPerPool: Math.ceil(v.sizeBytes / spec.dataShards) };
    },
    restore: (v, to, pools, tiers) => {
      const chosen = chooseRehydrationPools(pools, tiers, to, v.sizeBytes, v.replicaCount);
      if (chosen.length === 0) {
        return { ok: false, reason: "NoTargetPool", message: `no ${to} pool has room` };
      }
      return { ok: true, pools: chosen, bytesPerPool: v.sizeBytes };
    },
  };
}

/** Why the policy's EC tier can't be used this pass (a condition), or undefined when it can. */
export function ecTierProblem(
  ecPolicyRef: string | undefined,
  hook: EcTierHook | undefined,
  ecPolicy: ErasureCodingPolicy | undefined,
): ConditionUpdate | undefined {
  if (!ecPolicyRef) return undefined;
  if (!hook) {
    return {
      type: EC_TIER_CONDITION,
      status: "False",
      reason: "EcTierUnavailable",
      message: `ecPolicyRef ${ecPolicyRef} is set, but this operator runs no erasure-coded ` +
        "tier (no data mover configured): cold volumes keep a cold replica",
    };
  }
  if (!ecPolicy) {
    return {
      type: EC_TIER_CONDITION,
      status: "False",
      reason: "EcPolicyMissing",
      message: `ErasureCodingPolicy ${ecPolicyRef} is missing or invalid`,
    };
  }
  return undefined;
}

/** Starts one planned EC work item; the condition it leaves (started or refused). */
export function startEcWork(
  hook: EcTierHook,
  policy: string,
  w: PlannedEcWork,
  ecPolicy: ErasureCodingPolicy,
): ConditionUpdate {
  const iops = Math.round((w.outcome.iops ?? 0) * 100) / 100;
  const v = w.volume;
  const res = w.kind === "ec-archive"
    ? hook.runner.start({
      id: w.id,
      policy,
      volume: {
        name: w.pv.pv,
        uuid: v.uuid,
        sizeBytes: v.sizeBytes,
        tier: w.outcome.from as "hot",
      },
      ecPolicy,
      shardPools: w.pools,
      triggerIOPS: iops,
      timeoutMs: w.timeoutMs,
    })
    : hook.runner.rehydrate({
      id: w.id,
      volume: w.pv.pv,
      to: w.to,
      targetPools: w.pools,
      triggerIOPS: iops,
      timeoutMs: w.timeoutMs,
    });
  if (!res.started) {
    return {
      type: EC_TIER_CONDITION,
      status: "False",
      reason: res.reason,
      message: `${w.pv.pv}: ${res.message}`,
    };
  }
  return {
    type: EC_TIER_CONDITION,
    status: "True",
    reason: w.kind === "ec-archive" ? "EcMoveStarted" : "EcRestoreStarted",
    message: w.kind === "ec-archive"
      ? `${w.pv.pv} is moving to ${w.ecPolicy}`
      : `${w.pv.pv} is coming back to ${w.to}`,
  };
}
