import assert from "node:assert/strict";
import { ManualClock } from "../src/clock.ts";
import {
  type Component,
  handleSignals,
  Lifecycle,
  type SignalSource,
  startComponents,
} from "../src/lifecycle.ts";
import { createLogger, silentLogger } from "../src/observability/log.ts";

function lifecycle(clock = new ManualClock(), logger = silentLogger) {
  return new Lifecycle({ clock, logger, deadlineMs: 10_000 });
}

Deno.test("lifecycle: abort first, then drain, release and close hooks in that order", async () => {
  const lc = lifecycle();
  const order: string[] = [];
  lc.onStop("servers", () => Promise.resolve(void order.push("close")), "close");
  lc.onStop("leader", () => Promise.resolve(void order.push("release")), "release");
  lc.onStop("controller", async () => {
    assert.equal(lc.signal.aborted, true, "work stops being taken before draining");
    await new Promise((r) => setTimeout(r, 1));
    order.push("drain");
  });
  assert.equal(await lc.shutdown("test"), 0);
  assert.equal(await lc.done, 0);
  assert.deepEqual(order, ["drain", "release", "close"]);
  assert.equal(await lc.shutdown("again"), 0, "shutdown runs once");
});

Deno.test("lifecycle: a hook past the deadline makes the exit status 1 and is logged", async () => {
  const clock = new ManualClock();
  const lines: string[] = [];
  const lc = lifecycle(clock, createLogger({ format: "json", write: (l) => lines.push(l) }));
  lc.onStop("stuck-migration", () => new Promise(() => {}));
  const code = lc.shutdown("test");
  await clock.advance(9_999);
  await clock.advance(1);
  assert.equal(await code, 1);
  const last = JSON.parse(lines.at(-1)!);
  assert.equal(last.msg, "shutdown deadline exceeded; exiting 1");
  assert.deepEqual(last.waitingFor, ["stuck-migration"]);
});

Deno.test("lifecycle: a failing hook still lets the others run, exit status 1", async () => {
  const lc = lifecycle();
  let closed = false;
  lc.onStop("bad", () => Promise.reject(new Error("boom")));
  lc.onStop("servers", () => Promise.resolve(void (closed = true)), "close");
  assert.equal(await lc.shutdown("test"), 1);
  assert.equal(closed, true);
});

Deno.test("lifecycle: components start in order with the signal; a failing start is fatal", async () => {
  const lc = lifecycle();
  const seen: string[] = [];
  const comp = (name: string, fail = false): Component => ({
    name,
    start: (signal) => {
      assert.equal(signal, lc.signal);
      seen.push(`start ${name}`);
      return fail ? Promise.reject(new Error("no")) : Promise.resolve();
    },
    stop: () => Promise.resolve(void seen.push(`stop ${name}`)),
  });
  const ok = await startComponents([comp("a"), comp("b", true), comp("c")], lc, silentLogger);
  assert.equal(ok, false);
  assert.equal(await lc.done, 1);
  assert.deepEqual(seen, ["start a", "start b", "stop a"]);
});

Deno.test("lifecycle: first SIGTERM shuts down, a second one abandons the wait", async () => {
  const listeners = new Map<string, () => void>();
  const signals: SignalSource = {
    add: (sig, fn) => void listeners.set(sig, fn),
    remove: (sig) => void listeners.delete(sig),
  };
  const lc = lifecycle();
  lc.onStop("stuck", () => new Promise(() => {}));
  const remove = handleSignals(lc, silentLogger, signals);
  listeners.get("SIGTERM")!();
  assert.equal(lc.signal.aborted, true);
  listeners.get("SIGINT")!();
  assert.equal(await lc.done, 1);
  remove();
  assert.equal(listeners.size, 0);
});

Deno.test("lifecycle: a signal during a component's start stops it once the start settles", async () => {
  const lc = lifecycle();
  const seen: string[] = [];
  let finishStart!: () => void;
  const slow: Component = {
    name: "slow",
    start: () => new Promise<void>((r) => (finishStart = r)).then(() => void seen.push("started")),
    stop: () => Promise.resolve(void seen.push("stopped")),
  };
  const starting = startComponents([slow], lc, silentLogger);
  const code = lc.shutdown("SIGTERM during start");
  await new Promise((r) => setTimeout(r, 1));
  assert.deepEqual(seen, [], "stop waits for the start");
  finishStart();
  assert.equal(await code, 0);
  assert.deepEqual(seen, ["started", "stopped"]);
  await starting;
});
