/**
 * Runs one replica move: the pure machine (step.ts) driven by the shared save-before-act
 * driver (src/machine/driver.ts), its actions performed on a VolumeBackend. Records the
 * finished move's metrics.
 */
import type { Clock } from "../clock.ts";
import { driveMachine, pause } from "../machine/driver.ts";
import type { StateSaver } from "../machine/driver.ts";
import { BackendError, type VolumeBackend } from "../mayastor/port.ts";
import type { Logger } from "../observability/log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { historyEntry, resultLabel } from "./history.ts";
import type { MoveState } from "./state.ts";
import { type Action, isTerminal, type Observation, step } from "./step.ts";

/** What the executor needs. */
export interface ExecutorDeps {
  backend: VolumeBackend;
  store: StateSaver<MoveState>;
  clock: Clock;
  logger: Logger;
  /** Receives migrationsTotal and activeMigrations; optional for tools that don't export. */
  metrics?: Metrics;
  /** Wait between observations while a replica rebuilds; 2 s by default. */
  pollIntervalMs?: number;
  /** Attempts to persist one state before giving up (a pollIntervalMs apart); default 10. */
  maxSaveAttempts?: number;
  /** Test hook: after each save, before its action (a throw here stops the move there). */
  afterSave?: (state: MoveState, action: Action) => void | Promise<void>;
}

/** Thrown (with the last persisted state) when the caller aborts a move mid-way. */
export class MoveInterrupted extends Error {
  constructor(readonly state: MoveState) {
    super(`move of ${state.volume} interrupted in ${state.phase}`);
    this.name = "MoveInterrupted";
  }
}

/**
 * Drives a move (new or resumed) to a terminal phase and returns that state. Aborting the
 * signal stops between steps (throws MoveInterrupted); the persisted state then lets a later
 * call resume.
 */
export async function executeMove(
  initial: MoveState,
  deps: ExecutorDeps,
  signal?: AbortSignal,
): Promise<MoveState> {
  const cfg = { pollMs: deps.pollIntervalMs ?? 2000 };
  const log = deps.logger.child("migration", { volume: initial.volume, move: initial.id });
  const counted = !isTerminal(initial) && !initial.dryRun;
  if (counted) deps.metrics?.activeMigrations.inc();
  let state: MoveState;
  try {
    state = await driveMachine<MoveState, Observation, Action>(initial, {
      what: "the move state",
      step: (s, o, now) => step(s, o, now, cfg),
      perform: (a, s, sig) => perform(a, s, deps, log, sig),
      resume: { kind: "resume" },
      store: deps.store,
      interrupted: (s) => new MoveInterrupted(s),
      afterSave: deps.afterSave,
    }, {
      clock: deps.clock,
      log,
      retryDelayMs: cfg.pollMs,
      saveAttempts: deps.maxSaveAttempts,
      signal,
    });
  } finally {
    if (counted) deps.metrics?.activeMigrations.dec();
  }
  const entry = historyEntry(state);
  const result = resultLabel(entry.result);
  deps.metrics?.migrationsTotal.inc({ from: state.from, to: state.to, result });
  deps.metrics?.migrationDuration.observe({ result }, entry.durationSeconds);
  log.info("move finished", { result: entry.result, seconds: entry.durationSeconds });
  return state;
}

async function perform(
  action: Action,
  state: MoveState,
  deps: ExecutorDeps,
  log: Logger,
  signal?: AbortSignal,
): Promise<Observation> {
  switch (action.kind) {
    case "observe":
      if (!await pause(deps.clock, action.delayMs, signal)) return { kind: "resume" };
      try {
        return { kind: "volume", volume: await deps.backend.getVolume(state.volumeUuid, signal) };
      } catch (e) {
        log.warn("cannot read the volume", { error: e });
        return { kind: "unavailable", error: message(e) };
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
    case "none":
      return { kind: "resume" };
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
