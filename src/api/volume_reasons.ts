/**
 * Why a volume is where it is: the reasons a policy pass gives each volume (the status view,
 * the `couchestor_volume_decisions` gauge and `couchestor explain`). Pure data.
 */

/** Every reason a volume can carry after a pass, in the order the status lists them. */
export const VOLUME_REASONS = [
  "ConflictingPolicies",
  "InvalidOverride",
  "Faulted",
  "NotOnline",
  "BackingOff",
  "NoTargetPool",
  "ImplausibleMetrics",
  "StaleMetrics",
  "NoMetrics",
  "UnknownTier",
  "Detached",
  "AwaitingApproval",
  "OutsideMoveWindow",
  "ConcurrencyLimit",
  "MigrationInFlight",
  "InCooldown",
  "Pinned",
  "OptedOut",
  "PolicyDisabled",
  "InvalidPolicy",
  "Promote",
  "Demote",
  "WithinBand",
  "AlreadyOnTier",
] as const;

/** One reason a volume carries after a pass. */
export type VolumeReason = (typeof VOLUME_REASONS)[number];

/** What each reason means, for people (status messages, `explain`, the README table). */
export const REASON_HELP: Record<VolumeReason, string> = {
  ConflictingPolicies: "another enabled policy selects this volume too; it is held until one " +
    "policy's selector excludes it",
  InvalidOverride: "a storage.billyronks.io/tier or /tiering annotation has a value CoucheStor " +
    "does not accept; the volume is held until it is fixed (see the Event)",
  Faulted: "Mayastor reports the volume Faulted; nothing is moved until it is repaired",
  NotOnline: "the volume is not Online (Degraded or Unknown); Mayastor accepts a new replica " +
    "only for an Online volume",
  BackingOff: "its last move failed or was rolled back; it is retried when the backoff ends",
  NoTargetPool: "no Online pool of the wanted tier can take it",
  ImplausibleMetrics: "its IOPS reading is negative, not a number or beyond any disk; ignored",
  StaleMetrics: "the IOPS reading is older than the policy allows",
  NoMetrics: "Prometheus has no IOPS series for it (or the read failed); it stays put",
  UnknownTier: "its replicas are on pools that none of the policy's pool selectors match",
  Detached: "no pod uses it (Mayastor has not published it), so it has no IO counters; " +
    "without IOPS it stays put",
  AwaitingApproval: "the policy asks for manual approval (spec.approval: Manual); a proposal " +
    "waits for `couchestor approve`",
  OutsideMoveWindow: "the move waits for the next of the policy's moveWindows",
  ConcurrencyLimit: "it would move, but the policy's or the operator's migration budget is " +
    "spent",
  MigrationInFlight: "a move of this volume is running",
  InCooldown: "it moved recently; the next move waits for cooldownPeriod to pass",
  Pinned: "pinned by the storage.billyronks.io/tier annotation and on that tier",
  OptedOut: "storage.billyronks.io/tiering: disabled; never moved",
  PolicyDisabled: "the policy has enabled: false; volumes are observed, never moved",
  InvalidPolicy: "the policy's watermarks or limits are inconsistent",
  Promote: "moving to a faster tier now",
  Demote: "moving to a slower tier now",
  WithinBand: "its IOPS are between the watermarks (hysteresis): it stays where it is",
  AlreadyOnTier: "it is on the tier its IOPS ask for",
};

/** Position of a reason in the status list (lower = shown first). */
export function reasonRank(r: VolumeReason): number {
  return VOLUME_REASONS.indexOf(r);
}
