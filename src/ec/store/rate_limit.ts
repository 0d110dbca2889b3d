/** A byte-rate limiter for scrubbing: callers report bytes done and wait what the budget says. */
import type { Clock } from "../../clock.ts";

/** Paces work to at most `bytesPerSecond` averaged since the start. */
export class RateLimiter {
  readonly #start: number;
  #bytes = 0;

  constructor(private readonly clock: Clock, readonly bytesPerSecond: number) {
    this.#start = clock.now();
  }

  /** Milliseconds to wait after `bytes` more are done so the average rate stays in budget. */
  delayAfter(bytes: number): number {
    this.#bytes += bytes;
    if (!(this.bytesPerSecond > 0) || !Number.isFinite(this.bytesPerSecond)) return 0;
    const due = this.#start + (this.#bytes / this.bytesPerSecond) * 1000;
    return Math.max(0, due - this.clock.now());
  }

  /** Records bytes and sleeps the needed delay on the injected clock. */
  async consume(bytes: number, signal?: AbortSignal): Promise<void> {
    const ms = this.delayAfter(bytes);
    if (ms > 0) await this.clock.sleep(ms, signal);
  }
}
