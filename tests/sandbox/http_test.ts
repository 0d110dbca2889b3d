import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { api, readWatch, widget, widgetCrd, WIDGETS, withSandbox } from "./helpers.ts";

const CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
type Obj = Record<string, unknown>;
const md = (o: Obj) => o.metadata as Obj;

Deno.test("http: auth required, discovery lists built-ins and CRD resources", async () => {
  await withSandbox(async (sb) => {
    const anon = await fetch(`${sb.httpUrl}/api/v1/namespaces`);
    assert.equal(anon.status, 401);
    assert.equal((await anon.json()).reason, "Unauthorized");
    const apis = await api(sb, "GET", "/apis");
    const names = (apis.body.groups as Obj[]).map((g) => g.name);
    for (
      const g of ["apiextensions.k8s.io", "coordination.k8s.io", "events.k8s.io", "storage.k8s.io"]
    ) {
      assert.ok(names.includes(g), g);
    }
    assert.equal((await api(sb, "POST", CRDS, widgetCrd())).status, 201);
    const rl = await api(sb, "GET", "/apis/test.couchestor.io/v1");
    const res = rl.body.resources as Obj[];
    assert.deepEqual(res.map((r) => r.name), ["widgets", "widgets/status"]);
    assert.deepEqual(res[0].shortNames, ["wd"]);
    const agg = await api(sb, "GET", "/apis", undefined, {
      accept:
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
    });
    assert.match(agg.headers.get("content-type")!, /as=APIGroupDiscoveryList/);
    const oa = await api(sb, "GET", "/openapi/v3");
    const url = ((oa.body.paths as Obj)["apis/test.couchestor.io/v1"] as Obj)
      .serverRelativeURL as string;
    const doc = await api(sb, "GET", url);
    assert.ok(
      (doc.body.components as Obj & { schemas: Obj }).schemas["io.couchestor.test.v1.Widget"],
    );
    // Swagger 2.0 (kube-openapi's handler): JSON on request, kinds tagged with their GVK.
    const v2 = await api(sb, "GET", "/openapi/v2", undefined, { accept: "application/json" });
    assert.equal(v2.status, 200);
    const widgetV2 = (v2.body.definitions as Obj)["io.couchestor.test.v1.Widget"] as Obj;
    assert.deepEqual(widgetV2["x-kubernetes-group-version-kind"], [
      { group: "test.couchestor.io", kind: "Widget", version: "v1" },
    ]);
  });
});

