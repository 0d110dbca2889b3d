import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.ts";
import { ApiError, isConflict, isNotFound } from "../../src/kube/errors.ts";
import { BuiltinResources, type KubeObject } from "../../src/kube/resource.ts";
import { loadKubeconfigFile } from "../../src/kube/kubeconfig.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { startEnv, WIDGETS } from "./_env.ts";

Deno.test("client: CRUD, conflicts, typed errors, paging and selectors against the sandbox", async () => {
  const env = await startEnv();
  try {
    const { client } = env;
    const made = await client.create<KubeObject>(WIDGETS, {
      metadata: { name: "w1", namespace: "default", labels: { tier: "hot" } },
      spec: { size: 1 },
    });
    assert.ok(made.metadata.uid);
    assert.equal(made.apiVersion, "test.couchestor.io/v1");
    const got = await client.get<KubeObject>(WIDGETS, "w1", { namespace: "default" });
    assert.equal(got.metadata.resourceVersion, made.metadata.resourceVersion);

    // Replace with the read version succeeds; with a stale one it is a typed 409.
    const upd = await client.update<KubeObject>(WIDGETS, { ...got, spec: { size: 2 } });
    await assert.rejects(
      () => client.update(WIDGETS, { ...got, spec: { size: 3 } }),
      (e) => isConflict(e) && (e as ApiError).reason === "Conflict",
    );
    await assert.rejects(
      () => client.get(WIDGETS, "nope", { namespace: "default" }),
      (e) => isNotFound(e) && e instanceof ApiError && e.code === 404 && e.reason === "NotFound",
    );

    // Patches: merge, JSON patch, server-side apply, status.
    const m = await client.patch<KubeObject>(WIDGETS, "w1", { spec: { color: "red" } }, {
      namespace: "default",
    });
    assert.deepEqual(m.spec, { size: 2, color: "red" });
    const j = await client.patch<KubeObject>(
      WIDGETS,
      "w1",
      [{ op: "replace", path: "/spec/size", value: 5 }],
      { namespace: "default", type: "json" },
    );
    assert.equal((j.spec as { size: number }).size, 5);
    const a = await client.patch<KubeObject>(WIDGETS, "w1", {
      apiVersion: "test.couchestor.io/v1",
      kind: "Widget",
      metadata: { name: "w1", namespace: "default" },
      spec: { owner: "me" },
    }, { namespace: "default", type: "apply", fieldManager: "couchestor", force: true });
    assert.equal((a.spec as { owner: string }).owner, "me");
    const s = await client.patchStatus<KubeObject>(WIDGETS, "w1", { status: { phase: "Ok" } }, {
      namespace: "default",
    });
    assert.deepEqual(s.status, { phase: "Ok" });
    assert.equal(s.metadata.generation, a.metadata.generation, "status writes keep generation");
    assert.ok(Number(upd.metadata.generation) >= 2);

    // Paging and selectors.
    for (let i = 2; i <= 7; i++) {
      await client.create(WIDGETS, {
        metadata: { name: `w${i}`, namespace: "default", labels: { tier: i % 2 ? "hot" : "cold" } },
        spec: { size: i },
      });
    }
    const page1 = await client.list(WIDGETS, { namespace: "default", limit: 3 });
    assert.equal(page1.items.length, 3);
    assert.ok(page1.metadata.continue);
    const all = await client.listAll(WIDGETS, { namespace: "default", limit: 2 });
    assert.equal(all.items.length, 7);
    assert.ok(all.resourceVersion);
    const hot = await client.list(WIDGETS, { labelSelector: "tier=hot" });
    assert.deepEqual(hot.items.map((o) => o.metadata.name).sort(), ["w1", "w3", "w5", "w7"]);
    const one = await client.list(WIDGETS, { fieldSelector: "metadata.name=w4" });
    assert.deepEqual(one.items.map((o) => o.metadata.name), ["w4"]);

    // Invalid object: 422 naming the field.
    await assert.rejects(
      () =>
        client.create(WIDGETS, {
          metadata: { name: "bad", namespace: "default" },
          spec: { size: "big" },
        }),
      (e) =>
        e instanceof ApiError && e.code === 422 && e.reason === "Invalid" &&
        e.causes.some((c) => (c.field ?? "").includes("spec.size")),
    );

    // Delete.
    await client.delete(WIDGETS, "w7", { namespace: "default" });
    await assert.rejects(() => client.get(WIDGETS, "w7", { namespace: "default" }), isNotFound);
  } finally {
    await env.close();
  }
});

