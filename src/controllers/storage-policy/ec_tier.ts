/**
 * The StoragePolicy pass's bridge to the erasure-coded cold tier (src/ectier): an EC-tiered
 * volume counts as cold; a cold-bound volume the policy sends to EC (ecPolicyRef, size ≥
 * ecMinVolumeSizeBytes, not preservation) starts an EC move instead of a replica move; an
 * EC-tiered volume bound for hot or warm is rehydrated. Optional: without a hook the pass is
 * the replica-only pass.
 */
import type { ErasureCodingPolicy } from "../../api/mod.ts";
import type { StoragePolicySpec } from "../../api/storage_policy.ts";
import { parseDuration } from "../../config/duration.ts";
import type { ConditionUpdate } from "../../kube/conditions.ts";
import type { Tier, Volume } from "../../model/storage.ts";
import { chooseEcTier } from "../../ectier/decide.ts";
import type { EcTierPolicy, EcTierRunner } from "../../ectier/runner.ts";

/** What the pass needs to use the EC tier. */
export interface EcTierHook {
  runner: EcTierRunner;
  /** The validated ErasureCodingPolicy of that name; undefined when absent or invalid. */
  ecPolicy(name: string, signal?: AbortSignal): Promise<ErasureCodingPolicy | undefined>;
}

/** Condition type of the EC tier's last refusal (or its success). */
export const EC_TIER_CONDITION = "EcTierReady";

/** The runner's view of a StoragePolicy. */
export function ecTierPolicy(name: string, spec: StoragePolicySpec, preservation: boolean) {
  const p: EcTierPolicy = {
    name,
    spec: {
      ecPolicyRef: spec.ecPolicyRef,
      ecMinVolumeSizeBytes: spec.ecMinVolumeSizeBytes,
      preservationMode: preservation,
      hotPoolSelector: spec.hotPoolSelector,
      warmPoolSelector: spec.warmPoolSelector,
      coldPoolSelector: spec.coldPoolSelector,
      timeoutMs: parseDuration(spec.migrationTimeout),
    },
  };
  return p;
}

/** What routing one planned move did. */
export type EcRoute =
  | { handled: false }
  | { handled: true; started: boolean; condition?: ConditionUpdate };

/**
 * Sends one planned move through the EC tier when it belongs there: rehydration of an
 * EC-tiered volume (to hot/warm), or an EC move of a cold-bound volume. `handled: false` means
 * the ordinary replica move applies.
 */
export async function routeThroughEcTier(
  hook: EcTierHook,
  policy: EcTierPolicy,
  move: { volume: string; to: Tier; iops?: number },
  v: Volume,
  from: Tier | "mixed" | undefined,
  signal?: AbortSignal,
): Promise<EcRoute> {
  const r = hook.runner;
  const iops = Math.round((move.iops ?? 0) * 100) / 100;
  if (r.isEcTiered(move.volume)) {
    if (move.to === "cold") return { handled: true, started: false };
    const res = await r.rehydrate(move.volume, policy, move.to, iops);
    return res.started ? { handled: true, started: true } : {
      handled: true,
      started: false,
      condition: {
        type: EC_TIER_CONDITION,
        status: "False",
        reason: res.reason,
        message: `${move.volume}: ${res.message}`,
      },
    };
  }
  if (move.to !== "cold" || (from !== "hot" && from !== "warm" && from !== "cold")) {
    return { handled: false };
  }
  if (!chooseEcTier(policy.spec, "cold", v.sizeBytes).ec) return { handled: false };
  const ecPolicy = await hook.ecPolicy(policy.spec.ecPolicyRef!, signal);
  if (!ecPolicy) {
    return {
      handled: true,
      started: false,
      condition: {
        type: EC_TIER_CONDITION,
        status: "False",
        reason: "EcPolicyMissing",
        message: `ErasureCodingPolicy ${policy.spec.ecPolicyRef} is missing or invalid`,
      },
    };
  }
  const res = await r.start(
    { name: move.volume, uuid: v.uuid, sizeBytes: v.sizeBytes, tier: from },
    policy,
    ecPolicy,
    iops,
  );
  if (res.started) {
    return {
      handled: true,
      started: true,
      condition: {
        type: EC_TIER_CONDITION,
        status: "True",
        reason: "EcMoveStarted",
        message: `${move.volume} is moving to ${policy.spec.ecPolicyRef}`,
      },
    };
  }
  return {
    handled: true,
    started: false,
    condition: {
      type: EC_TIER_CONDITION,
      status: "False",
      reason: res.reason,
      message: `${move.volume}: ${res.message}`,
    },
  };
}
