import assert from "node:assert/strict";
import { jsonPatch, mergePatch, PatchError } from "../../src/sandbox/apiserver/patch.ts";
import { mergeApplied } from "../../src/sandbox/apiserver/apply.ts";
import { builtinShape } from "../../src/sandbox/apiserver/shape.ts";
import { evalJsonPath, parseJsonPath } from "../../src/sandbox/apiserver/jsonpath.ts";
import { humanDuration } from "../../src/sandbox/apiserver/table.ts";

Deno.test("patch: merge patch merges objects, null deletes, arrays replace", () => {
  const doc = { a: 1, b: { c: 2, d: 3 }, l: [1, 2] };
  assert.deepEqual(mergePatch(doc, { b: { c: null, e: 4 }, l: [9], a: null }), {
    b: { d: 3, e: 4 },
    l: [9],
  });
  assert.deepEqual(doc, { a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, "input untouched");
});

Deno.test("patch: JSON patch operations", () => {
  const doc = { metadata: { finalizers: ["a", "b"] }, spec: { x: 1 } };
  const out = jsonPatch(doc, [
    { op: "remove", path: "/metadata/finalizers/0" },
    { op: "add", path: "/metadata/finalizers/-", value: "c" },
    { op: "replace", path: "/spec/x", value: 2 },
    { op: "copy", from: "/spec/x", path: "/spec/y" },
    { op: "move", from: "/spec/y", path: "/spec/z" },
    { op: "test", path: "/spec/z", value: 2 },
    { op: "add", path: "/spec/a~1b", value: true },
  ]);
  assert.deepEqual(out, {
    metadata: { finalizers: ["b", "c"] },
    spec: { x: 2, z: 2, "a/b": true },
  });
  assert.throws(() => jsonPatch(doc, [{ op: "test", path: "/spec/x", value: 5 }]), PatchError);
  assert.throws(() => jsonPatch(doc, [{ op: "replace", path: "/nope", value: 5 }]), PatchError);
  assert.throws(
    () => jsonPatch(doc, [{ op: "remove", path: "/metadata/finalizers/7" }]),
    PatchError,
  );
});

Deno.test("patch: apply merges list-maps by key and replaces atomic lists", () => {
  const cur = {
    status: {
      conditions: [{ type: "Ready", status: "False" }, { type: "Synced", status: "True" }],
    },
    spec: { tags: ["a"] },
  };
  // Deployment status conditions are a map list keyed by type; unknown lists are atomic.
  const out = mergeApplied(
    cur,
    { status: { conditions: [{ type: "Ready", status: "True" }] }, spec: { tags: ["b"] } },
    builtinShape("apps/deployments"),
  );
  assert.deepEqual(out, {
    status: { conditions: [{ type: "Ready", status: "True" }, { type: "Synced", status: "True" }] },
    spec: { tags: ["b"] },
  });
});

Deno.test("jsonpath: fields, indexes, filters", () => {
  const obj = {
    spec: { tiers: [{ name: "hot" }, { name: "cold" }] },
    status: { conditions: [{ type: "A", status: "False" }, { type: "Ready", status: "True" }] },
  };
  const ev = (p: string) => evalJsonPath(parseJsonPath(p), obj);
  assert.deepEqual(ev(".spec.tiers[1].name"), ["cold"]);
  assert.deepEqual(ev(".spec.tiers[*].name"), ["hot", "cold"]);
  assert.deepEqual(ev('.status.conditions[?(@.type=="Ready")].status'), ["True"]);
  assert.deepEqual(ev("{.spec.missing}"), []);
});

Deno.test("table: human durations like kubectl", () => {
  assert.equal(humanDuration(5_000), "5s");
  assert.equal(humanDuration(200_000), "3m20s");
  assert.equal(humanDuration(3_600_000 * 5 + 60_000 * 12), "5h12m");
  assert.equal(humanDuration(86_400_000 * 3 + 3_600_000 * 4), "3d4h");
});
