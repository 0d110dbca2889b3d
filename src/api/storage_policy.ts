/**
 * StoragePolicy (`sp`): which volumes CoucheStor watches, the IOPS watermarks
 * that decide their tier, the pools of each tier, and how migrations run.
 */
import { z } from "zod";
import {
  conditionList,
  count,
  durationString,
  GROUP_VERSION,
  LabelSelectorSchema,
  ObjectMetaSchema,
  tierSelector,
  timestamp,
} from "./meta.ts";
import { withRules } from "./rules.ts";

/** Kind name. */
export const STORAGE_POLICY_KIND = "StoragePolicy";

/** Upper bound of every IOPS watermark. */
export const MAX_IOPS = 100_000_000;

/** The size below which a cold volume keeps a replica instead of going to EC (10 GiB). */
export const DEFAULT_EC_MIN_VOLUME_SIZE_BYTES = 10 * 1024 ** 3;

/** Maximum number of entries kept in `status.migrationHistory`. */
export const MIGRATION_HISTORY_LIMIT = 50;

const iops = (what: string, def: number, min: number) =>
  z.number().int().min(min).max(MAX_IOPS).default(def).describe(what);

const storagePolicySpecBase = z.object({
  highWatermarkIOPS: iops(
    "Volumes whose IOPS over the sampling window reach this value move to the hot tier.",
    5000,
    1,
  ),
  warmWatermarkIOPS: iops(
    "Upper edge of the warm band: volumes above the low watermark and at or below this IOPS move to the warm tier (when a warm pool selector exists); between this and the high watermark a volume stays where it is.",
    2000,
    1,
  ),
  lowWatermarkIOPS: iops(
    "Volumes at or below this IOPS for a whole sampling window move to the cold tier.",
    500,
    0,
  ),
  samplingWindow: durationString().default("1h").describe(
    "Window over which IOPS are averaged (Prometheus rate() range).",
  ),
  cooldownPeriod: durationString().default("24h").describe(
    "Minimum time between two migrations of the same volume.",
  ),
  storageClassName: z.string().min(1).optional().describe(
    "Only PersistentVolumes of this StorageClass are managed; all Mayastor volumes when unset.",
  ),
  volumeSelector: LabelSelectorSchema.optional().describe(
    "Only PersistentVolumes whose labels match are managed; all when unset.",
  ),
  hotPoolSelector: LabelSelectorSchema.default(() => tierSelector("hot")).describe(
    "DiskPools of the hot tier (NVMe).",
  ),
  warmPoolSelector: LabelSelectorSchema.default(() => tierSelector("warm")).describe(
    "DiskPools of the warm tier (SSD).",
  ),
  coldPoolSelector: LabelSelectorSchema.default(() => tierSelector("cold")).describe(
    "DiskPools of the cold tier (HDD).",
  ),
  maxConcurrentMigrations: z.number().int().min(1).max(64).default(2).describe(
    "Migrations of this policy that may run at the same time.",
  ),
  migrationTimeout: durationString().optional().describe(
    "A migration not finished after this long is rolled back; unset, the operator's " +
      "--migration-timeout applies (30m by default).",
  ),
  enabled: z.boolean().default(true).describe(
    "When false the policy is observed but never migrates anything.",
  ),
  dryRun: z.boolean().default(false).describe(
    "Decide and record migrations (Events, history) without moving any data.",
  ),
  preservationMode: z.boolean().default(false).describe(
    "Add the new replica but never retire the old one (data is only ever added).",
  ),
  ecPolicyRef: z.string().min(1).max(253).optional().describe(
    "Name of the ErasureCodingPolicy that stores this policy's cold volumes as EC stripes; " +
      "cold volumes keep a replica when unset.",
  ),
  ecMinVolumeSizeBytes: count().default(DEFAULT_EC_MIN_VOLUME_SIZE_BYTES).describe(
    "Cold volumes smaller than this keep a replica even when ecPolicyRef is set.",
  ),
  metricsQuery: z.string().min(1).max(4096).optional().describe(
    "PromQL template returning IOPS per volume, labelled pv_name; `{{window}}` is replaced " +
      "by samplingWindow. Defaults to the rate of Mayastor's volume_num_read_ops + " +
      "volume_num_write_ops.",
  ),
}).describe("Desired tiering behaviour.");

/** StoragePolicy spec with the watermark ordering low < warm < high. */
export const StoragePolicySpecSchema = withRules(storagePolicySpecBase, [
  {
    rule: "self.lowWatermarkIOPS < self.warmWatermarkIOPS",
    message: "lowWatermarkIOPS must be less than warmWatermarkIOPS",
    fieldPath: ".lowWatermarkIOPS",
    reason: "FieldValueInvalid",
    check: (s) => s.lowWatermarkIOPS < s.warmWatermarkIOPS,
  },
  {
    rule: "self.warmWatermarkIOPS < self.highWatermarkIOPS",
    message: "warmWatermarkIOPS must be less than highWatermarkIOPS",
    fieldPath: ".warmWatermarkIOPS",
    reason: "FieldValueInvalid",
    check: (s) => s.warmWatermarkIOPS < s.highWatermarkIOPS,
  },
]);

