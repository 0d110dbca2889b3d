/** @kubernetes/client-node (the operator's client) against the sandbox over HTTPS. */
import assert from "node:assert/strict";
import {
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from "@kubernetes/client-node";
import { startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { api, widget, widgetCrd, WIDGETS } from "./helpers.ts";

const G = { group: "test.couchestor.io", version: "v1", namespace: "default", plural: "widgets" };
type Obj = Record<string, unknown>;

Deno.test("client-node: list, watch and status patch over HTTPS with the kubeconfig", async () => {
  const sb = await startSandbox({});
  const kc = new KubeConfig();
  kc.loadFromFile(sb.kubeconfigPath);
  let abort: AbortController | undefined;
  try {
    assert.equal(
      (await api(
        sb,
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        widgetCrd(),
      )).status,
      201,
    );
    await api(sb, "POST", WIDGETS, widget("a", { tier: "hot" }));
    await api(sb, "POST", WIDGETS, widget("b", { tier: "cold" }));

    const co = kc.makeApiClient(CustomObjectsApi);
    const list = await co.listNamespacedCustomObject(G) as { items: Obj[]; metadata: Obj };
    assert.deepEqual(list.items.map((i) => (i.metadata as Obj).name), ["a", "b"]);
    const rv = String(list.metadata.resourceVersion);

    const events: string[] = [];
    let resolveSeen!: () => void;
    const seen = new Promise<void>((r) => (resolveSeen = r));
    abort = await new Watch(kc).watch(
      `/apis/${G.group}/${G.version}/namespaces/default/widgets`,
      { resourceVersion: rv, allowWatchBookmarks: true },
      (type: string, obj: Obj) => {
        const s = obj.status as Obj | undefined;
        events.push(`${type}:${(obj.metadata as Obj).name}:${s?.observedGeneration ?? "-"}`);
        if (s?.observedGeneration === 1) resolveSeen();
      },
      () => {},
    );

    const patched = await co.patchNamespacedCustomObjectStatus(
      { ...G, name: "a", body: { status: { observedGeneration: 1 } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    ) as Obj;
    assert.deepEqual(patched.status, { observedGeneration: 1 });
    assert.equal((patched.spec as Obj).tier, "hot");
    await seen;
    assert.deepEqual(events, ["MODIFIED:a:1"]);
    const w = sb.writes.list({ resource: "widgets", verb: "patch" });
    assert.equal(w.length, 1);
    assert.equal(w[0].subresource, "status");
  } finally {
    abort?.abort();
    await sb.close();
  }
});
