import assert from "node:assert/strict";
import { labelIndex, NAMESPACE_INDEX, Store } from "../../src/kube/store.ts";
import type { KubeObject } from "../../src/kube/resource.ts";

const obj = (ns: string | undefined, name: string, tier?: string): KubeObject => ({
  metadata: { name, namespace: ns, labels: tier ? { tier } : undefined },
});

Deno.test("store: keys by namespace/name, namespace and label indexes follow updates", () => {
  const s = new Store<KubeObject>({ tier: labelIndex("tier") });
  s.upsert(obj("a", "v1", "hot"));
  s.upsert(obj("a", "v2", "cold"));
  s.upsert(obj("b", "v1", "hot"));
  s.upsert(obj(undefined, "pv1"));
  assert.equal(s.size, 4);
  assert.deepEqual(s.keys().sort(), ["a/v1", "a/v2", "b/v1", "pv1"]);
  assert.equal(s.get("b/v1")?.metadata.name, "v1");
  assert.deepEqual(s.byIndex(NAMESPACE_INDEX, "a").map((o) => o.metadata.name).sort(), [
    "v1",
    "v2",
  ]);
  assert.deepEqual(s.byIndex(NAMESPACE_INDEX, "").map((o) => o.metadata.name), ["pv1"]);
  assert.equal(s.byIndex("tier", "hot").length, 2);
  // Re-labelling moves the object between index buckets.
  s.upsert(obj("a", "v1", "cold"));
  assert.deepEqual(s.byIndex("tier", "hot").map((o) => o.metadata.namespace), ["b"]);
  assert.equal(s.byIndex("tier", "cold").length, 2);
  assert.equal(s.remove("a/v2")?.metadata.name, "v2");
  assert.equal(s.byIndex("tier", "cold").length, 1);
  assert.equal(s.remove("nope"), undefined);
  assert.throws(() => s.byIndex("missing", "x"), /no index named/);
});
