/**
 * Runs many moves at once and answers the questions the tiering decision asks: which volumes
 * are moving, and how many moves each policy (and the operator as a whole) has in flight.
 * On start-up `resume()` picks up every unfinished move found in the store; calling it again
 * later (e.g. every reconcile) restarts any move that stopped on an error (`errors`), since
 * it only starts volumes that are not already running.
 */
import { executeMove, type ExecutorDeps, MoveInterrupted } from "./executor.ts";
import type { MoveState } from "./state.ts";
import { isTerminal } from "./step.ts";

/** Options beyond the executor's dependencies. */
export interface MoveRunnerOptions {
  /** Forget a move in the store once onFinished has recorded it. Default true. */
  clearFinished?: boolean;
}

interface Running {
  policy: string;
  done: Promise<void>;
}

/** Background executor of moves with in-flight accounting. */
export class MoveRunner {
  readonly #deps: ExecutorDeps;
  readonly #clear: boolean;
  readonly #running = new Map<string, Running>();
  readonly #ac = new AbortController();
  /** Moves that ended in an unexpected error (not an interruption), newest last. */
  readonly errors: { volume: string; error: unknown }[] = [];

  constructor(deps: ExecutorDeps, opts: MoveRunnerOptions = {}) {
    this.#deps = deps;
    this.#clear = opts.clearFinished ?? true;
  }

  /** True while a move of this volume runs. */
  isMoving(volume: string): boolean {
    return this.#running.has(volume);
  }

  /** Moves in flight, of one policy or (without an argument) of all. */
  inFlight(policy?: string): number {
    if (policy === undefined) return this.#running.size;
    let n = 0;
    for (const r of this.#running.values()) if (r.policy === policy) n++;
    return n;
  }

  /**
   * Starts a move in the background. Returns false (and does nothing) when the volume
   * already moves or the runner was stopped.
   */
  start(state: MoveState): boolean {
    if (this.#ac.signal.aborted || this.#running.has(state.volume)) return false;
    const done = this.#run(state);
    this.#running.set(state.volume, { policy: state.policy, done });
    return true;
  }

  async #run(state: MoveState): Promise<void> {
    try {
      const end = await executeMove(state, this.#deps, this.#ac.signal);
      if (this.#clear && isTerminal(end)) await this.#deps.store.clear(end.volume);
    } catch (e) {
      if (!(e instanceof MoveInterrupted)) {
        this.errors.push({ volume: state.volume, error: e });
        this.#deps.logger.error("move stopped by an error; it resumes on restart", {
          volume: state.volume,
          error: e,
        });
      }
    } finally {
      this.#running.delete(state.volume);
    }
  }

  /**
   * After a restart: starts every unfinished move in the store, and passes the finished ones
   * not yet cleared (the operator died between finishing and recording) through onFinished
   * again. Returns how many of each, and which states were unreadable (left untouched).
   */
  async resume(): Promise<
    { resumed: number; recorded: number; unreadable: { key: string; error: string }[] }
  > {
    const { moves, unreadable } = await this.#deps.store.list(this.#ac.signal);
    let resumed = 0;
    let recorded = 0;
    for (const m of moves) {
      if (!this.start(m)) continue;
      if (isTerminal(m)) recorded++;
      else resumed++;
    }
    return { resumed, recorded, unreadable };
  }

  /** Resolves once no move runs. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) {
      await Promise.all([...this.#running.values()].map((r) => r.done));
    }
  }

  /** Interrupts every move between steps (their states stay persisted) and waits for them. */
  async stop(): Promise<void> {
    this.#ac.abort(new Error("runner stopped"));
    await this.idle();
  }
}
