import assert from "node:assert/strict";
import { formatDuration, isDuration, parseDuration } from "../../src/config/duration.ts";

Deno.test("parseDuration reads single and compound units", () => {
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("30m"), 1_800_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("7d"), 604_800_000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("1.5h"), 5_400_000);
});

Deno.test("parseDuration rejects words, bare numbers and negatives with the accepted forms", () => {
  for (const bad of ["soon", "10", "-5m", "", "1x", "m"]) {
    assert.equal(isDuration(bad), false, bad);
    assert.throws(() => parseDuration(bad), /use a number with a unit/);
  }
});

Deno.test("formatDuration round-trips through parseDuration", () => {
  for (const ms of [1000, 90_000, 5_400_000, 604_800_000, 86_400_000 + 1234]) {
    assert.equal(parseDuration(formatDuration(ms)), ms);
  }
});
