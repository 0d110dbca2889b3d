import assert from "node:assert/strict";
import { ManualClock, monotonicNow, systemClock } from "../src/clock.ts";

Deno.test("ManualClock.runUntil: wakes one deadline at a time, only once the woken work settled", async () => {
  const clock = new ManualClock(0);
  const log: string[] = [];
  // A loop that does real I/O between sleeps, held on the clock as KubeClient holds requests.
  const ac = new AbortController();
  const loop = (async () => {
    for (let i = 1; i <= 5; i++) {
      await clock.sleep(1000, ac.signal).catch(() => {});
      if (ac.signal.aborted) return;
      await clock.hold(new Promise((r) => setTimeout(r, 3)));
      log.push(`tick ${i} at ${clock.now()}`);
    }
  })();
  const took = await clock.runUntil(() => log.length === 3, { limitMs: 10_000 });
  assert.equal(took, 3000);
  assert.deepEqual(log, ["tick 1 at 1000", "tick 2 at 2000", "tick 3 at 3000"]);
  ac.abort();
  await loop;
});

Deno.test("ManualClock.runUntil: waits for held I/O before time moves", async () => {
  const clock = new ManualClock(0);
  let answered = false;
  const io = clock.hold(new Promise<void>((r) => setTimeout(() => (answered = true, r()), 30)));
  // A request timeout guarding the I/O: it must not fire while the answer is on its way.
  let timedOut = false;
  const guard = new AbortController();
  clock.sleep(5000, guard.signal).then(() => timedOut = true, () => {});
  await clock.runUntil(() => answered, { limitMs: 10_000 });
  assert.equal(timedOut, false);
  assert.equal(clock.now(), 0, "no time passed");
  guard.abort();
  await io;
});

Deno.test("ManualClock.runUntil: fails naming the condition past the limit or with nothing to wake", async () => {
  const clock = new ManualClock(0);
  await assert.rejects(
    clock.runUntil(() => false, { limitMs: 1000, what: "never" }),
    /idle with no timer left and not done: never/,
  );
  const ac = new AbortController();
  clock.sleep(5000, ac.signal).catch(() => {});
  await assert.rejects(
    clock.runUntil(() => false, { limitMs: 1000, what: "too late" }),
    /not done within 1000 ms of simulated time: too late/,
  );
  ac.abort();
  assert.equal(clock.pendingSleepers, 0);
});

Deno.test("monotonic time: the system clock's never goes back; a manual clock's is its own time", () => {
  const a = monotonicNow(systemClock);
  const b = monotonicNow(systemClock);
  assert.ok(b >= a);
  const m = new ManualClock(42);
  assert.equal(monotonicNow(m), 42);
  assert.equal(monotonicNow({ now: () => 7, sleep: () => Promise.resolve() }), 7);
});
