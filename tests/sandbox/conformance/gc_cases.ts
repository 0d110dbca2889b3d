/** The garbage collector under the three propagation policies, across scopes. */
import assert from "node:assert/strict";
import { type Case, configMap, type Ctx, kc, kjson, kok, manifest, py } from "./case.ts";

type Obj = Record<string, unknown>;

/** Creates a ConfigMap owned by `owner` (uid) and answers nothing. */
async function dependent(c: Ctx, name: string, owner: Obj, extra: Obj = {}, finalizers?: string[]) {
  const md = owner.metadata as Obj;
  const ref = {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: md.name,
    uid: md.uid,
    ...extra,
  };
  const file = await manifest(
    c,
    name,
    configMap(name, c.ns, {}, {
      ownerReferences: [ref],
      ...(finalizers ? { finalizers } : {}),
    }),
  );
  await kok(c, "create", "-f", file);
}

const exists = async (c: Ctx, ...what: string[]) => (await kc(c, "get", ...what)).code === 0;

/** GC by kubectl's --cascade and the Python client's propagation_policy. */
export const gcCases: Case[] = [{
  name: "deleting an owner removes, waits for, or orphans its dependents",
  expects:
    "background: dependents whose owners are gone are deleted; foreground: the owner keeps a foregroundDeletion finalizer until its blockOwnerDeletion dependents are gone; orphan: dependents stay with the reference removed; a cluster-scoped owner collects namespaced dependents",
  upstream:
    "pkg/controller/garbagecollector/garbagecollector.go (attemptToDeleteItem, processDeletingDependentsItem, orphanDependents), staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go (deletionFinalizersForGarbageCollection)",
  async kubectl(c) {
    // Background, with a namespaced and a cluster-scoped owner.
    const owner = await kjson(c, "create", "configmap", "owner");
    await dependent(c, "dep", owner);
    const cr = await kjson(
      c,
      "create",
      "clusterrole",
      `${c.ns}-cr`,
      "--verb=get",
      "--resource=configmaps",
    );
    await dependent(c, "dep-of-cluster", cr);
    await kok(c, "delete", "configmap", "owner", "--cascade=background");
    await kok(c, "delete", "clusterrole", `${c.ns}-cr`);
    assert.equal(await exists(c, "configmap", "dep"), false);
    assert.equal(await exists(c, "configmap", "dep-of-cluster"), false);
    // Orphan.
    const o2 = await kjson(c, "create", "configmap", "owner2");
    await dependent(c, "dep2", o2);
    await kok(c, "delete", "configmap", "owner2", "--cascade=orphan");
    const orphan = await kjson(c, "get", "configmap", "dep2");
    assert.equal((orphan.metadata as Obj).ownerReferences, undefined);
    // Foreground: a blocking dependent held by a finalizer keeps the owner.
    const o3 = await kjson(c, "create", "configmap", "owner3");
    await dependent(c, "dep3", o3, { blockOwnerDeletion: true }, ["test.couchestor.io/hold"]);
    await kok(c, "delete", "configmap", "owner3", "--cascade=foreground", "--wait=false");
    const waiting = await kjson(c, "get", "configmap", "owner3");
    assert.ok((waiting.metadata as Obj).deletionTimestamp);
    assert.deepEqual((waiting.metadata as Obj).finalizers, ["foregroundDeletion"]);
    assert.ok(((await kjson(c, "get", "configmap", "dep3")).metadata as Obj).deletionTimestamp);
    await kok(
      c,
      "patch",
      "configmap",
      "dep3",
      "--type=merge",
      "-p",
      '{"metadata":{"finalizers":null}}',
    );
    assert.equal(await exists(c, "configmap", "dep3"), false);
    assert.equal(await exists(c, "configmap", "owner3"), false);
  },
  async python(c) {
    const r = await py(
      c,
      `
def owned(name, owner, block=False, finalizers=None):
    md = {"name": name, "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap",
        "name": owner.metadata.name, "uid": owner.metadata.uid, "blockOwnerDeletion": block}]}
    if finalizers:
        md["finalizers"] = finalizers
    core.create_namespaced_config_map(NS, {"metadata": md})
def gone(name):
    return fails(lambda: core.read_namespaced_config_map(name, NS)) is not None
res = {}
o = core.create_namespaced_config_map(NS, {"metadata": {"name": "owner"}})
owned("dep", o)
core.delete_namespaced_config_map("owner", NS, propagation_policy="Background")
res["background"] = gone("dep")
o = core.create_namespaced_config_map(NS, {"metadata": {"name": "owner2"}})
owned("dep2", o)
core.delete_namespaced_config_map("owner2", NS, propagation_policy="Orphan")
res["orphan_refs"] = core.read_namespaced_config_map("dep2", NS).metadata.owner_references
o = core.create_namespaced_config_map(NS, {"metadata": {"name": "owner3"}})
owned("dep3", o, True, ["test.couchestor.io/hold"])
core.delete_namespaced_config_map("owner3", NS, propagation_policy="Foreground")
w = core.read_namespaced_config_map("owner3", NS)
res["waiting"] = {"deleting": w.metadata.deletion_timestamp is not None, "finalizers": w.metadata.finalizers}
core.patch_namespaced_config_map("dep3", NS, {"metadata": {"finalizers": None}})
res["foreground_done"] = gone("owner3") and gone("dep3")
out(res)
`,
    );
    assert.deepEqual(r, {
      background: true,
      orphan_refs: null,
      waiting: { deleting: true, finalizers: ["foregroundDeletion"] },
      foreground_done: true,
    });
  },
}];
