/**
 * The per-volume backoff after a move ends: a failed or rolled-back move records one more
 * failure on the PV (`storage.billyronks.io/backoff`), a completed one clears the record. Written
 * before the move's annotation is cleared, so a crash in between never retries at once; writing
 * the same end twice (a crash before the clear) counts it once.
 */
import type { KubeClient } from "../../kube/client.ts";
import { isNotFound } from "../../kube/errors.ts";
import type { MoveState } from "../../migration/state.ts";
import {
  BACKOFF_ANNOTATION,
  backoffDelay,
  DEFAULT_BACKOFF_BASE_MS,
  encodeBackoff,
  readBackoff,
  recordFailure,
} from "../../tiering/backoff.ts";
import { formatDuration } from "../../config/duration.ts";
import { PERSISTENT_VOLUMES, type PersistentVolume } from "./resources.ts";

/**
 * Updates the PV's backoff record for a finished move; returns the Event note's tail for a
 * failure ("; retried in 5m (backoff)"), or "" when nothing backs off.
 */
export async function recordBackoff(
  client: Pick<KubeClient, "patch">,
  pv: PersistentVolume | undefined,
  s: MoveState,
  cooldownMs: number,
): Promise<string> {
  const failed = s.result === "Failed" || s.result === "RolledBack";
  const done = s.result === "Succeeded" || s.result === "Preserved";
  if (!failed && !done) return "";
  const at = s.finishedAt ?? s.updatedAt;
  const prev = readBackoff(pv?.metadata.annotations).record;
  let value: string | null = null;
  let tail = "";
  if (failed) {
    // The same end recorded again (resumed after a crash): not one more failure.
    const rec = prev?.lastFailure === new Date(at).toISOString() ? prev : recordFailure(
      prev,
      s.result as "Failed" | "RolledBack",
      at,
      s.error,
      s.steps.filter((x) => x.landedOn !== undefined).map((x) => x.targetNode),
    );
    value = encodeBackoff(rec);
    const wait = backoffDelay(rec.failures, DEFAULT_BACKOFF_BASE_MS, cooldownMs);
    tail = `; retried in ${formatDuration(wait)} (backoff)`;
  } else if (prev === undefined) {
    return "";
  }
  try {
    await client.patch(PERSISTENT_VOLUMES, s.volume, {
      metadata: { annotations: { [BACKOFF_ANNOTATION]: value } },
    });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  return tail;
}
