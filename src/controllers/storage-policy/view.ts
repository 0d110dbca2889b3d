/**
 * Pure pieces of the StoragePolicy controller: which PersistentVolumes a policy manages,
 * which policies overlap, the tier of each pool under a policy's selectors, the status
 * counts and the history record of a finished move. No I/O.
 */
import { matchesLabelSelector } from "../../api/selector.ts";
import type {
  MigrationRecord,
  StoragePolicySpec,
  StoragePolicyStatus,
} from "../../api/storage_policy.ts";
import { formatDuration } from "../../config/duration.ts";
import type { Pool, Tier } from "../../model/storage.ts";
import type { HistoryEntry } from "../../migration/history.ts";
import { mayastorVolumeUuid, type PersistentVolume } from "./resources.ts";

/** The controller's name (logs, metrics, Events' reportingController). */
export const CONTROLLER_NAME = "storage-policy";

/** Condition types the controller sets. */
export const CONDITION = {
  ready: "Ready",
  metrics: "MetricsAvailable",
  pools: "PoolsAvailable",
} as const;

/** True when the policy manages this PV: a Mayastor CSI volume of its class and labels. */
export function selectsPv(spec: StoragePolicySpec, pv: PersistentVolume): boolean {
  if (mayastorVolumeUuid(pv) === undefined) return false;
  if (spec.storageClassName && pv.spec?.storageClassName !== spec.storageClassName) return false;
  if (spec.volumeSelector && !matchesLabelSelector(spec.volumeSelector, pv.metadata.labels)) {
    return false;
  }
  return true;
}

/** Another policy, as conflict detection needs it. */
export interface OtherPolicy {
  name: string;
  spec: StoragePolicySpec;
}

/**
 * Names of the other enabled policies that select at least one of `selected` (sorted), and
 * one example volume. Two policies selecting one volume would fight over it: both stop.
 */
export function conflicts(
  selected: readonly PersistentVolume[],
  others: readonly OtherPolicy[],
): { policies: string[]; example?: string } {
  const names = new Set<string>();
  let example: string | undefined;
  for (const o of others) {
    if (!o.spec.enabled) continue;
    const hit = selected.find((pv) => selectsPv(o.spec, pv));
    if (hit) {
      names.add(o.name);
      example ??= hit.metadata.name;
    }
  }
  return { policies: [...names].sort(), example };
}

/**
 * Pool id → tier under the policy's selectors (api LabelSelector semantics); a pool matched
 * by several takes the fastest, so the answer is stable.
 */
export function poolTierMap(pools: readonly Pool[], spec: StoragePolicySpec): Map<string, Tier> {
  const sel: [Tier, StoragePolicySpec["hotPoolSelector"]][] = [
    ["hot", spec.hotPoolSelector],
    ["warm", spec.warmPoolSelector],
    ["cold", spec.coldPoolSelector],
  ];
  const out = new Map<string, Tier>();
  for (const p of pools) {
    for (const [tier, s] of sel) {
      if (matchesLabelSelector(s, p.labels)) {
        out.set(p.id, tier);
        break;
      }
    }
  }
  return out;
}

/** True when some pool carries the warm tier, i.e. the policy has a warm band. */
export function hasWarmTier(tiers: ReadonlyMap<string, Tier>): boolean {
  for (const t of tiers.values()) if (t === "warm") return true;
  return false;
}

/** Volume counts by current tier. */
export interface TierCounts {
  watched: number;
  hot: number;
  warm: number;
  cold: number;
  /** Part-way through a multi-replica move, or on pools of no tier. */
  other: number;
}

/** Counts tiers (undefined = on no tiered pool, "mixed" = part-way). */
export function countTiers(tiers: readonly (Tier | "mixed" | undefined)[]): TierCounts {
  const c: TierCounts = { watched: tiers.length, hot: 0, warm: 0, cold: 0, other: 0 };
  for (const t of tiers) {
    if (t === "hot" || t === "warm" || t === "cold") c[t]++;
    else c.other++;
  }
  return c;
}

/** The status.migrationHistory record of a finished move. */
export function toRecord(e: HistoryEntry): MigrationRecord {
  const rec: MigrationRecord = {
    volume: e.volume,
    time: e.time.replace(/\.\d{3}Z$/, "Z"),
    from: e.from,
    to: e.to,
    triggerIOPS: Math.max(0, Math.round(e.triggerIOPS * 100) / 100),
    duration: formatDuration(Math.round(e.durationSeconds * 1000)),
    // The API has no "Preserved": the move succeeded and kept the old replica too.
    result: e.result === "Preserved" ? "Succeeded" : e.result,
  };
  if (e.error) rec.error = e.error.slice(0, 1024);
  return rec;
}

/** Status after one more finished move: history newest first (at most `max`), counters. */
export function withFinished(
  status: StoragePolicyStatus | undefined,
  rec: MigrationRecord,
  max: number,
): StoragePolicyStatus {
  const s = { ...(status ?? {}) };
  s.migrationHistory = [rec, ...(s.migrationHistory ?? [])].slice(0, max);
  s.totalMigrations = (s.totalMigrations ?? 0) + 1;
  const failed = rec.result === "Failed" || rec.result === "RolledBack";
  s.failedMigrations = (s.failedMigrations ?? 0) + (failed ? 1 : 0);
  return s;
}

/** How often a policy is looked at again: half its window, between 1 s and 5 min. */
export function resyncInterval(windowMs: number): number {
  return Math.min(300_000, Math.max(1_000, Math.round(windowMs / 2)));
}
