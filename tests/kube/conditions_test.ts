import assert from "node:assert/strict";
import {
  conditionsEqual,
  findCondition,
  isConditionTrue,
  removeCondition,
  setCondition,
} from "../../src/kube/conditions.ts";

const t0 = new Date("2026-01-01T00:00:00.123Z");
const t1 = new Date("2026-01-01T00:05:00Z");
const t2 = new Date("2026-01-01T00:09:00Z");

Deno.test("conditions: lastTransitionTime moves only when status changes", () => {
  let c = setCondition(undefined, {
    type: "Ready",
    status: "False",
    reason: "Pending",
    message: "waiting",
    observedGeneration: 1,
  }, t0);
  assert.equal(c[0].lastTransitionTime, "2026-01-01T00:00:00Z");
  c = setCondition(c, {
    type: "Ready",
    status: "False",
    reason: "StillPending",
    message: "still waiting",
    observedGeneration: 2,
  }, t1);
  assert.equal(c.length, 1);
  assert.equal(c[0].lastTransitionTime, "2026-01-01T00:00:00Z", "same status keeps the time");
  assert.equal(c[0].reason, "StillPending");
  assert.equal(c[0].observedGeneration, 2);
  c = setCondition(c, { type: "Ready", status: "True", reason: "Done", message: "" }, t2);
  assert.equal(c[0].lastTransitionTime, "2026-01-01T00:09:00Z");
  assert.ok(isConditionTrue(c, "Ready"));
  assert.equal(c[0].observedGeneration, undefined);
});

Deno.test("conditions: one per type, sorted by type; remove and find", () => {
  let c = setCondition([], { type: "Ready", status: "True", reason: "A", message: "" }, t0);
  c = setCondition(c, { type: "Degraded", status: "False", reason: "B", message: "" }, t0);
  c = setCondition(c, { type: "Ready", status: "True", reason: "C", message: "" }, t1);
  assert.deepEqual(c.map((x) => x.type), ["Degraded", "Ready"]);
  assert.equal(findCondition(c, "Ready")?.reason, "C");
  assert.equal(findCondition(c, "Nope"), undefined);
  assert.ok(!isConditionTrue(c, "Degraded"));
  const r = removeCondition(c, "Degraded");
  assert.deepEqual(r.map((x) => x.type), ["Ready"]);
  assert.equal(c.length, 2, "input not mutated");
  assert.ok(conditionsEqual(c, [...c].reverse()));
  assert.ok(!conditionsEqual(c, r));
});
