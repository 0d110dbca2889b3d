import assert from "node:assert/strict";
import { systemClock } from "../../src/clock.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { Informer } from "../../src/kube/informer.ts";
import { labelIndex } from "../../src/kube/store.ts";
import { BuiltinResources, type KubeObject } from "../../src/kube/resource.ts";
import { startEnv, until, WIDGETS, type WriteEntry } from "./_env.ts";

Deno.test("informer: survives a dropped watch and a forced 410 with no missed or duplicated update", async () => {
  const env = await startEnv();
  const stop = new AbortController();
  try {
    const { client } = env;
    const ns = "default";
    const names = Array.from({ length: 8 }, (_, i) => `obj-${i}`);
    for (const name of names.slice(0, 4)) {
      await client.create(WIDGETS, { metadata: { name, namespace: ns }, spec: { size: 0 } });
    }
    const informer = new Informer<KubeObject>({
      client,
      resource: WIDGETS,
      namespace: ns,
      clock: systemClock,
      logger: silentLogger,
      backoff: { initialMs: 20, maxMs: 200 },
      indexers: { tier: labelIndex("tier") },
    });
    // Every delivered change as "<type> <name> <rv>"; deletes carry the name only.
    const delivered: string[] = [];
    informer.addHandler({
      onAdd: (o) => delivered.push(`W ${o.metadata.name} ${o.metadata.resourceVersion}`),
      onUpdate: (_p, o) => delivered.push(`W ${o.metadata.name} ${o.metadata.resourceVersion}`),
      onDelete: (o) => delivered.push(`D ${o.metadata.name}`),
    });
    const running = informer.run(stop.signal);
    await informer.waitForSync();
    assert.ok(informer.hasSynced());
    const since = env.writeMark();

    // Phase 1: connected.
    for (const name of names.slice(4)) {
      await client.create(WIDGETS, {
        metadata: { name, namespace: ns, labels: { tier: "hot" } },
        spec: { size: 1 },
      });
    }
    await client.patch(WIDGETS, "obj-0", { spec: { size: 1 } }, { namespace: ns });
    await until(() => informer.store.size === 8);

    // Phase 2: the server drops every watch; writes land while we reconnect.
    env.faults.dropWatches();
    await client.patch(WIDGETS, "obj-1", { spec: { size: 2 } }, { namespace: ns });
    await client.delete(WIDGETS, "obj-2", { namespace: ns });
    await until(() => !informer.store.has("default/obj-2"));

    // Phase 3: the watch drops again and its reconnect is held up (latency) while writes land
    // and history is compacted past our version → the resumed watch gets 410 → relist.
    env.faults.delayReads(WIDGETS.plural, 300);
    env.faults.dropWatches();
    await client.patch(WIDGETS, "obj-3", { spec: { size: 3 } }, { namespace: ns });
    await client.patch(WIDGETS, "obj-4", { spec: { size: 4 } }, { namespace: ns });
    env.faults.compact();
    await client.delete(WIDGETS, "obj-5", { namespace: ns });
    await client.create(WIDGETS, { metadata: { name: "obj-8", namespace: ns }, spec: {} });
    await until(() => informer.stats.relistsOn410 >= 1 && informer.store.has("default/obj-8"));
    env.faults.clear();

    // Phase 4: connected again.
    await client.patch(WIDGETS, "obj-6", { spec: { size: 6 } }, { namespace: ns });
    await client.patch(WIDGETS, "obj-7", { metadata: { labels: { tier: "cold" } } }, {
      namespace: ns,
    });
    await until(() =>
      informer.store.get("default/obj-7")?.metadata.labels?.tier === "cold" &&
      informer.store.get("default/obj-6")?.metadata.resourceVersion !== undefined
    );
    await until(() => delivered.length >= expectedFromLog(env.writesSince(since)).length + 4);

    // The write log is the truth: every write to this resource, exactly once, in order per object.
    const want = expectedFromLog(env.writesSince(since));
    const got = delivered.slice(4); // the 4 initial adds came from the first list
    // Writes are matched by resourceVersion (unique per write; a create's log entry has no name).
    const asLog = got.map((l) => l.startsWith("W") ? `W ${l.split(" ")[2]}` : l);
    assert.deepEqual([...asLog].sort(), [...want].sort(), "every write delivered, nothing else");
    assert.equal(new Set(got).size, got.length, "no duplicated delivery");
    const perObject = new Map<string, number>();
    for (const l of got) {
      const [t, name, rv] = l.split(" ");
      if (t !== "W") continue;
      assert.ok(Number(rv) > (perObject.get(name) ?? 0), `versions of ${name} in order`);
      perObject.set(name, Number(rv));
    }
    assert.ok(informer.stats.relistsOn410 >= 1, "a 410 forced a relist");
    assert.ok(informer.stats.watches >= 3, "the watch was re-established");

    // The cache equals the server, and the label index followed the relabel.
    const server = await client.listAll(WIDGETS, { namespace: ns });
    assert.deepEqual(
      informer.store.list().map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort(),
      server.items.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort(),
    );
    assert.deepEqual(informer.store.byIndex("tier", "cold").map((o) => o.metadata.name), [
      "obj-7",
    ]);
    assert.deepEqual(
      informer.store.byIndex("tier", "hot").map((o) => o.metadata.name).sort(),
      ["obj-4", "obj-6"],
    );
    stop.abort();
    await running;
  } finally {
    stop.abort();
    await env.close();
  }
});

/** The deliveries the write log implies: "W rv" for writes, "D name" for deletes. */
function expectedFromLog(entries: WriteEntry[]): string[] {
  return entries.filter((e) => e.resource === WIDGETS.plural).map((e) =>
    e.verb === "delete" ? `D ${e.name}` : `W ${e.resourceVersion}`
  );
}

Deno.test("informer: bookmarks advance the resume version without delivering events", async () => {
  const env = await startEnv({ bookmarkIntervalMs: 50 });
  const stop = new AbortController();
  try {
    const { client } = env;
    const informer = new Informer<KubeObject>({
      client,
      resource: WIDGETS,
      clock: systemClock,
      logger: silentLogger,
    });
    let events = 0;
    informer.addHandler({ onAdd: () => events++, onUpdate: () => events++ });
    const running = informer.run(stop.signal);
    await informer.waitForSync();
    const before = Number(informer.resourceVersion);
    // Writes to another resource move the global version; only bookmarks can tell us.
    for (const name of ["bm-1", "bm-2"]) {
      await client.create(BuiltinResources.namespaces, { metadata: { name } });
    }
    const latest = Number(
      (await client.list(BuiltinResources.namespaces)).metadata.resourceVersion,
    );
    assert.ok(latest > before);
    await until(() => Number(informer.resourceVersion) >= latest);
    assert.equal(events, 0, "bookmarks are not delivered to handlers");
    stop.abort();
    await running;
  } finally {
    stop.abort();
    await env.close();
  }
});