Deno.test("http: create, get, defaults, conflict, generation and status subresource", async () => {
  await withSandbox(async (sb) => {
    await api(sb, "POST", CRDS, widgetCrd());
    const c = await api(sb, "POST", WIDGETS, widget("a", { tier: "hot" }));
    assert.equal(c.status, 201);
    const m = md(c.body);
    assert.equal(m.generation, 1);
    assert.match(String(m.uid), /^[0-9a-f-]{36}$/);
    assert.match(String(m.creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal((c.body.spec as Obj).lowWatermarkIOPS, 100);
    assert.equal(
      (await api(sb, "POST", WIDGETS, widget("a", { tier: "hot" }))).body.reason,
      "AlreadyExists",
    );

    // Stale update → 409; fresh update bumps generation.
    const stale = { ...c.body, spec: { tier: "cold" }, metadata: { ...m, resourceVersion: "1" } };
    const conflict = await api(sb, "PUT", `${WIDGETS}/a`, stale);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.reason, "Conflict");
    const up = await api(sb, "PUT", `${WIDGETS}/a`, { ...c.body, spec: { tier: "cold" } });
    assert.equal(up.status, 200);
    assert.equal(md(up.body).generation, 2);
    assert.ok(Number(md(up.body).resourceVersion) > Number(m.resourceVersion));

    // Status writes don't touch spec or generation; main writes don't touch status.
    const st = await api(sb, "PATCH", `${WIDGETS}/a/status`, {
      spec: { tier: "warm" },
      status: { observedGeneration: 2 },
    }, { "content-type": "application/merge-patch+json" });
    assert.equal(st.status, 200);
    assert.equal((st.body.spec as Obj).tier, "cold");
    assert.equal(md(st.body).generation, 2);
    const main = await api(sb, "PATCH", `${WIDGETS}/a`, {
      status: { observedGeneration: 9 },
      metadata: { labels: { x: "y" } },
    }, {
      "content-type": "application/merge-patch+json",
    });
    assert.deepEqual(main.body.status, { observedGeneration: 2 });
    assert.equal(md(main.body).generation, 2, "label change is not a spec change");
    // A no-op write keeps the resourceVersion.
    const same = await api(sb, "PATCH", `${WIDGETS}/a`, { metadata: { labels: { x: "y" } } }, {
      "content-type": "application/merge-patch+json",
    });
    assert.equal(md(same.body).resourceVersion, md(main.body).resourceVersion);
  });
});

Deno.test("http: invalid objects get 422 with field causes; strict unknown fields 400", async () => {
  await withSandbox(async (sb) => {
    await api(sb, "POST", CRDS, widgetCrd());
    const bad = await api(
      sb,
      "POST",
      WIDGETS,
      widget("bad", { tier: "hot", lowWatermarkIOPS: -1 }),
    );
    assert.equal(bad.status, 422);
    assert.equal(bad.body.reason, "Invalid");
    assert.equal(
      bad.body.message,
      'Widget.test.couchestor.io "bad" is invalid: spec.lowWatermarkIOPS: Invalid value: -1: spec.lowWatermarkIOPS in body should be greater than or equal to 0',
    );
    const causes = (bad.body.details as Obj).causes as Obj[];
    assert.deepEqual(causes.map((c) => c.field), ["spec.lowWatermarkIOPS"]);
    const cel = await api(
      sb,
      "POST",
      WIDGETS,
      widget("cel", { tier: "hot", lowWatermarkIOPS: 10, highWatermarkIOPS: 1 }),
    );
    assert.equal(cel.status, 422);
    assert.match(String(cel.body.message), /lowWatermarkIOPS must not exceed highWatermarkIOPS/);
    const strict = await api(
      sb,
      "POST",
      `${WIDGETS}?fieldValidation=Strict`,
      widget("s", { tier: "hot", bogus: 1 }),
    );
    assert.equal(strict.status, 400);
    assert.match(String(strict.body.message), /unknown field "spec.bogus"/);
    const warn = await api(
      sb,
      "POST",
      `${WIDGETS}?fieldValidation=Warn`,
      widget("w", { tier: "hot", bogus: 1 }),
    );
    assert.equal(warn.status, 201);
    assert.match(warn.headers.get("warning") ?? "", /unknown field/);
    const nons = await api(
      sb,
      "POST",
      "/apis/test.couchestor.io/v1/namespaces/nope/widgets",
      widget("x", { tier: "hot" }),
    );
    assert.equal(nons.status, 404);
    assert.equal(nons.body.message, 'namespaces "nope" not found');
  });
});

Deno.test("http: list with selectors, paging over a consistent snapshot, Table output", async () => {
  await withSandbox(async (sb) => {
    await api(sb, "POST", CRDS, widgetCrd());
    for (let i = 0; i < 7; i++) {
      await api(
        sb,
        "POST",
        WIDGETS,
        widget(`w${i}`, { tier: i % 2 ? "hot" : "cold" }, { parity: i % 2 ? "odd" : "even" }),
      );
    }
    const odd = await api(
      sb,
      "GET",
      `${WIDGETS}?labelSelector=${encodeURIComponent("parity in (odd)")}`,
    );
    assert.deepEqual(odd.body.items!.map((o) => md(o).name), ["w1", "w3", "w5"]);
    const notEven = await api(sb, "GET", `${WIDGETS}?labelSelector=parity!=even,!missing`);
    assert.equal(notEven.body.items!.length, 3);
    const byName = await api(sb, "GET", `${WIDGETS}?fieldSelector=metadata.name%3Dw4`);
    assert.deepEqual(byName.body.items!.map((o) => md(o).name), ["w4"]);
    const badField = await api(sb, "GET", `${WIDGETS}?fieldSelector=spec.tier%3Dhot`);
    assert.equal(badField.status, 400);

    const p1 = await api(sb, "GET", `${WIDGETS}?limit=3`);
    assert.equal(p1.body.items!.length, 3);
    const cont = md(p1.body).continue as string;
    assert.equal(md(p1.body).remainingItemCount, 4);
    await api(sb, "DELETE", `${WIDGETS}/w6`); // later pages still show the snapshot
    const p2 = await api(sb, "GET", `${WIDGETS}?limit=3&continue=${cont}`);
    const p3 = await api(sb, "GET", `${WIDGETS}?limit=3&continue=${md(p2.body).continue}`);
    assert.deepEqual(
      [...p1.body.items!, ...p2.body.items!, ...p3.body.items!].map((o) => md(o).name),
      ["w0", "w1", "w2", "w3", "w4", "w5", "w6"],
    );
    assert.equal(md(p3.body).continue, undefined);
    assert.equal(md(p2.body).resourceVersion, md(p1.body).resourceVersion);
    const gone = await api(sb, "GET", `${WIDGETS}?limit=3&continue=eyJpZCI6Ijk5In0`);
    assert.equal(gone.status, 410);
    assert.equal(gone.body.reason, "Expired");

    await api(sb, "PATCH", `${WIDGETS}/w1/status`, {
      status: { conditions: [{ type: "Ready", status: "True" }] },
    }, {
      "content-type": "application/merge-patch+json",
    });
    const t = await api(sb, "GET", WIDGETS, undefined, {
      accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    });
    assert.equal(t.body.kind, "Table");
    assert.deepEqual((t.body.columnDefinitions as Obj[]).map((c) => c.name), [
      "Name",
      "Tier",
      "Low",
      "Ready",
      "Age",
    ]);
    const row = (t.body.rows as Obj[])[1];
    assert.deepEqual((row.cells as unknown[]).slice(0, 4), ["w1", "hot", 100, "True"]);
    assert.equal((row.object as Obj).kind, "PartialObjectMetadata");
  });
});

Deno.test("http: patches (merge, json, strategic on built-ins, apply) and finalizers", async () => {
  await withSandbox(async (sb) => {
    await api(sb, "POST", CRDS, widgetCrd());
    await api(sb, "POST", WIDGETS, widget("a", { tier: "hot" }));
    const jp = await api(sb, "PATCH", `${WIDGETS}/a`, [{
      op: "replace",
      path: "/spec/tier",
      value: "warm",
    }], {
      "content-type": "application/json-patch+json",
    });
    assert.equal((jp.body.spec as Obj).tier, "warm");
    const smp = await api(sb, "PATCH", `${WIDGETS}/a`, { spec: { tier: "cold" } }, {
      "content-type": "application/strategic-merge-patch+json",
    });
    assert.equal(smp.status, 415);
    const ns = await api(sb, "PATCH", "/api/v1/namespaces/default", {
      metadata: { labels: { a: "b" } },
    }, {
      "content-type": "application/strategic-merge-patch+json",
    });
    assert.equal((md(ns.body).labels as Obj).a, "b");

    const applyYaml =
      "apiVersion: test.couchestor.io/v1\nkind: Widget\nmetadata:\n  name: b\nspec:\n  tier: cold\n";
    const noMgr = await api(sb, "PATCH", `${WIDGETS}/b`, applyYaml, {
      "content-type": "application/apply-patch+yaml",
    });
    assert.equal(noMgr.status, 422);
    const ap = await api(sb, "PATCH", `${WIDGETS}/b?fieldManager=test&force=true`, applyYaml, {
      "content-type": "application/apply-patch+yaml",
    });
    assert.equal(ap.status, 201);
    const ap2 = await api(
      sb,
      "PATCH",
      `${WIDGETS}/b?fieldManager=test`,
      applyYaml.replace("cold", "warm"),
      {
        "content-type": "application/apply-patch+yaml",
      },
    );
    assert.equal(ap2.status, 200);
    assert.equal((ap2.body.spec as Obj).tier, "warm");
    const apStatus = await api(sb, "PATCH", `${WIDGETS}/b/status?fieldManager=ctl`, {
      apiVersion: "test.couchestor.io/v1",
      kind: "Widget",
      metadata: { name: "b" },
      status: {
        conditions: [{ type: "Ready", status: "False" }, { type: "Synced", status: "True" }],
      },
    }, { "content-type": "application/apply-patch+yaml" });
    assert.equal(apStatus.status, 200);
    const apStatus2 = await api(sb, "PATCH", `${WIDGETS}/b/status?fieldManager=ctl`, {
      apiVersion: "test.couchestor.io/v1",
      kind: "Widget",
      metadata: { name: "b" },
      status: { conditions: [{ type: "Ready", status: "True" }] },
    }, { "content-type": "application/apply-patch+yaml" });
    // The same manager no longer applies Synced, and no one else owns it: apply removes it
    // (structured-merge-diff merge/update.go, Updater.Apply prunes fields a manager drops).
    assert.deepEqual((apStatus2.body.status as Obj).conditions, [
      { type: "Ready", status: "True" },
    ]);

    // Finalizer holds deletion.
    await api(sb, "PATCH", `${WIDGETS}/a`, { metadata: { finalizers: ["test/hold"] } }, {
      "content-type": "application/merge-patch+json",
    });
    const del = await api(sb, "DELETE", `${WIDGETS}/a`);
    assert.equal(del.status, 200);
    assert.ok(md(del.body).deletionTimestamp);
    assert.equal((await api(sb, "GET", `${WIDGETS}/a`)).status, 200);
    const addFin = await api(sb, "PATCH", `${WIDGETS}/a`, {
      metadata: { finalizers: ["test/hold", "x/y"] },
    }, {
      "content-type": "application/merge-patch+json",
    });
    assert.equal(addFin.status, 422);
    const rm = await api(sb, "PATCH", `${WIDGETS}/a`, { metadata: { finalizers: null } }, {
      "content-type": "application/merge-patch+json",
    });
    assert.equal(rm.status, 200);
    assert.equal((await api(sb, "GET", `${WIDGETS}/a`)).status, 404);
  });
});

Deno.test("http: watch from a version, bookmarks, selectors, timeout and 410 after compaction", async () => {
  const sb = await startSandbox({ tls: false, bookmarkIntervalMs: 20 });
  try {
    await api(sb, "POST", CRDS, widgetCrd());
    const a = await api(sb, "POST", WIDGETS, widget("a", { tier: "hot" }, { app: "x" }));
    const rv = md(a.body).resourceVersion;
    await api(sb, "POST", WIDGETS, widget("b", { tier: "hot" }));
    const res = await fetch(
      `${sb.httpUrl}${WIDGETS}?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true&labelSelector=app%3Dx`,
      { headers: { authorization: `Bearer ${sb.token}` } },
    );
    const pending = readWatch(
      res.body!,
      (evs) => evs.some((e) => e.type === "BOOKMARK") && evs.some((e) => e.type === "DELETED"),
    );
    await api(sb, "PATCH", `${WIDGETS}/b`, { metadata: { labels: { app: "x" } } }, {
      "content-type": "application/merge-patch+json",
    });
    await api(sb, "PATCH", `${WIDGETS}/a`, { spec: { tier: "cold" } }, {
      "content-type": "application/merge-patch+json",
    });
    await api(sb, "DELETE", `${WIDGETS}/a`);
    const evs = await pending;
    const nonBookmark = evs.filter((e) => e.type !== "BOOKMARK").map((e) =>
      `${e.type}:${md(e.object as Obj).name}`
    );
    assert.deepEqual(nonBookmark, ["ADDED:b", "MODIFIED:a", "DELETED:a"]);

    // Initial state as ADDED events with resourceVersion=0; timeoutSeconds ends the stream.
    const all = await fetch(`${sb.httpUrl}${WIDGETS}?watch=true&timeoutSeconds=1`, {
      headers: { authorization: `Bearer ${sb.token}` },
    });
    const initial = await readWatch(all.body!, () => false);
    assert.deepEqual(initial.map((e) => e.type), ["ADDED"]);

    sb.faults.compact();
    const old = await fetch(`${sb.httpUrl}${WIDGETS}?watch=true&resourceVersion=${rv}`, {
      headers: { authorization: `Bearer ${sb.token}` },
    });
    const err = await readWatch(old.body!, () => false);
    assert.equal(err.length, 1);
    assert.equal(err[0].type, "ERROR");
    assert.equal((err[0].object as Obj).code, 410);
    assert.equal((err[0].object as Obj).reason, "Expired");
  } finally {
    await sb.close();
  }
});

Deno.test("http: faults (429/503 counts, path patterns, closed watches) and the write log", async () => {
  await withSandbox(async (sb) => {
    await api(sb, "POST", CRDS, widgetCrd());
    const f = await api(sb, "POST", "/sandbox/faults", {
      action: "fail",
      status: 503,
      count: 2,
      pathPattern: "widgets",
    });
    assert.ok(f.body.id);
    assert.equal((await api(sb, "GET", WIDGETS)).status, 503);
    assert.equal((await api(sb, "GET", "/api/v1/namespaces")).status, 200);
    const r429 = await api(sb, "GET", WIDGETS);
    assert.equal(r429.status, 503);
    assert.equal((await api(sb, "GET", WIDGETS)).status, 200);
    sb.faults.fail(429, { count: 1 });
    const tm = await api(sb, "GET", WIDGETS);
    assert.equal(tm.status, 429);
    assert.equal(tm.headers.get("retry-after"), "1");

    const w = await fetch(`${sb.httpUrl}${WIDGETS}?watch=true&resourceVersion=0`, {
      headers: { authorization: `Bearer ${sb.token}` },
    });
    const ended = readWatch(w.body!, () => false);
    while ((await api(sb, "GET", "/sandbox/state")).body.watches === 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const closed = await api(sb, "POST", "/sandbox/faults", { action: "closeWatches" });
    assert.equal(closed.body.closed, 1);
    await ended;

    await api(sb, "POST", WIDGETS, widget("a", { tier: "hot" }), {
      "user-agent": "op-1",
      "x-sandbox-identity": "pod-1",
    });
    await api(sb, "PATCH", `${WIDGETS}/a`, { spec: { tier: "cold" } }, {
      "content-type": "application/merge-patch+json",
      "user-agent": "op-2",
    });
    const log = await api(sb, "GET", "/sandbox/writes?resource=widgets");
    const items = log.body.items as Obj[];
    assert.deepEqual(items.map((i) => [i.verb, i.name, i.identity, i.code]), [
      ["create", "a", "pod-1", 201],
      ["patch", "a", "op-2", 200],
    ]);
    assert.equal(sb.writes.list({ since: Number(items[0].seq) }).length, 1);
  });
});

Deno.test("http: namespaces delete their content; persistence survives a restart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let sb = await startSandbox({ tls: false, dataDir: dir });
    await api(sb, "POST", CRDS, widgetCrd());
    await api(sb, "POST", "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "tmp" },
    });
    await api(
      sb,
      "POST",
      "/apis/test.couchestor.io/v1/namespaces/tmp/widgets",
      widget("x", { tier: "hot" }),
    );
    await api(sb, "POST", WIDGETS, widget("keep", { tier: "warm" }));
    const d = await api(sb, "DELETE", "/api/v1/namespaces/tmp");
    assert.equal(d.status, 200);
    assert.equal((await api(sb, "GET", "/api/v1/namespaces/tmp")).status, 404);
    assert.equal(
      (await api(sb, "GET", "/apis/test.couchestor.io/v1/namespaces/tmp/widgets/x")).status,
      404,
    );
    const token = sb.token;
    await sb.close();
    sb = await startSandbox({ tls: false, dataDir: dir });
    try {
      assert.equal(sb.token, token);
      const got = await api(sb, "GET", `${WIDGETS}/keep`);
      assert.equal(got.status, 200);
      assert.equal((got.body.spec as Obj).tier, "warm");
      const more = await api(sb, "POST", WIDGETS, widget("new", { tier: "hot" }));
      assert.ok(Number(md(more.body).resourceVersion) > Number(md(got.body).resourceVersion));
    } finally {
      await sb.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("http: a client that disconnects ends its watch on the server", async () => {
  await withSandbox(async (sb) => {
    const ac = new AbortController();
    const res = await fetch(`${sb.httpUrl}/api/v1/namespaces?watch=true`, {
      headers: { authorization: `Bearer ${sb.token}` },
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    assert.equal((await api(sb, "GET", "/sandbox/state")).body.watches, 1);
    ac.abort();
    await reader.cancel().catch(() => {});
    for (let i = 0; i < 100 && (await api(sb, "GET", "/sandbox/state")).body.watches !== 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal((await api(sb, "GET", "/sandbox/state")).body.watches, 0);
  });
});

Deno.test("http: events.k8s.io/v1 and core/v1 Events share storage", async () => {
  await withSandbox(async (sb) => {
    const ev = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "e1" },
      eventTime: "2026-01-01T00:00:00.000000Z",
      reportingController: "couchestor.io/operator",
      reportingInstance: "pod-1",
      action: "Migrate",
      reason: "Promoted",
      type: "Normal",
      note: "moved to hot",
      regarding: { kind: "PersistentVolume", name: "pv-1", apiVersion: "v1" },
    };
    const c = await api(sb, "POST", "/apis/events.k8s.io/v1/namespaces/default/events", ev);
    assert.equal(c.status, 201);
    assert.equal(c.body.note, "moved to hot");
    const core = await api(sb, "GET", "/api/v1/namespaces/default/events/e1");
    assert.equal(core.body.apiVersion, "v1");
    assert.equal(core.body.message, "moved to hot");
    assert.equal((core.body.involvedObject as Obj).name, "pv-1");
    assert.equal(core.body.reportingComponent, "couchestor.io/operator");
    const sel = await api(sb, "GET", "/api/v1/events?fieldSelector=involvedObject.name%3Dpv-1");
    assert.equal(sel.body.items!.length, 1);
    const sel2 = await api(
      sb,
      "GET",
      "/apis/events.k8s.io/v1/events?fieldSelector=regarding.name%3Dpv-1",
    );
    assert.equal(sel2.body.items!.length, 1);
    assert.equal(sel2.body.items![0].note, "moved to hot");
    const p = await api(sb, "PATCH", "/apis/events.k8s.io/v1/namespaces/default/events/e1", {
      series: { count: 2, lastObservedTime: "2026-01-01T00:01:00.000000Z" },
    }, { "content-type": "application/merge-patch+json" });
    assert.equal(p.status, 200);
    assert.equal((p.body.series as Obj).count, 2);
    assert.equal(p.body.note, "moved to hot");
  });
});

Deno.test("http: generateName, deletecollection by label, built-in defaults", async () => {
  await withSandbox(async (sb) => {
    await api(sb, "POST", CRDS, widgetCrd());
    const g = await api(sb, "POST", WIDGETS, {
      ...widget("", { tier: "hot" }, { batch: "1" }),
      metadata: { generateName: "gen-", labels: { batch: "1" } },
    });
    assert.equal(g.status, 201);
    assert.match(String(md(g.body).name), /^gen-[a-z0-9]{5}$/);
    await api(sb, "POST", WIDGETS, widget("b1", { tier: "hot" }, { batch: "1" }));
    await api(sb, "POST", WIDGETS, widget("keep", { tier: "hot" }, { batch: "2" }));
    const dc = await api(sb, "DELETE", `${WIDGETS}?labelSelector=batch%3D1`);
    assert.equal(dc.status, 200);
    assert.equal(dc.body.items!.length, 2);
    const left = await api(sb, "GET", WIDGETS);
    assert.deepEqual(left.body.items!.map((o) => md(o).name), ["keep"]);
    const noName = await api(sb, "POST", WIDGETS, { ...widget("", { tier: "hot" }), metadata: {} });
    assert.equal(noName.status, 422);
    assert.equal(((noName.body.details as Obj).causes as Obj[])[0].field, "metadata.name");

    const pv = await api(sb, "POST", "/api/v1/persistentvolumes", {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pv-1" },
      spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"] },
    });
    assert.equal((pv.body.spec as Obj).persistentVolumeReclaimPolicy, "Retain");
    assert.equal((pv.body.status as Obj).phase, "Pending");
    const sc = await api(sb, "POST", "/apis/storage.k8s.io/v1/storageclasses", {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "fast" },
      provisioner: "io.openebs.csi-mayastor",
    });
    assert.equal(sc.body.volumeBindingMode, "Immediate");
    const lease = await api(sb, "POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "leader" },
      spec: { holderIdentity: "a", leaseDurationSeconds: 15 },
    });
    assert.equal(lease.status, 201);
    const stale = await api(
      sb,
      "PUT",
      "/apis/coordination.k8s.io/v1/namespaces/default/leases/leader",
      {
        ...lease.body,
        spec: { holderIdentity: "b" },
        metadata: { ...md(lease.body), resourceVersion: "1" },
      },
    );
    assert.equal(stale.status, 409);
  });
});

Deno.test("http: injected latency waits on the injected clock", async () => {
  const clock = new ManualClock();
  const sb = await startSandbox({ tls: false, clock });
  try {
    sb.faults.latency(5_000, { pathPattern: "^/api/v1/namespaces$" });
    let done = false;
    const pending = api(sb, "GET", "/api/v1/namespaces").then((r) => {
      done = true;
      return r;
    });
    // Only the injected clock can release the request: step it until the answer arrives.
    let advanced = 0;
    while (!done) {
      await new Promise((r) => setTimeout(r, 5));
      if (!done) {
        await clock.advance(1_000);
        advanced += 1_000;
      }
    }
    assert.ok(advanced >= 5_000, `released after ${advanced} ms of injected time`);
    assert.equal((await pending).status, 200);
    assert.deepEqual(sb.faults.list().latency.map((l) => l.ms), [5_000]);
    sb.faults.clear();
    assert.equal((await api(sb, "GET", "/api/v1/namespaces")).status, 200);
  } finally {
    await sb.close();
  }
});

Deno.test("http: a CRD with two served versions serves one storage under both", async () => {
  await withSandbox(async (sb) => {
    const crd = widgetCrd() as Obj & { spec: { versions: Obj[] } };
    const v1 = crd.spec.versions[0];
    crd.spec.versions = [{ ...structuredClone(v1), name: "v1alpha1", storage: false }, v1];
    assert.equal((await api(sb, "POST", CRDS, crd)).status, 201);
    const g = await api(sb, "GET", "/apis/test.couchestor.io");
    assert.deepEqual((g.body.preferredVersion as Obj).version, "v1");
    const alpha = "/apis/test.couchestor.io/v1alpha1/namespaces/default/widgets";
    const c = await api(sb, "POST", alpha, {
      ...widget("a", { tier: "hot" }),
      apiVersion: "test.couchestor.io/v1alpha1",
    });
    assert.equal(c.status, 201);
    assert.equal(c.body.apiVersion, "test.couchestor.io/v1alpha1");
    const got = await api(sb, "GET", `${WIDGETS}/a`);
    assert.equal(got.body.apiVersion, "test.couchestor.io/v1");
    const l = await api(sb, "GET", alpha);
    assert.equal(l.body.apiVersion, "test.couchestor.io/v1alpha1");
    assert.equal(l.body.items![0].apiVersion, "test.couchestor.io/v1alpha1");
    const st = await api(
      sb,
      "GET",
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${md(crd).name}`,
    );
    assert.deepEqual((st.body.status as Obj).storedVersions, ["v1"]);
  });
});

Deno.test("request log: every call with its RBAC verb, reads included", async () => {
  const sb = await startSandbox({ tls: false });
  try {
    const h = { authorization: `Bearer ${sb.token}`, "content-type": "application/json" };
    const base = `${sb.httpUrl}/api/v1/namespaces/default/configmaps`;
    await (await fetch(base, {
      method: "POST",
      headers: h,
      body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }),
    })).body?.cancel();
    await (await fetch(`${base}/a`, { headers: h })).body?.cancel();
    await (await fetch(base, { headers: h })).body?.cancel();
    await (await fetch(`${base}/missing`, { headers: h })).body?.cancel();
    await (await fetch(`${base}?watch=1&timeoutSeconds=1`, { headers: h })).body?.cancel();
    await (await fetch(`${base}/a`, {
      method: "PATCH",
      headers: { ...h, "content-type": "application/merge-patch+json" },
      body: JSON.stringify({ data: { x: "1" } }),
    })).body?.cancel();
    await (await fetch(`${base}/a`, { method: "DELETE", headers: h })).body?.cancel();
    const seen = sb.requests.list({ resource: "configmaps" }).map((r) => [r.verb, r.name, r.code]);
    assert.deepEqual(seen, [
      ["create", "a", 201],
      ["get", "a", 200],
      ["list", "", 200],
      ["get", "missing", 404],
      ["watch", "", 200],
      ["patch", "a", 200],
      ["delete", "a", 200],
    ]);
  } finally {
    await sb.close();
  }
});
