/**
 * A rate-limited work queue of string keys, modelled on client-go's workqueue:
 * keys are deduplicated, a key is never handed to two workers at once (a key
 * re-added while it is processed is queued again when `done` is called),
 * failures back off exponentially per key, and delayed adds run on the
 * injected Clock so tests drive time by hand.
 */
import type { Clock } from "../clock.ts";

/** Options for a WorkQueue. */
export interface WorkQueueOptions {
  /** Time source for delayed adds. */
  clock: Clock;
  /** First retry delay after a failure (default 5 ms). */
  baseDelayMs?: number;
  /** Cap on the retry delay (default 1000 s). */
  maxDelayMs?: number;
}

/** Deduplicating, per-key exclusive, rate-limited queue of keys. */
export class WorkQueue {
  readonly #clock: Clock;
  readonly #base: number;
  readonly #max: number;
  /** Keys ready to hand out, in FIFO order (a Set keeps insertion order and dedupes). */
  readonly #queue = new Set<string>();
  /** Keys handed out and not yet `done`. */
  readonly #processing = new Set<string>();
  /** Keys re-added while processing: queued again on `done`. */
  readonly #dirtyWhileProcessing = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, { at: number; ctrl: AbortController }>();
  #getters: ((key: string | undefined) => void)[] = [];
  #drainers: (() => void)[] = [];
  #shuttingDown = false;

  constructor(opts: WorkQueueOptions) {
    this.#clock = opts.clock;
    this.#base = opts.baseDelayMs ?? 5;
    this.#max = opts.maxDelayMs ?? 1_000_000;
  }

  /** Queues `key` now, unless it is already queued (or, while it is processing, marks it to re-run). */
  add(key: string): void {
    if (this.#shuttingDown) return;
    if (this.#processing.has(key)) {
      this.#dirtyWhileProcessing.add(key);
      return;
    }
    if (this.#queue.has(key)) return;
    const getter = this.#getters.shift();
    if (getter) {
      this.#processing.add(key);
      getter(key);
    } else {
      this.#queue.add(key);
    }
  }

  /** Queues `key` after `delayMs`; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = this.#clock.now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending && pending.at <= at) return;
    pending?.ctrl.abort();
    const ctrl = new AbortController();
    this.#delayed.set(key, { at, ctrl });
    this.#clock.sleep(delayMs, ctrl.signal).then(() => {
      if (this.#delayed.get(key)?.ctrl === ctrl) this.#delayed.delete(key);
      this.add(key);
    }, () => {/* cancelled: superseded or shut down */});
  }

  /** Queues `key` after its next backoff delay: base·2^failures, capped at the maximum. */
  addRateLimited(key: string): void {
    this.addAfter(key, this.nextDelay(key));
    this.#failures.set(key, (this.#failures.get(key) ?? 0) + 1);
  }

  /** The delay the next `addRateLimited(key)` will use. */
  nextDelay(key: string): number {
    const n = this.#failures.get(key) ?? 0;
    // 2^n overflows to Infinity past n≈1024; Math.min keeps the cap.
    return Math.min(this.#base * 2 ** n, this.#max);
  }

  /** Clears the failure count of `key` (call after a successful reconcile). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** How many times `key` has failed in a row. */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Hands out the next key, waiting for one; resolves undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.tryGet();
    if (key !== undefined || this.#shuttingDown) return Promise.resolve(key);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Hands out the next ready key without waiting, or undefined when none is ready. */
  tryGet(): string | undefined {
    if (this.#shuttingDown) return undefined;
    for (const key of this.#queue) {
      this.#queue.delete(key);
      this.#processing.add(key);
      return key;
    }
    return undefined;
  }

  /** Marks `key` finished; if it was re-added meanwhile it is queued again. */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    if (this.#dirtyWhileProcessing.delete(key)) this.add(key);
    if (this.#shuttingDown && this.#processing.size === 0) {
      for (const d of this.#drainers.splice(0)) d();
    }
  }

  /** Stops handing out keys: waiting getters get undefined, queued and delayed keys are dropped. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#queue.clear();
    this.#dirtyWhileProcessing.clear();
    for (const { ctrl } of this.#delayed.values()) ctrl.abort();
    this.#delayed.clear();
    for (const g of this.#getters.splice(0)) g(undefined);
  }

  /** Shuts down and resolves once every key handed out so far has been marked `done`. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainers.push(resolve));
  }

  /** True after shutDown. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Number of keys ready to hand out. */
  get length(): number {
    return this.#queue.size;
  }

  /** Snapshot of the ready keys in hand-out order. */
  queuedKeys(): string[] {
    return [...this.#queue];
  }

  /** Number of keys being processed. */
  get processingCount(): number {
    return this.#processing.size;
  }

  /** Number of keys waiting on a delayed add. */
  get delayedCount(): number {
    return this.#delayed.size;
  }

  /** True when `key` is currently handed out. */
  isProcessing(key: string): boolean {
    return this.#processing.has(key);
  }
}
