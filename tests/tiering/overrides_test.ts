/** Pin and opt-out annotations: strict values, PVC over PV, problems for the Event. */
import assert from "node:assert/strict";
import {
  describeOverride,
  PIN_ANNOTATION,
  readOverride,
  TIERING_ANNOTATION,
} from "../../src/tiering/overrides.ts";

Deno.test("overrides: pins, opt-outs and none", () => {
  assert.deepEqual(readOverride(undefined, undefined), { kind: "none" });
  assert.deepEqual(readOverride({ [PIN_ANNOTATION]: "hot" }, undefined), {
    kind: "pin",
    tier: "hot",
    on: "pvc",
  });
  assert.deepEqual(readOverride(undefined, { [PIN_ANNOTATION]: "cold" }), {
    kind: "pin",
    tier: "cold",
    on: "pv",
  });
  assert.deepEqual(readOverride({ [TIERING_ANNOTATION]: "disabled" }, undefined), {
    kind: "optOut",
    on: "pvc",
  });
  assert.deepEqual(readOverride({ [TIERING_ANNOTATION]: "enabled" }, undefined), { kind: "none" });
});

Deno.test("overrides: the PVC wins over the PV, an opt-out over a pin", () => {
  assert.deepEqual(
    readOverride({ [PIN_ANNOTATION]: "warm" }, { [PIN_ANNOTATION]: "hot" }),
    { kind: "pin", tier: "warm", on: "pvc" },
  );
  assert.deepEqual(
    readOverride({ [PIN_ANNOTATION]: "hot" }, { [TIERING_ANNOTATION]: "disabled" }),
    { kind: "optOut", on: "pv" },
  );
});

Deno.test("overrides: a value not accepted is a problem with a hint, and holds the volume", () => {
  const o = readOverride({ [PIN_ANNOTATION]: "Hot " }, { [TIERING_ANNOTATION]: "off" });
  assert.equal(o.kind, "invalid");
  if (o.kind !== "invalid") return;
  assert.deepEqual(o.problems.map((p) => [p.on, p.annotation, p.value]), [
    ["pv", TIERING_ANNOTATION, "off"],
    ["pvc", PIN_ANNOTATION, "Hot "],
  ]);
  assert.match(o.problems[1].message, /is not one of hot, warm, cold \(did you mean "hot"\?\)/);
  assert.match(o.problems[0].message, /not one of disabled, enabled; the volume is not moved/);
  assert.match(describeOverride(o, "shop/db", "pvc-1"), /^PV pvc-1: .*; PVC shop\/db: /);
});

Deno.test("overrides: describeOverride says where each one was read", () => {
  assert.equal(
    describeOverride({ kind: "pin", tier: "hot", on: "pvc" }, "shop/db", "pvc-1"),
    "pinned to hot (storage.billyronks.io/tier=hot on PVC shop/db)",
  );
  assert.equal(
    describeOverride({ kind: "optOut", on: "pv" }, undefined, "pvc-1"),
    "opted out (storage.billyronks.io/tiering=disabled on PV pvc-1)",
  );
});
