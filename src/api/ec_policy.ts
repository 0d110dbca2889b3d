/**
 * ErasureCodingPolicy (`ecp`): how cold volumes are cut into k data + m parity
 * shards (Reed-Solomon, or LRC with local parity groups), where the shards go,
 * how writes are journalled and how often stripes are scrubbed.
 */
import { z } from "zod";
import {
  conditionList,
  count,
  durationString,
  GROUP_VERSION,
  ObjectMetaSchema,
  timestamp,
} from "./meta.ts";
import { withRules } from "./rules.ts";

/** Kind name. */
export const EC_POLICY_KIND = "ErasureCodingPolicy";

/** GF(2^8) codes have at most 255 shards per stripe. */
export const MAX_TOTAL_SHARDS = 255;
/** Smallest stripe (64 KiB). */
export const MIN_STRIPE_SIZE_BYTES = 64 * 1024;
/** Largest stripe (64 MiB). */
export const MAX_STRIPE_SIZE_BYTES = 64 * 1024 * 1024;
/** Default stripe (1 MiB). */
export const DEFAULT_STRIPE_SIZE_BYTES = 1024 * 1024;

/** Erasure code families. */
export const EcAlgorithmSchema = z.enum(["ReedSolomon", "LRC"]).describe(
  "ReedSolomon (any m losses) or LRC (local parity groups: single losses repaired from a group).",
);

/** Write journal in front of the stripes. */
export const JournalSpecSchema = z.object({
  sizeBytes: count().min(16 * 1024 * 1024).default(1024 ** 3).describe(
    "Journal capacity; writes block when it is full.",
  ),
  destageThresholdPercent: z.number().int().min(1).max(100).default(80).describe(
    "Destaging to stripes starts when the journal is this full.",
  ),
  destageInterval: durationString().default("30s").describe(
    "Destaging also runs this often whatever the fill level.",
  ),
}).describe("Write journal: writes land here and are destaged into full stripes.");

/** Background verification of stripes. */
export const ScrubSpecSchema = z.object({
  enabled: z.boolean().default(true).describe("Verify shard checksums in the background."),
  interval: durationString().default("7d").describe("Each stripe is verified this often."),
  bandwidthLimitBytesPerSecond: count().default(50 * 1024 * 1024).describe(
    "Read bandwidth the scrubber may use; 0 means unlimited.",
  ),
}).describe("Background scrubbing.");

/** Where shards are placed. */
export const PlacementSpecSchema = z.object({
  failureDomainTopologyKey: z.string().min(1).max(317).default("kubernetes.io/hostname")
    .describe(
      "Node label whose values are failure domains; each shard of a stripe goes to a " +
        "different one.",
    ),
}).describe("Shard placement.");

/** Total shards of one stripe: data, global parity and (for LRC) one local parity per group. */
export function totalShards(
  spec: { dataShards: number; parityShards: number; algorithm: string; localGroups?: number },
): number {
  return spec.dataShards + spec.parityShards +
    (spec.algorithm === "LRC" ? spec.localGroups ?? 0 : 0);
}

/** Healthy shards a stripe needs to stay writable: minHealthyShards, or dataShards when unset. */
export function effectiveMinHealthyShards(
  spec: { dataShards: number; minHealthyShards?: number },
): number {
  return spec.minHealthyShards ?? spec.dataShards;
}

/** Fraction of stored bytes that is data: dataShards / total shards (0.667 for 4+2, 0.75 for 12+2+2). */
export function storageEfficiency(
  spec: { dataShards: number; parityShards: number; algorithm: string; localGroups?: number },
): number {
  return spec.dataShards / totalShards(spec);
}

const ecPolicySpecBase = z.object({
  dataShards: z.number().int().min(1).max(MAX_TOTAL_SHARDS - 1).default(4).describe(
    "k: data shards per stripe.",
  ),
  parityShards: z.number().int().min(1).max(MAX_TOTAL_SHARDS - 1).default(2).describe(
    "m: (global) parity shards per stripe; any m shards may be lost.",
  ),
  algorithm: EcAlgorithmSchema.default("ReedSolomon"),
  localGroups: z.number().int().min(1).max(MAX_TOTAL_SHARDS - 1).optional().describe(
    "LRC only: number of local groups (one local parity each); must divide dataShards.",
  ),
  stripeSizeBytes: z.number().int().min(MIN_STRIPE_SIZE_BYTES).max(MAX_STRIPE_SIZE_BYTES)
    .default(DEFAULT_STRIPE_SIZE_BYTES).describe("Bytes of volume data per stripe."),
  journal: JournalSpecSchema.prefault({}),
  minHealthyShards: z.number().int().min(1).max(MAX_TOTAL_SHARDS).optional().describe(
    "Below this many healthy shards a stripe is Failed for writes; defaults to dataShards. " +
      "At least dataShards.",
  ),
  scrub: ScrubSpecSchema.prefault({}),
  placement: PlacementSpecSchema.prefault({}),
}).describe("Desired erasure coding.");

