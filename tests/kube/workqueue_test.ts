import assert from "node:assert/strict";
import { eventually } from "../support/poll.ts";
import fc from "fast-check";
import { ManualClock } from "../../src/clock.ts";
import { WorkQueue } from "../../src/kube/workqueue.ts";

Deno.test("workqueue: duplicate adds collapse into one item, FIFO order kept", () => {
  const q = new WorkQueue({ clock: new ManualClock() });
  q.add("a");
  q.add("b");
  q.add("a");
  assert.equal(q.length, 2);
  assert.equal(q.tryGet(), "a");
  assert.equal(q.tryGet(), "b");
  assert.equal(q.tryGet(), undefined);
});

Deno.test("workqueue: a key re-added while processing is not handed out twice, re-runs after done", () => {
  const q = new WorkQueue({ clock: new ManualClock() });
  q.add("a");
  assert.equal(q.tryGet(), "a");
  q.add("a");
  q.add("a");
  assert.equal(q.tryGet(), undefined, "no second concurrent hand-out");
  q.done("a");
  assert.equal(q.tryGet(), "a", "re-run once after done");
  q.done("a");
  assert.equal(q.tryGet(), undefined);
});

Deno.test("workqueue: get waits for an add and resolves undefined on shutdown", async () => {
  const q = new WorkQueue({ clock: new ManualClock() });
  const p = q.get();
  q.add("x");
  assert.equal(await p, "x");
  const p2 = q.get();
  q.shutDown();
  assert.equal(await p2, undefined);
  q.add("y");
  assert.equal(await q.get(), undefined, "adds after shutdown are ignored");
});

Deno.test("workqueue: per-item exponential backoff 5 ms doubling up to 1000 s, forget resets", async () => {
  const clock = new ManualClock();
  const q = new WorkQueue({ clock });
  const delays: number[] = [];
  for (let i = 0; i < 22; i++) {
    delays.push(q.nextDelay("k"));
    q.addRateLimited("k");
  }
  assert.deepEqual(delays.slice(0, 5), [5, 10, 20, 40, 80]);
  assert.equal(delays[17], 5 * 2 ** 17);
  assert.equal(delays[18], 1_000_000, "capped at 1000 s");
  assert.equal(delays[21], 1_000_000);
  assert.equal(q.numRequeues("k"), 22);
  // Another key has its own count.
  assert.equal(q.nextDelay("other"), 5);
  q.forget("k");
  assert.equal(q.nextDelay("k"), 5);
  // The earliest delayed add (5 ms) is the one that stays pending.
  assert.equal(q.delayedCount, 1);
  await clock.advance(4);
  assert.equal(q.tryGet(), undefined);
  await clock.advance(1);
  assert.equal(q.tryGet(), "k");
});

Deno.test("workqueue: addAfter keeps the earliest deadline and fires on the clock", async () => {
  const clock = new ManualClock();
  const q = new WorkQueue({ clock });
  q.addAfter("a", 1000);
  q.addAfter("a", 300);
  q.addAfter("a", 2000);
  q.addAfter("b", 500);
  await clock.advance(299);
  assert.equal(q.length, 0);
  await clock.advance(1);
  assert.equal(q.tryGet(), "a");
  await clock.advance(200);
  assert.equal(q.tryGet(), "b");
  await clock.advance(10_000);
  assert.equal(q.tryGet(), undefined, "superseded delays never fire");
  assert.equal(q.delayedCount, 0);
});

Deno.test("workqueue: shutDownWithDrain waits for keys in flight and drops queued and delayed ones", async () => {
  const clock = new ManualClock();
  const q = new WorkQueue({ clock });
  q.add("a");
  q.add("b");
  q.addAfter("c", 10);
  assert.equal(q.tryGet(), "a");
  let drained = false;
  const d = q.shutDownWithDrain().then(() => drained = true);
  await Promise.resolve();
  assert.equal(drained, false);
  assert.equal(q.tryGet(), undefined);
  assert.equal(q.length, 0);
  assert.equal(q.delayedCount, 0);
  q.done("a");
  await d;
  assert.equal(drained, true);
  await clock.advance(100);
  assert.equal(q.length, 0);
});

