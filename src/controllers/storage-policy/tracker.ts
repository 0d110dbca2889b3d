/**
 * The moves this operator is running right now, across every policy: their count per
 * policy and in total (the concurrency budgets), and when each volume last finished a
 * move in this process (a cooldown floor that does not wait for the informer cache, and
 * the only cooldown of dry-run moves, which write nothing).
 */
import type { MoveState } from "../../migration/state.ts";

/** One running move. */
interface Running {
  policy: string;
  done: Promise<void>;
}

/** Running moves by PersistentVolume name. */
export class MoveTracker {
  readonly #running = new Map<string, Running>();
  readonly #finished = new Map<string, number>();

  /** True when a move of this volume is running. */
  has(volume: string): boolean {
    return this.#running.has(volume);
  }

  /** Moves running for the policy. */
  countFor(policy: string): number {
    let n = 0;
    for (const r of this.#running.values()) if (r.policy === policy) n++;
    return n;
  }

  /** Moves running in total. */
  get size(): number {
    return this.#running.size;
  }

  /** Volumes being moved (for display). */
  volumes(): string[] {
    return [...this.#running.keys()];
  }

  /**
   * Runs `work` for the move's volume in the background; `has` stays true until it settles.
   * Refuses (false) when the volume already has a move running.
   */
  start(state: MoveState, work: () => Promise<void>): boolean {
    if (this.#running.has(state.volume)) return false;
    const entry: Running = { policy: state.policy, done: Promise.resolve() };
    this.#running.set(state.volume, entry);
    entry.done = (async () => {
      try {
        await work();
      } finally {
        this.#running.delete(state.volume);
      }
    })();
    return true;
  }

  /** Notes that the volume finished a move at `ms` (kept for the cooldown). */
  finished(volume: string, ms: number): void {
    this.#finished.set(volume, Math.max(ms, this.#finished.get(volume) ?? 0));
  }

  /** When this process last saw the volume finish a move. */
  lastFinished(volume: string): number | undefined {
    return this.#finished.get(volume);
  }

  /** Resolves once every running move has settled. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) {
      await Promise.allSettled([...this.#running.values()].map((r) => r.done));
    }
  }
}
