/**
 * The one driver of persisted state machines (replica moves, EC tier operations): step the pure
 * machine, persist the next state BEFORE performing its action, perform, feed the observation
 * back, until the machine says "none". A crash at any point leaves the last persisted state,
 * from which a later run resumes (or rolls back).
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../observability/log.ts";
import { persistWithRetry } from "./persist.ts";

/** The minimal shape of a persisted machine state. */
export interface MachineState {
  phase: string;
  updatedAt: number;
  error?: string;
}

/** An action; `none` ends the run. */
export interface MachineAction {
  kind: string;
}

/** Where states are persisted (one per key). */
export interface StateSaver<S> {
  save(state: S): Promise<void>;
}

/** One machine, as the driver runs it. */
export interface MachineSpec<S extends MachineState, O, A extends MachineAction> {
  /** Names the state in log lines ("the move state"). */
  what: string;
  /** The pure transition. */
  step(state: S, obs: O, now: number): { state: S; action: A };
  /** Performs one action (never "none") and reports what it saw; never throws. */
  perform(action: A, state: S, signal?: AbortSignal): Promise<O>;
  /** The first observation of a run (a fresh start or a resume). */
  resume: O;
  store: StateSaver<S>;
  /** The error thrown with the last persisted state when the run is aborted. */
  interrupted(state: S): Error;
  /** Called after each save, before its action (tests inject crashes here). */
  afterSave?(state: S, action: A): void | Promise<void>;
}

/** Run settings. */
export interface DriveOptions {
  clock: Clock;
  log: Logger;
  /** Wait between save attempts. */
  retryDelayMs: number;
  /** Attempts to persist one state before giving up; default 10. */
  saveAttempts?: number;
  signal?: AbortSignal;
}

/** Persisted fields that matter: a state that differs only in `updatedAt` is not re-saved. */
function fingerprint(s: MachineState): string {
  return JSON.stringify({ ...s, updatedAt: 0 });
}

/**
 * Drives a machine from `initial` to its end and returns the final state. Aborting the signal
 * stops between steps (throws `spec.interrupted(lastPersisted)`).
 */
export async function driveMachine<S extends MachineState, O, A extends MachineAction>(
  initial: S,
  spec: MachineSpec<S, O, A>,
  o: DriveOptions,
): Promise<S> {
  let state = initial;
  let saved: string | undefined;
  let obs = spec.resume;
  for (;;) {
    const { state: next, action } = spec.step(state, obs, o.clock.now());
    if (next.phase !== state.phase) {
      o.log.info("phase", { from: state.phase, to: next.phase, error: next.error });
    }
    const fp = fingerprint(next);
    if (fp !== saved) {
      await persistWithRetry(() => spec.store.save(next), {
        attempts: o.saveAttempts ?? 10,
        delayMs: o.retryDelayMs,
        clock: o.clock,
        log: o.log,
        what: spec.what,
        signal: o.signal,
        interrupted: () => spec.interrupted(next),
      });
      saved = fp;
    }
    state = next;
    await spec.afterSave?.(state, action);
    if (action.kind === "none") return state;
    if (o.signal?.aborted) throw spec.interrupted(state);
    obs = await spec.perform(action, state, o.signal);
    if (o.signal?.aborted) throw spec.interrupted(state);
  }
}

/** Sleeps on the clock; false when aborted (the caller's loop then stops). */
export async function pause(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  if (ms <= 0) return !signal?.aborted;
  try {
    await clock.sleep(ms, signal);
    return true;
  } catch {
    return false;
  }
}
