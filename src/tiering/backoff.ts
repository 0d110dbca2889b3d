/**
 * Per-volume backoff after a failed or rolled-back move: the volume is not tried again until
 * base · 2^(failures−1) has passed since the last failure, capped at the policy's cooldown.
 * The state is a small record on the PersistentVolume (annotation below), so a restarted or
 * newly elected operator keeps backing off. Pure: time is passed in.
 */
import { z } from "zod";

/** PV annotation holding the backoff record (JSON). */
export const BACKOFF_ANNOTATION = "storage.billyronks.io/backoff";

/** The first retry waits this long (then 2×, 4×, … up to the cooldown). */
export const DEFAULT_BACKOFF_BASE_MS = 5 * 60_000;

/** The record persisted on the PV after each failed or rolled-back move. */
export const BackoffRecordSchema = z.object({
  /** Failed or rolled-back moves in a row (reset by a success). */
  failures: z.number().int().min(1).max(1_000_000),
  /** When the last one ended (RFC 3339). */
  lastFailure: z.iso.datetime({ offset: true }),
  /** How it ended. */
  lastResult: z.enum(["Failed", "RolledBack"]),
  /** Why, shortened. */
  error: z.string().max(256).optional(),
  /**
   * Nodes where the control plane put a new replica on another pool than the move's (a node
   * with pools of several tiers: cordons steer nodes, not pools). The next plan tries other
   * nodes first.
   */
  avoidNodes: z.array(z.string().max(253)).max(16).optional(),
});

/** A backoff record. */
export type BackoffRecord = z.infer<typeof BackoffRecordSchema>;

/** Reads the record from a PV's annotations: none, a record, or a problem (ignored, logged). */
export function readBackoff(
  annotations: Readonly<Record<string, string>> | undefined,
): { record?: BackoffRecord; problem?: string } {
  const text = annotations?.[BACKOFF_ANNOTATION];
  if (text === undefined) return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: `${BACKOFF_ANNOTATION} is not JSON; ignored until the next failure` };
  }
  const r = BackoffRecordSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    return {
      problem: `${BACKOFF_ANNOTATION}: ${first.path.join(".") || "(value)"}: ${first.message}; ` +
        "ignored until the next failure",
    };
  }
  return { record: r.data };
}

/** The record after one more failure at `nowMs` (a fresh one when `prev` is undefined). */
export function recordFailure(
  prev: BackoffRecord | undefined,
  result: BackoffRecord["lastResult"],
  nowMs: number,
  error?: string,
  avoidNodes: readonly string[] = [],
): BackoffRecord {
  const rec: BackoffRecord = {
    failures: Math.min(1_000_000, (prev?.failures ?? 0) + 1),
    lastFailure: new Date(nowMs).toISOString(),
    lastResult: result,
  };
  if (error) rec.error = error.slice(0, 256);
  // The newest first, at most 16: an old landing matters less than the last one.
  const avoid = [...new Set([...avoidNodes, ...(prev?.avoidNodes ?? [])])].slice(0, 16);
  if (avoid.length > 0) rec.avoidNodes = avoid;
  return rec;
}

/** The annotation value of a record. */
export function encodeBackoff(rec: BackoffRecord): string {
  return JSON.stringify(BackoffRecordSchema.parse(rec));
}

/** How long the volume waits after `failures` failures: base·2^(n−1), at most `capMs`. */
export function backoffDelay(failures: number, baseMs: number, capMs: number): number {
  if (failures < 1) return 0;
  // 2^40 already exceeds any cap; stop doubling there so the number stays finite.
  return Math.min(Math.max(0, capMs), baseMs * 2 ** Math.min(failures - 1, 40));
}

/**
 * Backoff left at `nowMs` (0 when none). A failure stamped in the future (clock skew) counts
 * from the stamp, so skew never shortens a backoff.
 */
export function backoffRemaining(
  rec: BackoffRecord | undefined,
  opts: { baseMs: number; capMs: number },
  nowMs: number,
): number {
  if (!rec) return 0;
  const last = Date.parse(rec.lastFailure);
  const until = last + backoffDelay(rec.failures, opts.baseMs, opts.capMs);
  return Math.max(0, until - nowMs);
}
