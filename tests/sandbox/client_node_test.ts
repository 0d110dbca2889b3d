/** @kubernetes/client-node (the operator's client) against the sandbox over HTTPS. */
import assert from "node:assert/strict";
import {
  CustomObjectsApi,
  KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from "@kubernetes/client-node";
import { startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { api, widget, widgetCrd, WIDGETS } from "./helpers.ts";

const G = { group: "test.couchestor.io", version: "v1", namespace: "default", plural: "widgets" };
type Obj = Record<string, unknown>;
const md = (o: Obj) => o.metadata as Obj;

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

Deno.test("client-node: an informer follows through closed watches and a forced 410", async () => {
  const sb = await startSandbox({});
  const kc = new KubeConfig();
  kc.loadFromFile(sb.kubeconfigPath);
  const co = kc.makeApiClient(CustomObjectsApi);
  const path = `/apis/${G.group}/${G.version}/namespaces/default/widgets`;
  let lists = 0;
  const informer = makeInformer<KubernetesObject>(
    kc,
    path,
    () => {
      lists++;
      return co.listNamespacedCustomObject(G) as Promise<KubernetesListObject<KubernetesObject>>;
    },
  );
  const errors: unknown[] = [];
  informer.on("error", (e) => errors.push(e));
  const state = () =>
    informer.list().map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort()
      .join(",");
  const serverState = async () => {
    const l = await api(sb, "GET", WIDGETS);
    return l.body.items!.map((o) => `${md(o).name}@${md(o).resourceVersion}`).sort().join(",");
  };
  const converge = async (what: string) => {
    const want = await serverState();
    for (let i = 0; i < 300 && state() !== want; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(state(), want, what);
  };
  try {
    await api(sb, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCrd());
    await api(sb, "POST", WIDGETS, widget("a", { tier: "hot" }));
    await informer.start();
    await converge("initial list");
    await api(sb, "POST", WIDGETS, widget("b", { tier: "cold" }));
    await converge("watch add");

    sb.faults.closeWatches();
    await api(sb, "PATCH", `${WIDGETS}/a`, { spec: { tier: "warm" } }, {
      "content-type": "application/merge-patch+json",
    });
    await converge("after a dropped watch");

    // Hold the informer's next watch back, write, compact past its version: it gets 410 and relists.
    assert.equal(lists, 1);
    sb.faults.latency(500, { pathPattern: "widgets\\?.*watch=" });
    sb.faults.closeWatches();
    await api(sb, "DELETE", `${WIDGETS}/b`);
    await api(sb, "POST", WIDGETS, widget("c", { tier: "hot" }));
    sb.faults.compact();
    sb.faults.clear();
    await converge("after a forced 410");
    assert.equal(lists, 2, "one relist after the 410");
    assert.deepEqual(errors, []);
  } finally {
    await informer.stop();
    await sb.close();
  }
});
