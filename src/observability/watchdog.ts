/**
 * Event-loop watchdog behind `/healthz`: a heartbeat loop on the injected Clock records how
 * late each beat woke. The loop counts as stalled when a beat woke later than the threshold,
 * or when no beat has run for longer than interval + threshold.
 */
import type { Clock } from "../clock.ts";

/** Options for the watchdog. */
export interface WatchdogOptions {
  clock: Clock;
  /** Time between heartbeats. */
  intervalMs?: number;
  /** A delay longer than this counts as a stall. */
  thresholdMs?: number;
}

/** Liveness as `/healthz` reports it. */
export interface LivenessStatus {
  alive: boolean;
  /** The longest current delay of the heartbeat, in ms. */
  lagMs: number;
}

/** Heartbeat timer measuring event-loop stalls. */
export class Watchdog {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #thresholdMs: number;
  #lastBeat: number;
  #lastLag = 0;

  constructor(opts: WatchdogOptions) {
    this.#clock = opts.clock;
    this.#intervalMs = opts.intervalMs ?? 1000;
    this.#thresholdMs = opts.thresholdMs ?? 10_000;
    this.#lastBeat = this.#clock.now();
  }

  /** Beats until `signal` aborts; resolves then. */
  async run(signal: AbortSignal): Promise<void> {
    this.#lastBeat = this.#clock.now();
    while (!signal.aborted) {
      const expected = this.#clock.now() + this.#intervalMs;
      try {
        await this.#clock.sleep(this.#intervalMs, signal);
      } catch {
        return; // aborted
      }
      const now = this.#clock.now();
      this.#lastLag = Math.max(0, now - expected);
      this.#lastBeat = now;
    }
  }

  /** Alive unless the last beat was late, or no beat has come for too long. */
  status(): LivenessStatus {
    const overdue = Math.max(0, this.#clock.now() - this.#lastBeat - this.#intervalMs);
    const lagMs = Math.max(overdue, this.#lastLag);
    return { alive: lagMs <= this.#thresholdMs, lagMs };
  }
}