Deno.test("client: watch streams events from a resourceVersion, with bookmarks", async () => {
  const env = await startEnv();
  try {
    const { client } = env;
    const list = await client.list(WIDGETS, { namespace: "default" });
    const ac = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (
        const ev of client.watch(WIDGETS, {
          namespace: "default",
          resourceVersion: list.metadata.resourceVersion,
          allowWatchBookmarks: true,
          signal: ac.signal,
        })
      ) {
        if (ev.type === "BOOKMARK") continue;
        seen.push(`${ev.type} ${ev.object.metadata.name}`);
        if (seen.length === 3) break;
      }
    })();
    await client.create(WIDGETS, { metadata: { name: "x", namespace: "default" }, spec: {} });
    await client.patch(WIDGETS, "x", { spec: { size: 1 } }, { namespace: "default" });
    await client.delete(WIDGETS, "x", { namespace: "default" });
    await done;
    ac.abort();
    assert.deepEqual(seen, ["ADDED x", "MODIFIED x", "DELETED x"]);
  } finally {
    await env.close();
  }
});

Deno.test("client: HTTPS with the kubeconfig's CA and bearer token; a wrong token is 401", async () => {
  const env = await startEnv({ tls: true });
  try {
    const conn = await loadKubeconfigFile(env.kubeconfigPath);
    assert.ok(conn.server.startsWith("https://127.0.0.1:"));
    const c = new KubeClient({ connection: conn });
    const nss = await c.list(BuiltinResources.namespaces);
    assert.ok(nss.items.some((n) => n.metadata.name === "default"));
    c.close();
    const bad = new KubeClient({ connection: { ...conn, token: "wrong" } });
    await assert.rejects(
      () => bad.list(BuiltinResources.namespaces),
      (e) => e instanceof ApiError && e.code === 401,
    );
    bad.close();
  } finally {
    await env.close();
  }
});

Deno.test("client: 429 answers are retried after Retry-After; other errors are not", async () => {
  const env = await startEnv();
  try {
    const conn = await loadKubeconfigFile(env.kubeconfigPath);
    const c = new KubeClient({ connection: conn, maxRetryWaitMs: 5 });
    env.faults.failPath(429, "/widgets", 2);
    const list = await c.list(WIDGETS, { namespace: "default" });
    assert.deepEqual(list.items, []);
    env.faults.failPath(500, "/widgets", 1);
    await assert.rejects(
      () => c.list(WIDGETS, { namespace: "default" }),
      (e) => e instanceof ApiError && e.code === 500,
    );
    const none = new KubeClient({ connection: conn, maxRetries: 0 });
    env.faults.failPath(429, "/widgets", 1);
    await assert.rejects(
      () => none.list(WIDGETS, { namespace: "default" }),
      (e) => e instanceof ApiError && e.code === 429 && e.retryAfterSeconds === 1,
    );
    c.close();
    none.close();
  } finally {
    await env.close();
  }
});

Deno.test("client: a tokenFile is re-read after tokenRefreshMs (rotating service-account tokens)", async () => {
  const env = await startEnv();
  const dir = await Deno.makeTempDir();
  try {
    const conn = await loadKubeconfigFile(env.kubeconfigPath);
    const tokenFile = `${dir}/token`;
    await Deno.writeTextFile(tokenFile, `${conn.token}\n`);
    const clock = new ManualClock();
    const c = new KubeClient({
      connection: { server: conn.server, caData: conn.caData, tokenFile },
      clock,
      tokenRefreshMs: 60_000,
    });
    await c.list(BuiltinResources.namespaces);
    await Deno.writeTextFile(tokenFile, "rotated-away");
    await c.list(BuiltinResources.namespaces); // still the cached token
    await clock.advance(60_000);
    await assert.rejects(
      () => c.list(BuiltinResources.namespaces),
      (e) => e instanceof ApiError && e.code === 401,
    );
    c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
    await env.close();
  }
});
