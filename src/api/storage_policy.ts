/**
 * StoragePolicy (`sp`): which volumes CoucheStor watches, the IOPS watermarks
 * that decide their tier, the pools of each tier, and how migrations run.
 */
import { z } from "zod";
import { parseDuration } from "../config/duration.ts";
import { VOLUME_REASONS } from "./volume_reasons.ts";
import { MOVE_WINDOW_MAX_LENGTH, MOVE_WINDOW_PATTERN, parseMoveWindow } from "./move_windows.ts";
import {
  boundedList,
  conditionList,
  count,
  durationString,
  GROUP_VERSION,
  LabelSelectorSchema,
  ObjectMetaSchema,
  TierSchema,
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

/** Maximum number of entries in `status.volumeDecisions` (the most relevant are kept). */
export const VOLUME_DECISIONS_LIMIT = 50;

/** Maximum number of entries in `status.proposals`. */
export const PROPOSALS_LIMIT = 50;

/** Maximum number of `spec.moveWindows`. */
export const MOVE_WINDOWS_LIMIT = 16;

/** The shortest `migrationTimeout` accepted; shorter ones roll every move back at once. */
export const MIN_MIGRATION_TIMEOUT = "1m";

/** How a policy's planned moves start. */
export const ApprovalModeSchema = z.enum(["Auto", "Manual"]).describe(
  "Auto: planned moves start on their own. Manual: each becomes a proposal in " +
    "status.proposals and starts only once approved (`couchestor approve`).",
);

/**
 * One move window (`Sat-Sun 01:00-06:00 Europe/Paris`): the CRD checks the syntax (pattern)
 * and that start and end differ (CEL); zod runs the parser, which also knows the zone names.
 */
const moveWindowString = () =>
  withRules(
    // The parser checks the length too, so zod names a too-long window once.
    z.string().superRefine((text, ctx) => {
      const r = parseMoveWindow(text);
      if (!r.ok) ctx.addIssue({ code: "custom", message: r.message });
    }).meta({ pattern: MOVE_WINDOW_PATTERN, maxLength: MOVE_WINDOW_MAX_LENGTH }),
    [{
      rule: "self.split(' ')[1].split('-')[0] != self.split(' ')[1].split('-')[1]",
      message: "a move window's start and end must differ",
      fieldPath: "",
      reason: "FieldValueInvalid",
      check: (text) => {
        const [start, end] = text.split(" ")[1]?.split("-") ?? [];
        return start !== end;
      },
    }],
  ).describe(
    "A weekly window: DAYS HH:MM-HH:MM ZONE, e.g. `Sat-Sun 01:00-06:00 Europe/Paris` " +
      "(days Mon..Sun as a list and/or ranges, 24-hour times, the end may be 24:00 or " +
      "earlier than the start to cross midnight, an IANA time zone).",
  );

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
    "Only PersistentVolumes whose labels match are managed; all when unset. Dynamically " +
      "provisioned PVs carry no labels: select them with claimSelector or namespaceSelector.",
  ),
  claimSelector: LabelSelectorSchema.optional().describe(
    "Only volumes whose bound PersistentVolumeClaim's labels match are managed (a PV " +
      "without a bound claim never matches); all when unset.",
  ),
  namespaceSelector: LabelSelectorSchema.optional().describe(
    "Only volumes whose claim is in a namespace whose labels match are managed (a PV " +
      "without a bound claim never matches); all when unset.",
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
    `A migration not finished after this long is rolled back; at least ${MIN_MIGRATION_TIMEOUT}. ` +
      "Unset, the operator's --migration-timeout applies (30m by default).",
  ),
  approval: ApprovalModeSchema.default("Auto"),
  approvalTTL: durationString().default("24h").describe(
    "How long a proposal (approval: Manual) lives: one not approved and started within " +
      "this time from its creation expires and is dropped.",
  ),
  moveWindows: boundedList(moveWindowString(), MOVE_WINDOWS_LIMIT, "windows").optional().describe(
    "When set, a move starts only while one of these weekly windows is open (a running " +
      "move finishes); always when unset.",
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
  ecMinDetachedFor: durationString().default("1h").describe(
    "A cold volume is archived to erasure-coded stripes only after no pod has used it " +
      "(no VolumeAttachment, Mayastor volume unpublished) for at least this long.",
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
  {
    // CEL's duration() is Go's time.ParseDuration, which has no day unit. Reading `d` as `h`
    // can only make a value smaller, so what passes is at least 1m; the zod check reads the
    // text the same way, so both validators reject exactly the same values.
    rule: "!has(self.migrationTimeout) || " +
      `duration(self.migrationTimeout.replace('d', 'h')) >= duration('${MIN_MIGRATION_TIMEOUT}')`,
    message: `migrationTimeout must be at least ${MIN_MIGRATION_TIMEOUT} (a shorter one rolls ` +
      "every move back and retries it in a loop)",
    fieldPath: ".migrationTimeout",
    reason: "FieldValueInvalid",
    check: (s) =>
      s.migrationTimeout === undefined ||
      parseDuration(s.migrationTimeout.replaceAll("d", "h")) >=
        parseDuration(MIN_MIGRATION_TIMEOUT),
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

/** A PersistentVolumeClaim as `namespace/name`. */
const claimName = () =>
  z.string().min(3).max(317).describe("The volume's PersistentVolumeClaim, as namespace/name.");

/** One entry of the migration history. */
export const MigrationRecordSchema = z.object({
  volume: z.string().min(1).describe("PersistentVolume name (Mayastor volume uuid)."),
  claim: claimName().optional(),
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

/** Why a volume is where it is after a pass. */
export const VolumeReasonSchema = z.enum(VOLUME_REASONS).describe(
  "Why the volume is not where its IOPS bands say (see the README, " +
    '"Why isn\'t my volume moving?").',
);

/** Where a volume's replicas are, as the status shows it. */
const CurrentTierSchema = z.enum(["hot", "warm", "cold", "ec", "mixed"]).describe(
  "hot, warm, cold, ec (erasure-coded) or mixed (replicas on several tiers).",
);

/** One volume that is not where its bands say, and why. */
export const VolumeDecisionSchema = z.object({
  volume: z.string().min(1).describe("PersistentVolume name."),
  claim: claimName().optional(),
  iops: z.number().min(0).optional().describe("IOPS over the sampling window, when known."),
  currentTier: CurrentTierSchema.optional(),
  wantedTier: TierSchema.optional().describe(
    "The tier its IOPS bands (or its pin) ask for, when known.",
  ),
  reason: VolumeReasonSchema,
  timeLeft: durationString().optional().describe(
    "How long until the reason lifts (InCooldown, BackingOff, OutsideMoveWindow, " +
      "AwaitingApproval).",
  ),
  message: z.string().max(512).optional().describe("Details for people."),
}).describe("A volume held back from the tier its IOPS ask for, with the reason.");

/** One entry of status.volumeDecisions. */
export type VolumeDecision = z.infer<typeof VolumeDecisionSchema>;

/** Lifecycle of a proposal: Pending → Approved → Started (or dropped when it expires). */
export const ProposalStateSchema = z.enum(["Pending", "Approved", "Started"]).describe(
  "Pending (waits for approval), Approved (starts when the window and budget allow), " +
    "Started.",
);

/** A planned move waiting for approval (spec.approval: Manual). */
export const ProposalSchema = z.object({
  id: z.string().min(1).max(63).describe("Proposal id, as `couchestor approve` names it."),
  volume: z.string().min(1).describe("PersistentVolume name."),
  claim: claimName().optional(),
  from: z.enum(["hot", "warm", "cold", "mixed"]).describe("Tier the volume is on."),
  to: TierSchema.describe("Tier it would move to."),
  targetPool: z.string().min(1).optional().describe("DiskPool the new replica would go to."),
  iops: z.number().min(0).optional().describe("IOPS over the sampling window when proposed."),
  reason: z.enum(["Promote", "Demote"]).describe("Promote (faster tier) or Demote (slower)."),
  message: z.string().max(512).describe("Why: the band or pin that asks for the move."),
  created: timestamp().describe("When it was proposed."),
  expires: timestamp().describe("When it is dropped unless started (created + approvalTTL)."),
  state: ProposalStateSchema,
}).describe("A move proposed for approval.");

/** One entry of status.proposals. */
export type ProposalRecord = z.infer<typeof ProposalSchema>;

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
  volumeDecisions: z.array(VolumeDecisionSchema).max(VOLUME_DECISIONS_LIMIT).optional()
    .describe(
      "Volumes not on the tier their bands ask for, most pressing first, at most " +
        `${VOLUME_DECISIONS_LIMIT}.`,
    ),
  decisionCounts: z.partialRecord(VolumeReasonSchema, count()).optional().describe(
    "How many of the policy's volumes carry each reason after the last pass.",
  ),
  proposals: z.array(ProposalSchema).max(PROPOSALS_LIMIT).optional().describe(
    `Moves proposed for approval (approval: Manual), at most ${PROPOSALS_LIMIT}.`,
  ),
  pendingApprovals: count().optional().describe("Proposals waiting for approval."),
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
