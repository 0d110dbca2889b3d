/**
 * The garbage collector and volume protection over the API core (in process), following
 * kubernetes/kubernetes pkg/controller/garbagecollector/garbagecollector.go and
 * pkg/controller/volume/pvprotection: chains, dangling owners, cross-scope references, UIDs,
 * and the finalizers DELETE sets (k8s.io/apiserver registry/generic/registry/store.go).
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { ApiCore } from "../../src/sandbox/apiserver/api_core.ts";

type Obj = Record<string, unknown>;

function setup() {
  const core = new ApiCore({ clock: new ManualClock(0) });
  core.bootstrap();
  const cm = core.lookup("", "v1", "configmaps")!;
  const pv = core.lookup("", "v1", "persistentvolumes")!;
  const make = (name: string, owners: Obj[] = [], extra: Obj = {}) =>
    core.create(cm, "default", {
      metadata: {
        name,
        ...(owners.length ? { ownerReferences: owners.map((o) => ref(o)) } : {}),
        ...extra,
      },
    }).obj;
  const has = (name: string) => core.store.get("/configmaps", `default/${name}`)?.obj;
  return { core, cm, pv, make, has };
}

function ref(o: Obj, extra: Obj = {}): Obj {
  const md = o.metadata as Obj;
  return { apiVersion: o.apiVersion, kind: o.kind, name: md.name, uid: md.uid, ...extra };
}

Deno.test("gc: background deletion collects a chain of dependents", () => {
  const { core, cm, make, has } = setup();
  const a = make("a");
  const b = make("b", [a]);
  make("c", [b]);
  core.delete(cm, "default", "a", { propagationPolicy: "Background" });
  assert.equal(has("b"), undefined);
  assert.equal(has("c"), undefined);
});

Deno.test("gc: a dependent keeps living while another owner remains; the gone reference is dropped", () => {
  const { core, cm, make, has } = setup();
  const a = make("a"), b = make("b");
  make("d", [a, b]);
  core.delete(cm, "default", "a");
  const d = has("d")!;
  assert.deepEqual(((d.metadata as Obj).ownerReferences as Obj[]).map((r) => r.name), ["b"]);
});

Deno.test("gc: an object created with an owner that does not exist (or another uid) is collected", () => {
  const { make, has } = setup();
  const a = make("a");
  make("stale", [{ ...a, metadata: { ...(a.metadata as Obj), uid: "not-a's-uid" } }]);
  assert.equal(has("stale"), undefined);
  make("kept", [a]);
  assert.ok(has("kept"));
});

Deno.test("gc: a cluster-scoped owner collects namespaced dependents; a namespaced owner of a cluster-scoped object is unresolvable", () => {
  const { core, pv, make, has } = setup();
  const vol = core.create(pv, undefined, { metadata: { name: "v" }, spec: {} }).obj;
  make("of-pv", [vol]);
  const a = make("a");
  core.create(pv, undefined, { metadata: { name: "w", ownerReferences: [ref(a)] }, spec: {} });
  core.delete(pv, undefined, "v");
  assert.equal(has("of-pv"), undefined, "namespaced dependent of a cluster-scoped owner");
  assert.ok(core.store.get("/persistentvolumes", "w"), "never collected on a namespaced owner");
});

Deno.test("gc: foreground waits for blocking dependents, orphan strips references", () => {
  const { core, cm, make, has } = setup();
  const a = make("a");
  make("blocker", [], {
    ownerReferences: [ref(a, { blockOwnerDeletion: true })],
    finalizers: ["x/hold"],
  });
  make("loose", [a]);
  core.delete(cm, "default", "a", { propagationPolicy: "Foreground" });
  const owner = has("a")!;
  assert.deepEqual((owner.metadata as Obj).finalizers, ["foregroundDeletion"]);
  assert.equal(has("loose"), undefined, "non-blocking dependents are deleted too");
  assert.ok((has("blocker")!.metadata as Obj).deletionTimestamp);
  core.patch(cm, "default", "blocker", "application/merge-patch+json", {
    metadata: { finalizers: null },
  }, "");
  assert.equal(has("blocker"), undefined);
  assert.equal(has("a"), undefined, "the owner goes with its last blocking dependent");

  const o = make("o");
  make("kid", [o]);
  core.delete(cm, "default", "o", { propagationPolicy: "Orphan" });
  assert.equal(has("o"), undefined);
  assert.equal((has("kid")!.metadata as Obj).ownerReferences, undefined);
});

Deno.test("gc: without a policy an orphan finalizer on the object decides; dry run touches nothing", () => {
  const { core, cm, make, has } = setup();
  const a = make("a", [], { finalizers: ["orphan"] });
  make("kid", [a]);
  core.delete(cm, "default", "a", { dryRun: true });
  assert.ok(has("a") && !(has("a")!.metadata as Obj).deletionTimestamp);
  core.delete(cm, "default", "a");
  assert.equal(has("a"), undefined);
  assert.ok(has("kid"), "orphaned, not collected");
});

Deno.test("protection: PVs and PVCs get their finalizer; an unbound PV goes, a Bound one waits", () => {
  const { core, pv } = setup();
  const pvc = core.lookup("", "v1", "persistentvolumeclaims")!;
  const claim = core.create(pvc, "default", { metadata: { name: "c" }, spec: {} }).obj;
  assert.deepEqual((claim.metadata as Obj).finalizers, ["kubernetes.io/pvc-protection"]);
  core.create(pv, undefined, { metadata: { name: "free" }, spec: {} });
  core.delete(pv, undefined, "free");
  assert.equal(core.store.get("/persistentvolumes", "free"), undefined);
  core.create(pv, undefined, { metadata: { name: "bound" }, spec: {} });
  core.patch(
    pv,
    undefined,
    "bound",
    "application/merge-patch+json",
    { status: { phase: "Bound" } },
    "status",
  );
  core.delete(pv, undefined, "bound");
  assert.ok(core.store.get("/persistentvolumes", "bound"), "a Bound PV is held by pv-protection");
  core.patch(pv, undefined, "bound", "application/merge-patch+json", {
    status: { phase: "Released" },
  }, "status");
  assert.equal(core.store.get("/persistentvolumes", "bound"), undefined);
});
