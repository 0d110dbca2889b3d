/**
 * Runs one move: performs the pure machine's actions on a VolumeBackend, persisting the
 * state through a MoveStore BEFORE each action, so a restart finds what was about to happen
 * and resumes (or rolls back) from there. Records the finished move and its metrics.
 */
import { persistWithRetry } from "./persist.ts";
import type { Clock } from "../clock.ts";
import { BackendError, type VolumeBackend } from "../mayastor/port.ts";
import type { Logger } from "../observability/log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { type HistoryEntry, historyEntry, resultLabel } from "./history.ts";
import type { MoveState } from "./state.ts";
import { type Action, isTerminal, type Observation, step } from "./step.ts";
import type { MoveStore } from "./store.ts";

/** What the executor needs. */
export interface ExecutorDeps {
  backend: VolumeBackend;
  store: MoveStore;
  clock: Clock;
  logger: Logger;
  /** Receives migrationsTotal and activeMigrations; optional for tools that don't export. */
  metrics?: Metrics;
  /** Wait between observations while a replica rebuilds; 2 s by default. */
  pollIntervalMs?: number;
  /** Attempts to persist one state before giving up (a pollIntervalMs apart); default 10. */
  maxSaveAttempts?: number;
  /** Called once with the history entry when the move reaches a terminal phase. */
  onFinished?: (entry: HistoryEntry, state: MoveState) => void | Promise<void>;
}

/** Thrown (with the last persisted state) when the caller aborts a move mid-way. */
export class MoveInterrupted extends Error {
  constructor(readonly state: MoveState) {
    super(`move of ${state.volume} interrupted in ${state.phase}`);
    this.name = "MoveInterrupted";
  }
}

/** Persisted fields that matter: a state that differs only in `updatedAt` is not re-saved. */
function fingerprint(s: MoveState): string {
  return JSON.stringify({ ...s, updatedAt: 0 });
}

/**
 * Drives a move (new or resumed from the store) to a terminal phase and returns that state.
 * Aborting the signal stops between steps (throws MoveInterrupted); the persisted state
 * then lets a later call resume.
 */
export async function executeMove(
  initial: MoveState,
  deps: ExecutorDeps,
  signal?: AbortSignal,
): Promise<MoveState> {
  const cfg = { pollMs: deps.pollIntervalMs ?? 2000 };
  const log = deps.logger.child("migration", { volume: initial.volume, move: initial.id });
  let state = initial;
  let saved: string | undefined;
  const counted = !isTerminal(state) && !state.dryRun;
  if (counted) deps.metrics?.activeMigrations.inc();
  try {
    let obs: Observation = { kind: "resume" };
    for (;;) {
      const { state: next, action } = step(state, obs, deps.clock.now(), cfg);
      if (next.phase !== state.phase) {
        log.info("move phase", { from: state.phase, to: next.phase, error: next.error });
      }
      const fp = fingerprint(next);
      if (fp !== saved) {
        await saveWithRetry(next, deps, cfg.pollMs, log, signal); // durable before its action
        saved = fp;
      }
      state = next;
      if (action.kind === "none") break;
      if (signal?.aborted) throw new MoveInterrupted(state);
      obs = await perform(action, state, deps, log, signal);
      if (signal?.aborted) throw new MoveInterrupted(state);
    }
  } finally {
    if (counted) deps.metrics?.activeMigrations.dec();
  }
  const entry = historyEntry(state);
  deps.metrics?.migrationsTotal.inc({
    from: state.from,
    to: state.to,
    result: resultLabel(entry.result),
  });
  log.info("move finished", { result: entry.result, seconds: entry.durationSeconds });
  await deps.onFinished?.(entry, state);
  return state;
}

/**
 * Persists a state, retrying transient store failures (an API server blip must not strand a
 * move). Nothing is performed until the save succeeded; after the last attempt it throws.
 */
async function saveWithRetry(
  state: MoveState,
  deps: ExecutorDeps,
  delayMs: number,
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  await persistWithRetry(() => deps.store.save(state), {
    attempts: deps.maxSaveAttempts ?? 10,
    delayMs,
    clock: deps.clock,
    log,
    what: "the move state",
    signal,
    interrupted: () => new MoveInterrupted(state),
  });
}

async function perform(
  action: Exclude<Action, { kind: "none" }>,
  state: MoveState,
  deps: ExecutorDeps,
  log: Logger,
  signal?: AbortSignal,
): Promise<Observation> {
  switch (action.kind) {
    case "observe": {
      if (action.delayMs > 0) {
        try {
          await deps.clock.sleep(action.delayMs, signal);
        } catch {
          return { kind: "resume" }; // aborted: the loop stops right after
        }
      }
      try {
        return { kind: "volume", volume: await deps.backend.getVolume(state.volumeUuid, signal) };
      } catch (e) {
        log.warn("cannot read the volume", { error: e });
        return { kind: "unavailable", error: message(e) };
      }
    }
    case "addReplica":
      try {
        const uuid = await deps.backend.addReplica(action.volumeUuid, action.poolId, signal);
        log.info("replica added", { replica: uuid, pool: action.poolId });
        return { kind: "replicaAdded", replicaUuid: uuid };
      } catch (e) {
        log.warn("addReplica failed", { error: e });
        return { kind: "actionFailed", action: "addReplica", ...failure(e) };
      }
    case "retireReplica":
      try {
        await deps.backend.retireReplica(action.volumeUuid, action.replicaUuid, signal);
        log.info("replica retired", { replica: action.replicaUuid });
        return { kind: "replicaRetired", replicaUuid: action.replicaUuid };
      } catch (e) {
        log.warn("retireReplica failed", { error: e });
        return { kind: "actionFailed", action: "retireReplica", ...failure(e) };
      }
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Backend errors say whether they are retryable; anything else (network) is. */
function failure(e: unknown): { error: string; retryable: boolean } {
  if (e instanceof BackendError) return { error: message(e), retryable: e.retryable };
  return { error: message(e), retryable: true };
}
