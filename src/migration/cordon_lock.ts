/**
 * The cluster-wide lock of CoucheStor's move cordon: while one replica step has every other
 * node cordoned, no other step may cordon or uncordon (they share the cordon label, and two
 * windows at once would leave no node for either). One per operator process; leader election
 * makes that one per cluster.
 */

/** A FIFO mutex whose waits can be aborted. */
export class CordonLock {
  #tail: Promise<void> = Promise.resolve();

  /** Waits for the lock; resolves to its release. Rejects when `signal` aborts first. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const before = this.#tail;
    this.#tail = before.then(() => mine);
    if (signal) {
      let onAbort!: () => void;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
      });
      try {
        await Promise.race([before, aborted]);
      } catch (e) {
        // Give the turn up once it comes, so later waiters are not stuck behind us.
        before.then(release);
        throw e;
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    } else {
      await before;
    }
    let released = false;
    return () => {
      if (!released) (released = true, release());
    };
  }
}
