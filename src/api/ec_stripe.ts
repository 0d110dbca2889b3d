/**
 * ECStripe (`ecs`): where the shards of erasure-coded stripes of one volume
 * live (pool, node, offset, size, checksum) and how healthy they are. One
 * object covers a run of consecutive stripes of a volume (an LBA range).
 */
import { z } from "zod";
import { conditionList, count, GROUP_VERSION, ObjectMetaSchema, timestamp } from "./meta.ts";
import { MAX_TOTAL_SHARDS } from "./ec_policy.ts";
import { withRules } from "./rules.ts";

/** Kind name. */
export const EC_STRIPE_KIND = "ECStripe";

/** Role of a shard in its stripe. */
export const ShardKindSchema = z.enum(["Data", "Parity", "LocalParity"]).describe(
  "Data, Parity (global) or LocalParity (LRC group parity).",
);

/** Where one shard is stored. */
export const ShardLocationSchema = z.object({
  index: z.number().int().min(0).max(MAX_TOTAL_SHARDS - 1).describe(
    "Position of the shard in the stripe (data first, then parity).",
  ),
  kind: ShardKindSchema,
  pool: z.string().min(1).describe("DiskPool holding the shard."),
  node: z.string().min(1).describe("Node of that pool."),
  offsetBytes: count().describe("Byte offset of the shard's extent on its target."),
  sizeBytes: count().min(1).describe(
    "Bytes of the shard's extent: stripeCount consecutive shard chunks of the covered stripes.",
  ),
  checksum: z.string().regex(/^[a-z0-9]+:[0-9a-f]+$/).describe(
    "Checksum of the shard's extent as algorithm:hex, e.g. crc32c:1a2b3c4d.",
  ),
}).describe("Location of one shard.");

/** One shard location. */
export type ShardLocation = z.infer<typeof ShardLocationSchema>;

const ecStripeSpecBase = z.object({
  volume: z.string().min(1).describe("PersistentVolume name (Mayastor volume uuid)."),
  policy: z.string().min(1).describe("ErasureCodingPolicy the stripes were written with."),
  stripeId: count().describe("Id of the first stripe covered by this object."),
  stripeCount: z.number().int().min(1).max(65536).default(1).describe(
    "Consecutive stripes covered, from stripeId; keeps a large volume to a few dozen objects.",
  ),
  lbaStart: count().describe("First logical block (512 B) of the volume covered, inclusive."),
  lbaEnd: count().describe("End of the logical block range covered, exclusive."),
  shards: z.array(ShardLocationSchema).min(2).max(MAX_TOTAL_SHARDS).meta({
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["index"],
  }).describe("Every shard of the stripe, one entry per index."),
  generation: count().describe("Data generation; bumped each time the stripe is rewritten."),
}).describe("Placement of the stripe's shards.");

/** ECStripe spec: the LBA range is non-empty and shard indexes lie within the shard list. */
export const ECStripeSpecSchema = withRules(ecStripeSpecBase, [
  {
    rule: "self.lbaStart < self.lbaEnd",
    message: "lbaStart must be less than lbaEnd",
    fieldPath: ".lbaEnd",
    reason: "FieldValueInvalid",
    check: (s) => s.lbaStart < s.lbaEnd,
  },
  {
    rule: "self.shards.all(s, s.index < size(self.shards))",
    message: "shard indexes must be below the number of shards",
    fieldPath: ".shards",
    reason: "FieldValueInvalid",
    check: (s) => s.shards.every((x) => x.index < s.shards.length),
  },
]);

/** ECStripe spec. */
export type ECStripeSpec = z.infer<typeof ECStripeSpecSchema>;

/** Health of a stripe. */
export const StripeStateSchema = z.enum(["Writing", "Healthy", "Degraded", "Rebuilding", "Failed"])
  .describe("Writing, Healthy, Degraded (readable, shards missing), Rebuilding or Failed.");

/** Health of one shard. */
export const ShardHealthSchema = z.object({
  index: z.number().int().min(0).max(MAX_TOTAL_SHARDS - 1).describe("Shard index."),
  state: z.enum(["Healthy", "Missing", "Corrupt", "Rebuilding"]).describe(
    "Healthy, Missing (target gone), Corrupt (checksum mismatch) or Rebuilding.",
  ),
  lastVerified: timestamp().optional().describe("When its checksum was last verified."),
}).describe("Health of one shard.");

/** ECStripe status. */
export const ECStripeStatusSchema = z.object({
  state: StripeStateSchema.optional(),
  observedGeneration: count().optional().describe("The metadata.generation last reconciled."),
  shards: z.array(ShardHealthSchema).max(MAX_TOTAL_SHARDS).optional().meta({
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["index"],
  }).describe("Per-shard health."),
  rebuildProgressPercent: z.number().min(0).max(100).optional().describe(
    "Progress of the running rebuild, 0 to 100.",
  ),
  conditions: conditionList().optional(),
}).describe("Observed health of the stripe.");

/** ECStripe status. */
export type ECStripeStatus = z.infer<typeof ECStripeStatusSchema>;

/** An ECStripe object (cluster-scoped). */
export const ECStripeSchema = z.object({
  apiVersion: z.literal(GROUP_VERSION),
  kind: z.literal(EC_STRIPE_KIND),
  metadata: ObjectMetaSchema,
  spec: ECStripeSpecSchema,
  status: ECStripeStatusSchema.optional(),
}).describe("Erasure-coded stripe metadata: shard placement, checksums and health.");

/** An ECStripe. */
export type ECStripe = z.infer<typeof ECStripeSchema>;
