/** Injected time: every module that waits or timestamps takes a Clock, so tests never sleep. */

/** A source of time and timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Milliseconds on a clock that never jumps (not set back by NTP, not moved by hand); only
   * differences mean anything. Absent: `now()` stands in (use `monotonicNow`).
   */
  monotonic?(): number;
  /**
   * Marks I/O in flight whose outcome the next timer may depend on (a request a timeout guards,
   * a scrape a loop waits for): a manual clock settling before a jump waits for it first (for a
   * bounded real time). Returns `work` unchanged; the system clock does nothing with it.
   */
  hold?<T>(work: Promise<T>): Promise<T>;
}

/** The clock's monotonic reading, or `now()` for a clock without one. */
export function monotonicNow(clock: Clock): number {
  return clock.monotonic ? clock.monotonic() : clock.now();
}

/** Tells the clock that `work` is I/O its timers guard (see Clock.hold). */
export function holdWhile<T>(clock: Clock, work: Promise<T>): Promise<T> {
  return clock.hold ? clock.hold(work) : work;
}

/** The wall clock and real timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  // performance.now() is CLOCK_MONOTONIC-based: it keeps counting while the process is stopped
  // (SIGSTOP), which is exactly what a leader must see when it wakes.
  monotonic: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/** How long `settle` waits for held I/O before it lets time move anyway (a hung request). */
const HELD_IO_GRACE_MS = 2_000;
/** Event-loop turns without any timer change that count as "nothing left to run". */
const QUIET_TURNS = 3;
/** Upper bound on the turns one settle takes. */
const MAX_SETTLE_TURNS = 10_000;

/** Options of `ManualClock.runUntil`. */
export interface RunUntilOptions {
  /** Simulated time the condition may take before runUntil gives up (throws). */
  limitMs: number;
  /** Named in the error when the condition is not met. */
  what?: string;
}

/** A clock that moves only when told to; sleepers wake when `advance` passes their deadline. */
export class ManualClock implements Clock {
  #now: number;
  #sleepers: { at: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** Bumped on every sleeper added, woken or aborted: "did anything happen?". */
  #changes = 0;
  readonly #held = new Set<Promise<unknown>>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }

  /** Current simulated time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Simulated time moves only forward, so it is its own monotonic clock. */
  monotonic(): number {
    return this.#now;
  }

  /** Number of sleepers waiting (for assertions that nothing is left running). */
  get pendingSleepers(): number {
    return this.#sleepers.length;
  }

  /** Deadline of the earliest sleeper, if any. */
  get nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const s of this.#sleepers) if (min === undefined || s.at < min) min = s.at;
    return min;
  }

  /** Waits until the simulated time reaches now + ms. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const entry = { at: this.#now + Math.max(0, ms), resolve, reject };
      this.#sleepers.push(entry);
      this.#changes++;
      signal?.addEventListener("abort", () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== entry);
        this.#changes++;
        reject(signal.reason);
      }, { once: true });
    });
  }

  /** Tracks I/O in flight so `settle` waits for it before time moves. */
  hold<T>(work: Promise<T>): Promise<T> {
    const p = work.finally(() => {
      this.#held.delete(p);
      this.#changes++;
    });
    this.#held.add(p);
    p.catch(() => {}); // the caller handles the rejection; this copy only tracks it
    return p;
  }

  /**
   * Moves time forward without waking anyone, as a process stopped (SIGSTOP) and continued
   * sees it: code that runs before the next `advance`/`runUntil` finds its timers overdue.
   */
  jump(ms: number): void {
    this.#now += Math.max(0, ms);
  }

  /** Moves time forward and wakes every sleeper whose deadline has passed, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      this.#sleepers.sort((a, b) => a.at - b.at);
      const next = this.#sleepers[0];
      if (!next || next.at > target) break;
      this.#sleepers.shift();
      this.#changes++;
      this.#now = Math.max(this.#now, next.at);
      next.resolve();
      // Let the woken task run before waking the next one.
      await new Promise((r) => setTimeout(r, 0));
    }
    this.#now = target;
  }

  /**
   * Lets every runnable task run without moving time: turns the event loop until held I/O has
   * finished (or been pending for 2 s of real time: a hung request must be able to time out)
   * and no timer was added or removed for a few turns in a row.
   */
  async settle(): Promise<void> {
    const graceEnd = performance.now() + HELD_IO_GRACE_MS;
    let quiet = 0;
    // A task that re-arms a zero-length timer forever never looks quiet: stop after a bound.
    for (let turn = 0; quiet < QUIET_TURNS && turn < MAX_SETTLE_TURNS; turn++) {
      if (this.#held.size > 0 && performance.now() < graceEnd) {
        await Promise.race([Promise.allSettled([...this.#held]), delay(1)]);
        quiet = 0;
        continue;
      }
      const before = this.#changes;
      await delay(0);
      quiet = this.#changes === before ? quiet + 1 : 0;
    }
  }

  /**
   * Runs the system until `done()` holds: settles, checks, and only then jumps to the next
   * sleeper's deadline, one deadline at a time. Returns the simulated ms it took; throws when
   * the condition is still unmet past `limitMs` of simulated time or nothing is left to wake.
   */
  async runUntil(done: () => boolean | Promise<boolean>, opts: RunUntilOptions): Promise<number> {
    const start = this.#now;
    const end = start + opts.limitMs;
    const what = opts.what ?? String(done);
    for (;;) {
      await this.settle();
      if (await done()) return this.#now - start;
      const next = this.nextDeadline;
      if (next === undefined) {
        throw new Error(`runUntil: idle with no timer left and not done: ${what}`);
      }
      if (next > end) {
        throw new Error(`runUntil: not done within ${opts.limitMs} ms of simulated time: ${what}`);
      }
      this.#wakeThrough(next);
    }
  }

  /**
   * Runs the system for `ms` of simulated time: like `advance`, but settling (woken work and
   * held I/O) before each deadline, and once more at the end.
   */
  async runFor(ms: number): Promise<void> {
    const target = this.#now + Math.max(0, ms);
    for (;;) {
      await this.settle();
      const next = this.nextDeadline;
      if (next === undefined || next > target) break;
      this.#wakeThrough(next);
    }
    this.#now = target;
    await this.settle();
  }

  /** Sets the time to `at` and wakes every sleeper due by then. */
  #wakeThrough(at: number): void {
    this.#now = Math.max(this.#now, at);
    const due = this.#sleepers.filter((s) => s.at <= this.#now).sort((a, b) => a.at - b.at);
    this.#sleepers = this.#sleepers.filter((s) => s.at > this.#now);
    this.#changes++;
    for (const s of due) s.resolve();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
