/** Backoff after failed moves: exponential from the base, capped at the cooldown, on the PV. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BACKOFF_ANNOTATION,
  backoffDelay,
  backoffRemaining,
  encodeBackoff,
  readBackoff,
  recordFailure,
} from "../../src/tiering/backoff.ts";

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 1, 12);

Deno.test("backoff: 5m, 10m, 20m … capped at the cooldown", () => {
  const base = 5 * MIN, cap = 60 * MIN;
  assert.deepEqual(
    [1, 2, 3, 4, 5, 100, 1e6].map((n) => backoffDelay(n, base, cap) / MIN),
    [5, 10, 20, 40, 60, 60, 60],
  );
  assert.equal(backoffDelay(0, base, cap), 0);
  assert.equal(backoffDelay(1, base, 2 * MIN), 2 * MIN, "a cooldown shorter than the base caps it");
});

Deno.test("backoff: the record on the PV counts failures and round-trips", () => {
  const one = recordFailure(undefined, "RolledBack", T0, "timed out after 30m");
  const two = recordFailure(one, "Failed", T0 + 10 * MIN, "x".repeat(500));
  assert.deepEqual([one.failures, two.failures, two.lastResult], [1, 2, "Failed"]);
  assert.equal(two.error!.length, 256);
  const back = readBackoff({ [BACKOFF_ANNOTATION]: encodeBackoff(two) });
  assert.deepEqual(back, { record: two });
  const opts = { baseMs: 5 * MIN, capMs: 24 * 60 * MIN };
  assert.equal(backoffRemaining(two, opts, T0 + 10 * MIN), 10 * MIN);
  assert.equal(backoffRemaining(two, opts, T0 + 25 * MIN), 0);
  assert.equal(backoffRemaining(undefined, opts, T0), 0);
});

Deno.test("backoff: an unreadable record is reported and ignored, never a block", () => {
  for (const text of ["{", '{"failures":0,"lastFailure":"x","lastResult":"Failed"}', "[]"]) {
    const r = readBackoff({ [BACKOFF_ANNOTATION]: text });
    assert.equal(r.record, undefined, text);
    assert.match(
      r.problem ?? "",
      /storage\.billyronks\.io\/backoff.*ignored until the next failure/,
    );
  }
  assert.deepEqual(readBackoff({}), {});
});

Deno.test("backoff: never longer than the cap, never shorter than a failure before it, and monotone", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: 1, max: 3_600_000 }),
      fc.integer({ min: 0, max: 7 * 86_400_000 }),
      (n, base, cap) => {
        const d = backoffDelay(n, base, cap);
        assert.ok(d <= cap && d >= Math.min(base, cap));
        assert.ok(backoffDelay(n + 1, base, cap) >= d);
      },
    ),
  );
  // A failure stamped in the future (skew) counts from the stamp.
  const rec = recordFailure(undefined, "Failed", T0 + 60 * MIN);
  assert.equal(backoffRemaining(rec, { baseMs: 5 * MIN, capMs: 86_400_000 }, T0), 65 * MIN);
});