Deno.test("workqueue: bounded workers never run one key twice at once", async () => {
  const clock = new ManualClock();
  const q = new WorkQueue({ clock });
  const running = new Set<string>();
  const runs = new Map<string, number>();
  let maxConcurrent = 0;
  const worker = async () => {
    for (;;) {
      const k = await q.get();
      if (k === undefined) return;
      assert.ok(!running.has(k), `key ${k} processed twice at once`);
      running.add(k);
      maxConcurrent = Math.max(maxConcurrent, running.size);
      runs.set(k, (runs.get(k) ?? 0) + 1);
      // Re-adding mid-flight must not start a second concurrent run (bounded to 3 runs per key).
      if ((runs.get(k) ?? 0) < 3) q.add(k);
      await new Promise((r) => setTimeout(r, 0));
      running.delete(k);
      q.done(k);
    }
  };
  const workers = [worker(), worker(), worker()];
  for (const k of ["a", "b", "c", "d", "e"]) q.add(k);
  // Every key runs three times (re-added twice mid-flight), then the queue is drained.
  await eventually(
    "three runs of every key",
    () => [...runs.values()].filter((n) => n === 3).length === 5,
  );
  await q.shutDownWithDrain();
  await Promise.all(workers);
  assert.ok(maxConcurrent <= 3);
  for (const k of ["a", "b", "c", "d", "e"]) assert.equal(runs.get(k), 3, k);
});

type Op =
  | { t: "add"; k: string }
  | { t: "addAfter"; k: string; ms: number }
  | { t: "rate"; k: string }
  | { t: "forget"; k: string }
  | { t: "get" }
  | { t: "done"; i: number }
  | { t: "advance"; ms: number };

Deno.test("workqueue: model check against a reference model (random op sequences)", async () => {
  const key = fc.constantFrom("a", "b", "c", "d");
  const op: fc.Arbitrary<Op> = fc.oneof(
    key.map((k) => ({ t: "add", k }) as Op),
    fc.record({ k: key, ms: fc.integer({ min: 0, max: 50 }) }).map((r) =>
      ({ t: "addAfter", ...r }) as Op
    ),
    key.map((k) => ({ t: "rate", k }) as Op),
    key.map((k) => ({ t: "forget", k }) as Op),
    fc.constant({ t: "get" } as Op),
    fc.nat(3).map((i) => ({ t: "done", i }) as Op),
    fc.integer({ min: 1, max: 60 }).map((ms) => ({ t: "advance", ms }) as Op),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
      const clock = new ManualClock(0);
      const q = new WorkQueue({ clock, baseDelayMs: 5, maxDelayMs: 40 });
      // Reference model.
      const queued: string[] = [];
      const processing = new Set<string>();
      const dirty = new Set<string>();
      const delayed = new Map<string, number>();
      const failures = new Map<string, number>();
      const mAdd = (k: string) => {
        if (processing.has(k)) dirty.add(k);
        else if (!queued.includes(k)) queued.push(k);
      };
      const mAddAfter = (k: string, ms: number) => {
        if (ms <= 0) return mAdd(k);
        const at = clock.now() + ms;
        const cur = delayed.get(k);
        if (cur === undefined || at < cur) {
          // A replaced timer is registered anew, so it moves to the back among equal deadlines.
          delayed.delete(k);
          delayed.set(k, at);
        }
      };
      for (const o of ops) {
        switch (o.t) {
          case "add":
            q.add(o.k);
            mAdd(o.k);
            break;
          case "addAfter":
            q.addAfter(o.k, o.ms);
            mAddAfter(o.k, o.ms);
            break;
          case "rate": {
            const n = failures.get(o.k) ?? 0;
            q.addRateLimited(o.k);
            mAddAfter(o.k, Math.min(5 * 2 ** n, 40));
            failures.set(o.k, n + 1);
            break;
          }
          case "forget":
            q.forget(o.k);
            failures.delete(o.k);
            break;
          case "get": {
            const got = q.tryGet();
            const want = queued.shift();
            assert.equal(got, want);
            if (want !== undefined) {
              assert.ok(!processing.has(want));
              processing.add(want);
            }
            break;
          }
          case "done": {
            const list = [...processing];
            if (list.length === 0) break;
            const k = list[o.i % list.length];
            q.done(k);
            processing.delete(k);
            if (dirty.delete(k)) mAdd(k);
            break;
          }
          case "advance": {
            const target = clock.now() + o.ms;
            // Delays fire in deadline order, ties in registration order (stable sort).
            const due = [...delayed.entries()].filter(([, at]) => at <= target)
              .sort((x, y) => x[1] - y[1]);
            await clock.advance(o.ms);
            for (const [k] of due) {
              delayed.delete(k);
              mAdd(k);
            }
            break;
          }
        }
        assert.equal(q.length, queued.length);
        assert.equal(q.processingCount, processing.size);
        assert.equal(q.delayedCount, delayed.size);
        for (const k of ["a", "b", "c", "d"]) {
          assert.equal(q.numRequeues(k), failures.get(k) ?? 0);
          assert.equal(q.isProcessing(k), processing.has(k));
        }
        assert.deepEqual(q.queuedKeys(), queued);
      }
    }),
    { numRuns: 400 },
  );
});
