import assert from "node:assert/strict";
import { Readiness } from "../../src/observability/readiness.ts";

Deno.test("readiness: ready only when every registered component is", () => {
  const r = new Readiness();
  assert.deepEqual(r.status(), { ready: true, reasons: [] });
  const a = r.register("kube");
  const b = r.register("prometheus", "not queried yet");
  assert.deepEqual(r.status().reasons, ["kube: starting", "prometheus: not queried yet"]);
  a.ready();
  assert.deepEqual(r.status(), { ready: false, reasons: ["prometheus: not queried yet"] });
  b.ready();
  assert.equal(r.status().ready, true);
  a.notReady("watch lost");
  assert.deepEqual(r.status(), { ready: false, reasons: ["kube: watch lost"] });
});

Deno.test("readiness: shutting down makes the process not ready", () => {
  const r = new Readiness();
  r.register("kube").ready();
  r.markShuttingDown();
  assert.deepEqual(r.status(), { ready: false, reasons: ["shutting down"] });
});

Deno.test("readiness: a name registers once", () => {
  const r = new Readiness();
  r.register("kube");
  assert.throws(() => r.register("kube"), /twice/);
});
