/**
 * The operator's runner of replica moves: starts each move in the background under the shared
 * in-flight registry (one piece of work per volume; the budgets count it), persists it through
 * the move store, hands the finished move to the caller (history, Events) and only then clears
 * its annotation. `resume()` picks up every move found on PVs after a restart, and records the
 * finished ones a crash left unrecorded.
 */
import type { InFlight } from "../machine/inflight.ts";
import { isNotLeader } from "../kube/fence.ts";
import {
  MemoryStateStore,
  StateConflict,
  type UnreadableState,
} from "../machine/pv_state_store.ts";
import { executeMove, type ExecutorDeps, MoveInterrupted } from "./executor.ts";
import { type HistoryEntry, historyEntry } from "./history.ts";
import { CordonLock } from "./cordon_lock.ts";
import { MOVE_CORDON_LABEL, type MoveState } from "./state.ts";
import { isTerminal } from "./step.ts";
import type { MoveStore } from "./store.ts";

/** The in-flight registry's kind for replica moves. */
export const MOVE_KIND = "move";

/** What the runner needs beyond the executor's dependencies. */
export interface MoveRunnerDeps extends Omit<ExecutorDeps, "store"> {
  store: MoveStore;
  inFlight: InFlight;
  /** Before a new move's first action (not on resume): announce it. */
  onStarted?: (state: MoveState) => void | Promise<void>;
  /** Once per finished move, before its annotation is cleared: record it. */
  onFinished?: (entry: HistoryEntry, state: MoveState) => void | Promise<void>;
}

/** Background executor of replica moves. */
export class MoveRunner {
  readonly #d: MoveRunnerDeps;
  readonly #lock: CordonLock;
  /** Moves that stopped on an unexpected error (they resume on the next resume()). */
  readonly errors: { volume: string; error: unknown }[] = [];

  constructor(deps: MoveRunnerDeps) {
    this.#d = deps;
    this.#lock = deps.cordonLock ?? new CordonLock();
  }

  /**
   * Starts a move in the background; false when the volume already has work in flight. It
   * stops between steps when `signal` aborts; its persisted state lets a later leader resume.
   */
  start(state: MoveState, signal: AbortSignal): boolean {
    const d = this.#d;
    return d.inFlight.start(state.volume, { policy: state.policy, kind: MOVE_KIND }, async () => {
      const log = d.logger.child("migration", { policy: state.policy, volume: state.volume });
      // The stuck-move alert compares this deadline with the time.
      const deadline = { policy: state.policy, volume: state.volume };
      if (!state.dryRun) d.metrics?.migrationDeadline.set(deadline, state.deadline / 1000);
      try {
        if (
          !state.dryRun && state.phase === "Planned" && state.current === 0 && !state.scaleIssued
        ) {
          await d.onStarted?.(state);
        }
        const end = await executeMove(state, {
          ...d,
          cordonLock: this.#lock,
          // Dry runs must not touch any PV.
          store: state.dryRun ? new MemoryStateStore<MoveState>() : d.store,
        }, signal);
        await this.#finish(end);
      } catch (e) {
        if (e instanceof MoveInterrupted) {
          log.info("move interrupted; its persisted state resumes it later", {
            phase: e.state.phase,
          });
        } else if (isNotLeader(e)) {
          log.info("not leading any more; the leader resumes the move from its PV", {
            error: e,
          });
        } else if (e instanceof StateConflict) {
          log.error("the move's state on the PV was changed by another writer; left alone", {
            error: e,
          });
        } else {
          this.errors.push({ volume: state.volume, error: e });
          log.error("move stopped by an error; it resumes later", { error: e });
        }
      } finally {
        d.metrics?.migrationDeadline.remove(deadline);
      }
    });
  }

  /** Records a finished move (the callback, the cooldown floor), then clears its annotation. */
  async #finish(s: MoveState): Promise<void> {
    // Completed and dry-run moves start the cooldown; a failed or rolled-back one does not.
    if (s.result === "Succeeded" || s.result === "Preserved" || s.result === "DryRun") {
      this.#d.inFlight.finished(s.volume, s.finishedAt ?? s.updatedAt);
    }
    await this.#d.onFinished?.(historyEntry(s), s);
    if (!s.dryRun) await this.#d.store.clear(s.volume);
  }

  /**
   * On becoming leader, before any new move: resumes every unfinished move found on PVs (in
   * the background, counted against the budgets) and records the finished ones not yet
   * recorded (the operator died between finishing and recording).
   */
  async resume(signal: AbortSignal): Promise<
    { resumed: number; recorded: number; unreadable: UnreadableState[]; uncordoned: string[] }
  > {
    const { states, unreadable } = await this.#d.store.list(signal);
    const uncordoned = await this.#sweepCordons(signal);
    let resumed = 0, recorded = 0;
    for (const m of states) {
      if (isTerminal(m)) {
        await this.#finish(m);
        recorded++;
      } else if (this.start(m, signal)) {
        this.#d.logger.info("resuming move found in flight", { volume: m.volume, phase: m.phase });
        resumed++;
      }
    }
    return { resumed, recorded, unreadable, uncordoned };
  }

  /**
   * Removes CoucheStor's move cordon from every node before any move runs: a window is never
   * open between moves, so any label found was left by a process that died in one (the moves
   * that were in it resume by uncordoning too, which is then a no-op). Mayastor being down
   * does not stop the resume; the moves retry their own uncordon.
   */
  async #sweepCordons(signal: AbortSignal): Promise<string[]> {
    const d = this.#d;
    const release = await this.#lock.acquire(signal);
    const done: string[] = [];
    try {
      for (const n of await d.backend.listNodes(signal)) {
        if (!n.cordonLabels.includes(MOVE_CORDON_LABEL)) continue;
        await d.backend.uncordonNode(n.id, MOVE_CORDON_LABEL, signal);
        done.push(n.id);
      }
      if (done.length) d.logger.warn("removed a move cordon a crashed run left", { nodes: done });
    } catch (e) {
      d.logger.warn("cannot check nodes for a leftover move cordon", { error: e });
    } finally {
      release();
    }
    return done;
  }

  /** Resolves once no move runs. */
  idle(): Promise<void> {
    return this.#d.inFlight.drain(MOVE_KIND);
  }
}
