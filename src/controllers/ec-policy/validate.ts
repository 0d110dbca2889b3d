/**
 * Validation of an ErasureCodingPolicy as the controller sees it: the zod schema (a cluster may
 * run an older, looser CRD, so the API server's checks are not trusted to have run) and whether
 * the placement can be met by the shard targets the policy's volumes have. Pure.
 */
import {
  type ErasureCodingPolicy,
  ErasureCodingPolicySchema,
  formatFieldPath,
  totalShards,
} from "../../api/mod.ts";
import type { CodeParams } from "../../ec/store/codec.ts";

/** Why a policy is invalid: a condition reason, the offending field and a message naming it. */
export interface PolicyProblem {
  reason: "InvalidSpec" | "PlacementUnsatisfiable";
  field: string;
  message: string;
}

/** Outcome of validation. */
export type PolicyValidation =
  | { ok: true; policy: ErasureCodingPolicy }
  | { ok: false; problem: PolicyProblem };

/** Parses a raw policy object with the zod schema; the first issue becomes the problem. */
export function validatePolicy(raw: unknown): PolicyValidation {
  const parsed = ErasureCodingPolicySchema.safeParse(raw);
  if (parsed.success) return { ok: true, policy: parsed.data };
  const issues = parsed.error.issues;
  const fields = issues.map((i) => formatFieldPath(i.path) || "(object)");
  const message = issues.map((i, n) => `${fields[n]}: ${i.message}`).join("; ");
  return { ok: false, problem: { reason: "InvalidSpec", field: fields[0], message } };
}

/** Shard targets one volume of the policy can place shards on (each is a failure domain). */
export interface VolumeTargets {
  volume: string;
  /** Distinct failure domains among its shard targets. */
  failureDomains: number;
}

/**
 * Checks every volume offers at least one failure domain per shard of a stripe (k + m, plus the
 * local parities of LRC); returns the first shortfall.
 */
export function checkPlacement(
  policy: ErasureCodingPolicy,
  volumes: readonly VolumeTargets[],
): PolicyProblem | null {
  const need = totalShards(policy.spec);
  for (const v of volumes) {
    if (v.failureDomains < need) {
      const shards = policy.spec.algorithm === "LRC"
        ? "dataShards + parityShards + localGroups"
        : "dataShards + parityShards";
      return {
        reason: "PlacementUnsatisfiable",
        field: "spec.placement",
        message: `spec.placement: volume ${v.volume} has ${v.failureDomains} failure domains ` +
          `(shard targets) but ${shards} = ${need} shards each need their own`,
      };
    }
  }
  return null;
}

/** The store's code parameters for a policy (LRC: l = localGroups, g = parityShards). */
export function codeParams(policy: ErasureCodingPolicy): CodeParams {
  const s = policy.spec;
  return s.algorithm === "LRC"
    ? { algorithm: "LRC", k: s.dataShards, l: s.localGroups ?? 1, g: s.parityShards }
    : { algorithm: "ReedSolomon", k: s.dataShards, m: s.parityShards };
}
