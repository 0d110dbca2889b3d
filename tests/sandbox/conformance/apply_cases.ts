/** Server-side apply (ownership, conflicts, force, removal) and strategic merge patch. */
import assert from "node:assert/strict";
import { type Case, configMap, kc, kjson, kok, manifest, py } from "./case.ts";

type Obj = Record<string, unknown>;

const deployment = (ns: string) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: ns },
  spec: {
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        containers: [
          { name: "a", image: "nginx", env: [{ name: "A", value: "1" }] },
          { name: "b", image: "busybox" },
        ],
      },
    },
  },
});

/** Owners of one field, from managedFields. */
function ownersOf(obj: Obj, path: string[]): string[] {
  const entries = ((obj.metadata as Obj).managedFields ?? []) as Obj[];
  return entries.filter((e) => {
    let cur = e.fieldsV1 as Obj | undefined;
    for (const p of path) cur = cur?.[p] as Obj | undefined;
    return cur !== undefined;
  }).map((e) => String(e.manager));
}

/** Apply and strategic merge patch cases. */
export const applyCases: Case[] = [{
  name: "server-side apply tracks field ownership",
  expects:
    "a second manager applying an owned field with another value gets 409 naming the manager and the field; force takes the field over; a field the manager stops applying is removed",
  upstream:
    "sigs.k8s.io/structured-merge-diff merge/update.go (Updater.Apply), staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go",
  async kubectl(c) {
    const v1 = await manifest(c, "v1", configMap("ssa", c.ns, { k: "v1", gone: "x" }));
    await kok(c, "apply", "--server-side", "-f", v1);
    const v2 = await manifest(c, "v2", configMap("ssa", c.ns, { k: "v2" }));
    const clash = await kc(c, "apply", "--server-side", "--field-manager=other", "-f", v2);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.data\.k/);
    await kok(c, "apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", v2);
    const taken = await kjson(c, "get", "configmap", "ssa", "--show-managed-fields");
    assert.deepEqual(ownersOf(taken, ["f:data", "f:k"]), ["other"]);
    // kubectl applies again without `gone`: it owned it alone, so it goes.
    const v3 = await manifest(c, "v3", configMap("ssa", c.ns, {}));
    await kok(c, "apply", "--server-side", "-f", v3);
    assert.deepEqual((await kjson(c, "get", "configmap", "ssa")).data, { k: "v2" });
  },
  async python(c) {
    const r = await py(
      c,
      `
path = "/api/v1/namespaces/" + NS + "/configmaps/ssa"
def apply(manager, data, force=False):
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}}
    if data is not None:
        obj["data"] = data
    body = json.dumps(obj)
    q = [("fieldManager", manager)] + ([("force", "true")] if force else [])
    return raw("PATCH", path, q, body, "application/apply-patch+yaml")
apply("one", {"k": "v1", "gone": "x"})
clash = fails(lambda: apply("two", {"k": "v2"}))
apply("two", {"k": "v2"}, force=True)
apply("one", None)
final = core.read_namespaced_config_map("ssa", NS)
out({"clash": clash, "data": final.data, "managers": sorted(m.manager for m in final.metadata.managed_fields)})
`,
    );
    const clash = r.clash as { status: number; body: { details: { causes: Obj[] } } };
    assert.equal(clash.status, 409);
    assert.deepEqual(clash.body.details.causes, [
      { reason: "FieldManagerConflict", message: 'conflict with "one"', field: ".data.k" },
    ]);
    assert.deepEqual(r.data, { k: "v2" });
    assert.deepEqual(r.managers, ["two"]);
  },
}, {
  name: "strategic merge patch merges lists by their patchMergeKey",
  expects:
    "patching one container of a Deployment keeps the others (containers merge by name); $patch: delete removes one item",
  upstream:
    "staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go (mergeMap, mergeSlice), staging/src/k8s.io/api/core/v1/types.go (Containers patchMergeKey=name)",
  async kubectl(c) {
    await kok(c, "create", "-f", await manifest(c, "web", deployment(c.ns)));
    await kok(
      c,
      "patch",
      "deployment",
      "web",
      "-p",
      '{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"nginx:2","env":[{"name":"B","value":"2"}]}]}}}}',
    );
    const d = await kjson(c, "get", "deployment", "web");
    const containers = (((d.spec as Obj).template as Obj).spec as Obj).containers as Obj[];
    assert.deepEqual(containers.map((x) => [x.name, x.image]), [["a", "nginx:2"], [
      "b",
      "busybox",
    ]]);
    assert.deepEqual((containers[0].env as Obj[]).map((e) => e.name), ["A", "B"]);
  },
  async python(c) {
    const r = await py(
      c,
      `
apps.create_namespaced_deployment(NS, ${JSON.stringify(deployment("NS_PLACEHOLDER"))})
apps.patch_namespaced_deployment("web", NS, {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "nginx:2"}]}}}})
kept = [(x.name, x.image) for x in apps.read_namespaced_deployment("web", NS).spec.template.spec.containers]
apps.patch_namespaced_deployment("web", NS, {"spec": {"template": {"spec": {"containers": [{"name": "b", "$patch": "delete"}]}}}})
left = [x.name for x in apps.read_namespaced_deployment("web", NS).spec.template.spec.containers]
out({"kept": kept, "left": left})
`.replace('"NS_PLACEHOLDER"', "NS"),
    );
    assert.deepEqual(r, { kept: [["a", "nginx:2"], ["b", "busybox"]], left: ["a"] });
  },
}];