/** StoragePolicy spec after defaults. */
export type StoragePolicySpec = z.infer<typeof StoragePolicySpecSchema>;

/** Where a volume can sit: a replica tier or the erasure-coded cold tier. */
export const PlacementTierSchema = z.enum(["hot", "warm", "cold", "ec"]).describe(
  "hot, warm or cold replica tier, or ec (erasure-coded cold tier).",
);

/** Outcome of one migration. */
export const MigrationResultSchema = z.enum(["Succeeded", "Failed", "RolledBack", "DryRun"])
  .describe("Outcome: Succeeded, Failed, RolledBack or DryRun (decided, not executed).");

/** One entry of the migration history. */
export const MigrationRecordSchema = z.object({
  volume: z.string().min(1).describe("PersistentVolume name (Mayastor volume uuid)."),
  time: timestamp().describe("When the migration finished."),
  from: PlacementTierSchema.describe("Tier the volume left."),
  to: PlacementTierSchema.describe("Tier the volume went to."),
  triggerIOPS: z.number().min(0).describe("IOPS over the sampling window that triggered it."),
  duration: durationString().describe("How long the migration took."),
  result: MigrationResultSchema,
  error: z.string().max(1024).optional().describe("Why it failed, when it failed."),
}).describe("One migration, as recorded in the policy status.");

/** One migration history entry. */
export type MigrationRecord = z.infer<typeof MigrationRecordSchema>;

/** Lifecycle phase of a StoragePolicy. */
export const StoragePolicyPhaseSchema = z.enum(["Pending", "Active", "Disabled", "Error"])
  .describe("Pending (not reconciled yet), Active, Disabled (enabled=false) or Error.");

/** Logical vs stored bytes of the volumes this policy keeps erasure-coded. */
export const EcBytesSchema = z.object({
  logical: count().describe("Bytes of volume data held in EC stripes."),
  stored: count().describe("Bytes those stripes occupy on the cold pools (data + parity)."),
  efficiency: z.number().min(0).max(1).describe(
    "logical / stored (0.667 for 4+2); 0 when nothing is stored.",
  ),
}).describe("Space used by the erasure-coded cold tier of this policy.");

/** StoragePolicy status, written by the controller only. */
export const StoragePolicyStatusSchema = z.object({
  phase: StoragePolicyPhaseSchema.optional(),
  observedGeneration: count().optional().describe("The metadata.generation last reconciled."),
  conditions: conditionList().optional(),
  watchedVolumes: count().optional().describe("Volumes this policy manages."),
  hotVolumes: count().optional().describe("Managed volumes on the hot tier."),
  warmVolumes: count().optional().describe("Managed volumes on the warm tier."),
  coldVolumes: count().optional().describe("Managed volumes on the cold tier (replica or EC)."),
  ecVolumes: count().optional().describe("Managed volumes stored as EC stripes."),
  activeMigrations: count().optional().describe("Migrations running now."),
  totalMigrations: count().optional().describe("Migrations finished since the policy exists."),
  failedMigrations: count().optional().describe("Finished migrations that failed."),
  lastReconcileTime: timestamp().optional().describe("When the controller last reconciled."),
  migrationHistory: z.array(MigrationRecordSchema).max(MIGRATION_HISTORY_LIMIT).optional()
    .describe(`Recent migrations, newest first, at most ${MIGRATION_HISTORY_LIMIT}.`),
  ecBytes: EcBytesSchema.optional(),
}).describe("Observed state of the policy.");

/** StoragePolicy status. */
export type StoragePolicyStatus = z.infer<typeof StoragePolicyStatusSchema>;

/** A StoragePolicy object (cluster-scoped). */
export const StoragePolicySchema = z.object({
  apiVersion: z.literal(GROUP_VERSION),
  kind: z.literal(STORAGE_POLICY_KIND),
  metadata: ObjectMetaSchema,
  spec: StoragePolicySpecSchema.prefault({}),
  status: StoragePolicyStatusSchema.optional(),
}).describe("Tiering policy: moves Mayastor volumes between hot, warm and cold DiskPools by IOPS.");

/** A StoragePolicy after defaults. */
export type StoragePolicy = z.infer<typeof StoragePolicySchema>;
/** A StoragePolicy as a user writes it (defaults optional). */
export type StoragePolicyInput = z.input<typeof StoragePolicySchema>;
