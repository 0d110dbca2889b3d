/** Finished moves as history entries (StoragePolicy status.migrationHistory). Pure. */
import { z } from "zod";
import { MoveResult, type MoveState } from "./state.ts";

/** Most entries kept in a policy's history (FR-108). */
export const MAX_HISTORY = 50;

/** One finished move. */
export const HistoryEntry = z.object({
  /** PersistentVolume name. */
  volume: z.string(),
  /** When it finished (RFC 3339). */
  time: z.string(),
  from: z.enum(["hot", "warm", "cold"]),
  to: z.enum(["hot", "warm", "cold"]),
  triggerIOPS: z.number(),
  durationSeconds: z.number(),
  result: MoveResult,
  error: z.string().optional(),
});
/** One finished move. */
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/** The history entry of a finished move. */
export function historyEntry(s: MoveState): HistoryEntry {
  const end = s.finishedAt ?? s.updatedAt;
  return {
    volume: s.volume,
    time: new Date(end).toISOString(),
    from: s.from,
    to: s.to,
    triggerIOPS: s.triggerIOPS,
    durationSeconds: Math.max(0, Math.round((end - s.startedAt) / 100) / 10),
    result: s.result ?? "Failed",
    ...(s.error ? { error: s.error } : {}),
  };
}

/** Prepends an entry, newest first, keeping at most `max`. */
export function appendHistory(
  history: readonly HistoryEntry[],
  entry: HistoryEntry,
  max = MAX_HISTORY,
): HistoryEntry[] {
  return [entry, ...history].slice(0, max);
}

/** The `result` label value of couchestor_migrations_total for a move result. */
export function resultLabel(r: MoveResult): string {
  switch (r) {
    case "Succeeded":
      return "succeeded";
    case "Preserved":
      return "preserved";
    case "DryRun":
      return "dry_run";
    case "RolledBack":
      return "rolled_back";
    case "Failed":
      return "failed";
  }
}
