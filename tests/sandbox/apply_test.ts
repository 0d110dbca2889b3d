/**
 * Field ownership (pure): server-side apply's FieldsV1 sets, conflicts worded as
 * k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go words them, force, shared
 * ownership, and the Update entries of other writes (structured-merge-diff merge/update.go).
 */
import assert from "node:assert/strict";
import { applyConfig, type FieldContext, trackUpdate } from "../../src/sandbox/apiserver/apply.ts";
import { ApiError } from "../../src/sandbox/apiserver/errors.ts";
import { builtinShape } from "../../src/sandbox/apiserver/shape.ts";

type Obj = Record<string, unknown>;
const cx = (sk: string, now = "2026-01-01T00:00:00Z"): FieldContext => ({
  shape: builtinShape(sk),
  subresource: "",
  statusSubresource: sk === "apps/deployments",
  apiVersion: sk === "apps/deployments" ? "apps/v1" : "v1",
  now,
});
const entries = (o: Obj) => ((o.metadata as Obj).managedFields ?? []) as Obj[];
const cm = (data: Obj, meta: Obj = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "c", ...meta },
  data,
});

Deno.test("apply: FieldsV1 of map-list items, sets and leaves, with '.' on members", () => {
  const dep = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", labels: { app: "web" }, finalizers: ["x"] },
    spec: { replicas: 2, template: { spec: { containers: [{ name: "a", image: "nginx" }] } } },
    status: { replicas: 9 },
  };
  const out = applyConfig(undefined, dep, "mgr", false, cx("apps/deployments"));
  const [e] = entries(out);
  assert.deepEqual({ ...e, fieldsV1: undefined }, {
    manager: "mgr",
    operation: "Apply",
    apiVersion: "apps/v1",
    time: "2026-01-01T00:00:00Z",
    fieldsType: "FieldsV1",
    fieldsV1: undefined,
  });
  assert.deepEqual(e.fieldsV1, {
    "f:metadata": { "f:finalizers": { 'v:"x"': {} }, "f:labels": { "f:app": {} } },
    "f:spec": {
      "f:replicas": {},
      "f:template": {
        "f:spec": {
          "f:containers": { 'k:{"name":"a"}': { ".": {}, "f:image": {}, "f:name": {} } },
        },
      },
    },
  }, "status is not owned through the main resource when it is a subresource");
});

Deno.test("apply: another manager's field with a new value conflicts; the same value is shared", () => {
  const live = applyConfig(undefined, cm({ k: "v1", j: "1" }), "one", false, cx("/configmaps"));
  assert.throws(
    () => applyConfig(live, cm({ k: "v2" }), "two", false, cx("/configmaps")),
    (e) =>
      e instanceof ApiError && e.code === 409 &&
      e.message === 'Apply failed with 1 conflict: conflict with "one": .data.k' &&
      JSON.stringify(e.status.details?.causes) ===
        JSON.stringify([{
          reason: "FieldManagerConflict",
          message: 'conflict with "one"',
          field: ".data.k",
        }]),
  );
  const shared = applyConfig(live, cm({ k: "v1" }), "two", false, cx("/configmaps"));
  assert.deepEqual(entries(shared).map((e) => e.manager), ["one", "two"]);
  assert.deepEqual(shared.data, { k: "v1", j: "1" });
});

Deno.test("apply: conflicts with several managers are listed per manager; Update managers show version and time", () => {
  const live = cm({ k: "v1", j: "1" });
  trackUpdate(undefined, live, "kubectl-edit", cx("/configmaps", "2026-02-02T00:00:00Z"));
  try {
    applyConfig(live, cm({ k: "v2", j: "2" }), "two", false, cx("/configmaps"));
    assert.fail("expected a conflict");
  } catch (e) {
    assert.ok(e instanceof ApiError);
    assert.equal(
      e.message,
      'Apply failed with 2 conflicts: conflicts with "kubectl-edit" using v1 at 2026-02-02T00:00:00Z:\n- .data.j\n- .data.k',
    );
  }
});

Deno.test("apply: force takes the field over; a field no longer applied goes unless someone else owns it", () => {
  let live = applyConfig(
    undefined,
    cm({ k: "v1", mine: "x", both: "b" }),
    "one",
    false,
    cx("/configmaps"),
  );
  live = applyConfig(live, cm({ both: "b" }), "two", false, cx("/configmaps"));
  live = applyConfig(live, cm({ k: "v2" }), "two", true, cx("/configmaps"));
  assert.deepEqual(entries(live).map((e) => [e.manager, e.fieldsV1]), [
    ["one", { "f:data": { "f:both": {}, "f:mine": {} } }],
    ["two", { "f:data": { "f:k": {} } }],
  ]);
  const after = applyConfig(live, cm({}), "one", false, cx("/configmaps"));
  assert.deepEqual(
    after.data,
    { k: "v2" },
    "mine and both went with one's apply (two no longer applies both)",
  );
  assert.deepEqual(live.data, { k: "v2", mine: "x", both: "b" }, "the live object is not modified");
});

Deno.test("update: the writer takes the fields it changed; removed fields leave every set", () => {
  const live = applyConfig(undefined, cm({ k: "v1", j: "1" }), "one", false, cx("/configmaps"));
  const next = structuredClone(live);
  next.data = { k: "v2" };
  trackUpdate(live, next, "kubectl-edit", cx("/configmaps"));
  assert.deepEqual(entries(next).map((e) => [e.manager, e.operation, e.fieldsV1]), [
    ["kubectl-edit", "Update", { "f:data": { "f:k": {} } }],
  ], "one lost k (changed) and j (removed), so its entry is gone");
});
