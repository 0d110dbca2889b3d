/** The last-migration annotation on a PersistentVolume and the cooldown it implies. Pure. */

/** Annotation written on the PV at every completed move (RFC 3339 time). */
export const LAST_MIGRATION_ANNOTATION = "storage.billyronks.io/last-migration";

/**
 * The last-migration time (ms since epoch) from a PV's annotations; undefined when absent
 * or unreadable (an unreadable stamp does not block a volume forever; the caller may log it).
 */
export function lastMigrationFrom(
  annotations: Readonly<Record<string, string>> | undefined,
): number | undefined {
  const raw = annotations?.[LAST_MIGRATION_ANNOTATION];
  if (raw === undefined) return undefined;
  // RFC 3339 only: Date.parse alone would also accept forms like "March 7".
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(raw.trim())) {
    return undefined;
  }
  const t = Date.parse(raw.trim());
  return Number.isFinite(t) ? t : undefined;
}

/** The annotation value for a move finished at `ms`. */
export function formatLastMigration(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Milliseconds of cooldown left at `now` (0 when none). A stamp in the future (clock skew)
 * counts from the stamp, so skew never shortens a cooldown.
 */
export function cooldownRemaining(
  lastMigrationMs: number | undefined,
  cooldownMs: number,
  now: number,
): number {
  if (lastMigrationMs === undefined) return 0;
  return Math.max(0, lastMigrationMs + cooldownMs - now);
}
