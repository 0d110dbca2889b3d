/**
 * Whether a volume bound for the cold tier goes to the erasure-coded cold tier instead of a
 * cold replica. Pure.
 */
import type { Tier } from "../model/storage.ts";

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
