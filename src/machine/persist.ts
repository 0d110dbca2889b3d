/** Persisting a state machine's next state before acting on it, with retries (moves, EC tier). */
import type { Clock } from "../clock.ts";
import { isNotLeader } from "../kube/fence.ts";
import type { Logger } from "../observability/log.ts";
import { StateConflict } from "./pv_state_store.ts";

/** How to retry one save. */
export interface PersistOptions {
  /** Total attempts (at least 1). */
  attempts: number;
  delayMs: number;
  clock: Clock;
  log: Logger;
  /** Names the state in the retry log line, e.g. "the move state". */
  what: string;
  signal?: AbortSignal;
  /** The error thrown when the wait between attempts is aborted (the work was interrupted). */
  interrupted: () => Error;
}

/**
 * Runs `save` until it succeeds, retrying transient store failures (an API server blip must
 * not strand the work). Nothing may be performed until it resolves; after the last attempt,
 * or when aborted, it throws.
 */
export async function persistWithRetry(
  save: () => Promise<void>,
  o: PersistOptions,
): Promise<void> {
  const attempts = Math.max(1, o.attempts);
  for (let i = 1;; i++) {
    try {
      return await save();
    } catch (e) {
      // Not the leader any more, or another writer owns the state: retrying cannot help.
      if (isNotLeader(e) || e instanceof StateConflict) throw e;
      if (i >= attempts || o.signal?.aborted) throw e;
      o.log.warn(`cannot persist ${o.what}; retrying`, { attempt: i, error: e });
      try {
        await o.clock.sleep(o.delayMs, o.signal);
      } catch {
        throw o.interrupted();
      }
    }
  }
}