/** ErasureCodingPolicy spec with its cross-field rules. */
export const ErasureCodingPolicySpecSchema = withRules(ecPolicySpecBase, [
  {
    rule: "self.algorithm != 'LRC' || has(self.localGroups)",
    message: "localGroups is required when algorithm is LRC",
    fieldPath: ".localGroups",
    reason: "FieldValueRequired",
    check: (s) => s.algorithm !== "LRC" || s.localGroups !== undefined,
  },
  {
    rule: "self.algorithm == 'LRC' || !has(self.localGroups)",
    message: "localGroups applies to algorithm LRC only",
    fieldPath: ".localGroups",
    reason: "FieldValueForbidden",
    check: (s) => s.algorithm === "LRC" || s.localGroups === undefined,
  },
  {
    rule: "!has(self.localGroups) || self.dataShards % self.localGroups == 0",
    message: "localGroups must divide dataShards",
    fieldPath: ".localGroups",
    reason: "FieldValueInvalid",
    check: (s) => s.localGroups === undefined || s.dataShards % s.localGroups === 0,
  },
  {
    rule: "self.dataShards + self.parityShards + " +
      "(self.algorithm == 'LRC' && has(self.localGroups) ? self.localGroups : 0) <= 255",
    message: "dataShards + parityShards (+ localGroups for LRC) must be at most 255",
    fieldPath: ".parityShards",
    reason: "FieldValueInvalid",
    check: (s) => totalShards(s) <= MAX_TOTAL_SHARDS,
  },
  {
    rule: "!has(self.minHealthyShards) || self.minHealthyShards >= self.dataShards",
    message: "minHealthyShards must be at least dataShards",
    fieldPath: ".minHealthyShards",
    reason: "FieldValueInvalid",
    check: (s) => s.minHealthyShards === undefined || s.minHealthyShards >= s.dataShards,
  },
  {
    rule: "!has(self.minHealthyShards) || self.minHealthyShards <= self.dataShards + " +
      "self.parityShards + (self.algorithm == 'LRC' && has(self.localGroups) ? self.localGroups : 0)",
    message: "minHealthyShards must not exceed the total number of shards",
    fieldPath: ".minHealthyShards",
    reason: "FieldValueInvalid",
    check: (s) => s.minHealthyShards === undefined || s.minHealthyShards <= totalShards(s),
  },
]);

/** ErasureCodingPolicy spec after defaults. */
export type ErasureCodingPolicySpec = z.infer<typeof ErasureCodingPolicySpecSchema>;

/** Lifecycle phase of an ErasureCodingPolicy. */
export const EcPolicyPhaseSchema = z.enum(["Pending", "Ready", "Degraded", "Invalid"]).describe(
  "Pending, Ready (all stripes healthy), Degraded (some stripes need repair) or Invalid.",
);

/** Stripe counts by state. */
export const StripeCountsSchema = z.object({
  total: count().describe("All stripes written under this policy."),
  healthy: count().describe("Stripes with every shard healthy."),
  degraded: count().describe("Stripes missing shards but still readable."),
  rebuilding: count().describe("Stripes whose missing shards are being rebuilt."),
  failed: count().describe("Stripes with fewer than dataShards healthy shards."),
}).describe("Stripes of this policy by state.");

/** ErasureCodingPolicy status, written by the controller only. */
export const ErasureCodingPolicyStatusSchema = z.object({
  phase: EcPolicyPhaseSchema.optional(),
  observedGeneration: count().optional().describe("The metadata.generation last reconciled."),
  conditions: conditionList().optional(),
  stripes: StripeCountsSchema.optional(),
  storageEfficiency: z.number().min(0).max(1).optional().describe(
    "dataShards / total shards: the fraction of stored bytes that is data (0.667 for 4+2).",
  ),
  lastScrubTime: timestamp().optional().describe("When the last full scrub finished."),
}).describe("Observed state of the policy and its stripes.");

/** ErasureCodingPolicy status. */
export type ErasureCodingPolicyStatus = z.infer<typeof ErasureCodingPolicyStatusSchema>;

/** An ErasureCodingPolicy object (cluster-scoped). */
export const ErasureCodingPolicySchema = z.object({
  apiVersion: z.literal(GROUP_VERSION),
  kind: z.literal(EC_POLICY_KIND),
  metadata: ObjectMetaSchema,
  spec: ErasureCodingPolicySpecSchema.prefault({}),
  status: ErasureCodingPolicyStatusSchema.optional(),
}).describe("Erasure coding parameters for the cold tier.");

/** An ErasureCodingPolicy after defaults. */
export type ErasureCodingPolicy = z.infer<typeof ErasureCodingPolicySchema>;
/** An ErasureCodingPolicy as a user writes it. */
export type ErasureCodingPolicyInput = z.input<typeof ErasureCodingPolicySchema>;
