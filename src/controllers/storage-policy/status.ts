/**
 * What a StoragePolicy's status says: conditions, tier counts, the history of finished moves,
 * and the writes that put them on the object (status subresource, with retries on conflict).
 */
import {
  MIGRATION_HISTORY_LIMIT,
  type MigrationRecord,
  type StoragePolicyStatus,
} from "../../api/storage_policy.ts";
import type { Clock } from "../../clock.ts";
import { formatDuration } from "../../config/duration.ts";
import type { KubeClient } from "../../kube/client.ts";
import { type Condition, type ConditionUpdate, setCondition } from "../../kube/conditions.ts";
import { isNotFound } from "../../kube/errors.ts";
import type { KubeObject } from "../../kube/resource.ts";
import { updateStatusWithRetry } from "../../kube/status.ts";
import type { HistoryEntry } from "../../migration/history.ts";
import type { Tier } from "../../model/storage.ts";
import type { PlanStatus } from "../../tiering/status_view.ts";
import { STORAGE_POLICIES } from "./resources.ts";

/** The controller's name (logs, metrics, Events' reportingController). */
export const CONTROLLER_NAME = "storage-policy";

/** Condition types the controller sets. */
export const CONDITION = {
  ready: "Ready",
  metrics: "MetricsAvailable",
  pools: "PoolsAvailable",
} as const;

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

/** The status.migrationHistory record of a finished move (`claim`: its PVC, namespace/name). */
export function toRecord(e: HistoryEntry, claim?: string): MigrationRecord {
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
  if (claim) rec.claim = claim;
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

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** One pass's status fields. */
export interface PassStatus {
  phase: NonNullable<StoragePolicyStatus["phase"]>;
  conditions: ConditionUpdate[];
  counts?: TierCounts;
  activeMigrations: number;
  /** The EC tier's figures, when this operator runs one. */
  ec?: { volumes: number; bytes: NonNullable<StoragePolicyStatus["ecBytes"]> };
  /** The per-volume view of a pass that planned (kept from the last one otherwise). */
  view?: PlanStatus;
}

/** Writes a pass's status fields, keeping history and counters; a deleted policy is fine. */
export async function writePassStatus(
  client: KubeClient,
  name: string,
  st: PassStatus,
  clock: Clock,
  signal?: AbortSignal,
): Promise<void> {
  const now = clock.now();
  try {
    await updateStatusWithRetry<KubeObject>(client, STORAGE_POLICIES, name, (cur) => {
      const prev = (cur.status ?? {}) as StoragePolicyStatus;
      const gen = cur.metadata.generation;
      let list = prev.conditions as Condition[] | undefined;
      for (const c of st.conditions) {
        list = setCondition(list, { ...c, observedGeneration: gen }, new Date(now));
      }
      const next: StoragePolicyStatus = {
        ...prev,
        phase: st.phase,
        conditions: list as StoragePolicyStatus["conditions"],
        activeMigrations: st.activeMigrations,
        lastReconcileTime: iso(now),
      };
      if (gen !== undefined) next.observedGeneration = gen;
      if (st.view) Object.assign(next, st.view);
      if (st.ec) {
        next.ecBytes = st.ec.bytes;
        next.ecVolumes = st.ec.volumes;
      }
      if (st.counts) {
        next.watchedVolumes = st.counts.watched;
        next.hotVolumes = st.counts.hot;
        next.warmVolumes = st.counts.warm;
        next.coldVolumes = st.counts.cold;
      }
      return next;
    }, { clock, signal });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/**
 * Adds a finished move to the policy's history and counters (once: a record already there is
 * not added again, so a crash between recording and clearing does not count a move twice).
 */
export async function recordHistory(
  client: KubeClient,
  policy: string,
  entry: HistoryEntry,
  activeMigrations: number,
  clock: Clock,
  claim?: string,
): Promise<void> {
  const rec = toRecord(entry, claim);
  try {
    await updateStatusWithRetry<KubeObject>(client, STORAGE_POLICIES, policy, (cur) => {
      const prev = cur.status as StoragePolicyStatus | undefined;
      if (prev?.migrationHistory?.some((h) => sameRecord(h, rec))) return undefined;
      return { ...withFinished(prev, rec, MIGRATION_HISTORY_LIMIT), activeMigrations };
    }, { clock });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

function sameRecord(a: MigrationRecord, b: MigrationRecord): boolean {
  return a.volume === b.volume && a.time === b.time && a.to === b.to && a.result === b.result;
}
