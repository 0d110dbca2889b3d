import assert from "node:assert/strict";
import { type Clock, ManualClock } from "../../src/clock.ts";
import { Watchdog } from "../../src/observability/watchdog.ts";

Deno.test("watchdog: alive while heartbeats keep coming on time", async () => {
  const clock = new ManualClock();
  const w = new Watchdog({ clock, intervalMs: 1000, thresholdMs: 5000 });
  const stop = new AbortController();
  const running = w.run(stop.signal);
  for (let i = 0; i < 20; i++) await clock.advance(1000);
  assert.deepEqual(w.status(), { alive: true, lagMs: 0 });
  stop.abort();
  await running;
});

/** A clock whose timers never fire: the heartbeat is starved while time moves on. */
class StarvedClock implements Clock {
  t = 0;
  now(): number {
    return this.t;
  }
  sleep(_ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((_resolve, reject) => {
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  }
}

Deno.test("watchdog: not alive once no heartbeat came for longer than the threshold", async () => {
  const clock = new StarvedClock();
  const w = new Watchdog({ clock, intervalMs: 1000, thresholdMs: 5000 });
  const stop = new AbortController();
  const running = w.run(stop.signal);
  clock.t = 5_500; // 4.5 s overdue: still within the threshold
  assert.equal(w.status().alive, true);
  clock.t = 7_000; // 6 s overdue
  assert.deepEqual(w.status(), { alive: false, lagMs: 6000 });
  stop.abort();
  await running;
});

/** A clock whose timers fire late by a set amount, as when the loop was blocked. */
class LateClock implements Clock {
  t = 0;
  lateBy = 0;
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, 0));
    this.t += ms + this.lateBy;
  }
}

Deno.test("watchdog: a heartbeat that woke later than the threshold reports a stall", async () => {
  const clock = new LateClock();
  const w = new Watchdog({ clock, intervalMs: 1000, thresholdMs: 5000 });
  const stop = new AbortController();
  clock.lateBy = 8000;
  const running = w.run(stop.signal);
  await new Promise((r) => setTimeout(r, 5));
  stop.abort();
  await running;
  assert.deepEqual(w.status(), { alive: false, lagMs: 8000 });
});
