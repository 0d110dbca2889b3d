import assert from "node:assert/strict";
import { systemClock } from "../../src/clock.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { Controller, generationChanged } from "../../src/kube/controller.ts";
import { Informer } from "../../src/kube/informer.ts";
import { type KubeObject, splitKey } from "../../src/kube/resource.ts";
import { startEnv, until, WIDGETS } from "./_env.ts";

Deno.test("controller: reconciles every key once per change, retries failures, honours requeueAfter, records metrics", async () => {
  const env = await startEnv();
  const stop = new AbortController();
  try {
    const { client } = env;
    const metrics = createMetrics({ defaultMetrics: false });
    for (const n of ["a", "b"]) {
      await client.create(WIDGETS, { metadata: { name: n, namespace: "default" }, spec: {} });
    }
    const informer = new Informer<KubeObject>({
      client,
      resource: WIDGETS,
      clock: systemClock,
      logger: silentLogger,
    });
    const runs = new Map<string, number>();
    const inFlight = new Set<string>();
    let overlap = false;
    let failOnce = true;
    const controller = new Controller({
      name: "widgets",
      clock: systemClock,
      logger: silentLogger,
      metrics,
      concurrency: 4,
      reconcile: async (key) => {
        if (inFlight.has(key)) overlap = true;
        inFlight.add(key);
        runs.set(key, (runs.get(key) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 5));
        inFlight.delete(key);
        if (key === "default/b" && failOnce) {
          failOnce = false;
          throw new Error("transient");
        }
        if (key === "default/c" && (runs.get(key) ?? 0) < 3) return { requeueAfter: 20 };
      },
    }).watch(informer);
    const inf = informer.run(stop.signal);
    const ctl = controller.run(stop.signal);
    await until(() => (runs.get("default/a") ?? 0) >= 1 && (runs.get("default/b") ?? 0) >= 2);
    await client.create(WIDGETS, { metadata: { name: "c", namespace: "default" }, spec: {} });
    await until(() => (runs.get("default/c") ?? 0) >= 3);
    for (let i = 0; i < 5; i++) {
      await client.patch(WIDGETS, "a", { spec: { size: i } }, { namespace: "default" });
    }
    await until(() => (runs.get("default/a") ?? 0) >= 2);
    stop.abort();
    await Promise.all([inf, ctl]);
    assert.equal(overlap, false, "never two reconciles of one key at once");
    assert.equal(runs.get("default/b"), 2, "failed once, retried once");
    assert.equal(runs.get("default/c"), 3, "requeued twice, then done");
    const text = await metrics.registry.metrics();
    assert.match(text, /couchestor_reconciles_total\{controller="widgets",result="error"\} 1/);
    assert.match(text, /couchestor_reconciles_total\{controller="widgets",result="requeue"\} 2/);
    assert.match(text, /couchestor_reconcile_duration_seconds_count\{controller="widgets"\} \d+/);
  } finally {
    stop.abort();
    await env.close();
  }
});

Deno.test("controller: generationChanged ignores status-only updates (no self-triggering)", async () => {
  const env = await startEnv();
  const stop = new AbortController();
  try {
    const { client } = env;
    await client.create(WIDGETS, { metadata: { name: "g", namespace: "default" }, spec: {} });
    const informer = new Informer<KubeObject>({
      client,
      resource: WIDGETS,
      clock: systemClock,
      logger: silentLogger,
    });
    let runs = 0;
    const controller = new Controller({
      name: "gen",
      clock: systemClock,
      logger: silentLogger,
      reconcile: async (key, ctx) => {
        runs++;
        const { name } = splitKey(key);
        // Writes its own status every time: with the predicate this must not loop.
        await client.patchStatus(WIDGETS, name, { status: { runs } }, {
          namespace: "default",
          signal: ctx.signal,
        });
      },
    }).watch(informer, { predicate: generationChanged });
    const inf = informer.run(stop.signal);
    const ctl = controller.run(stop.signal);
    await until(() => runs === 1);
    // Once the informer holds our own status write its handlers have run (synchronously, on
    // the event): had the predicate let it through, the key would be queued or running now.
    const queue = controller.queue!;
    await until(() =>
      (informer.store.get("default/g")?.status as { runs?: number } | undefined)?.runs === 1 &&
      queue.processingCount === 0
    );
    assert.equal(queue.length + queue.delayedCount, 0, "status write did not re-trigger");
    assert.equal(runs, 1, "status write did not re-trigger");
    await client.patch(WIDGETS, "g", { spec: { size: 9 } }, { namespace: "default" });
    await until(() => runs === 2);
    stop.abort();
    await Promise.all([inf, ctl]);
  } finally {
    stop.abort();
    await env.close();
  }
});
