/**
 * The operator's one registry of work in flight on volumes (replica moves and EC tier
 * operations alike): at most one piece of work per volume, counts per policy and in total (the
 * concurrency budgets), and when each volume last finished in this process (a cooldown floor
 * that does not wait for the informer cache, and the only cooldown of dry runs).
 */

/** One running piece of work. */
interface Running {
  policy: string;
  kind: string;
  done: Promise<void>;
}

/** Work in flight by volume (PersistentVolume name). */
export class InFlight {
  readonly #running = new Map<string, Running>();
  readonly #finished = new Map<string, number>();

  /** True when work on this volume runs. */
  has(volume: string): boolean {
    return this.#running.has(volume);
  }

  /** The kind of work running on the volume ("move", "ec-tier"), if any. */
  kindOf(volume: string): string | undefined {
    return this.#running.get(volume)?.kind;
  }

  /** Work running for one policy, or (without an argument) in total; optionally of one kind. */
  count(policy?: string, kind?: string): number {
    let n = 0;
    for (const r of this.#running.values()) {
      if (
        (policy === undefined || r.policy === policy) && (kind === undefined || r.kind === kind)
      ) {
        n++;
      }
    }
    return n;
  }

  /** Volumes with work running. */
  volumes(): string[] {
    return [...this.#running.keys()];
  }

  /**
   * Runs `work` for the volume in the background; `has` stays true until it settles. Refuses
   * (false) when the volume already has work running.
   */
  start(volume: string, owner: { policy: string; kind: string }, work: () => Promise<void>) {
    if (this.#running.has(volume)) return false;
    const entry: Running = { ...owner, done: Promise.resolve() };
    this.#running.set(volume, entry);
    entry.done = (async () => {
      try {
        await work();
      } finally {
        this.#running.delete(volume);
      }
    })();
    return true;
  }

  /** Notes that the volume finished work at `ms` (the cooldown floor). */
  finished(volume: string, ms: number): void {
    this.#finished.set(volume, Math.max(ms, this.#finished.get(volume) ?? 0));
  }

  /** When this process last saw the volume finish work. */
  lastFinished(volume: string): number | undefined {
    return this.#finished.get(volume);
  }

  /** Resolves once nothing of `kind` (or nothing at all) runs. */
  async drain(kind?: string): Promise<void> {
    for (;;) {
      const left = [...this.#running.values()].filter((r) => kind === undefined || r.kind === kind);
      if (left.length === 0) return;
      await Promise.allSettled(left.map((r) => r.done));
    }
  }
}
