import assert from "node:assert/strict";
import { ManualClock, systemClock } from "../../src/clock.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { type Condition, setCondition } from "../../src/kube/conditions.ts";
import { isNotFound } from "../../src/kube/errors.ts";
import { EventRecorder, type KubeEvent, referenceTo } from "../../src/kube/events.ts";
import { hasFinalizer, reconcileWithFinalizer } from "../../src/kube/finalizers.ts";
import { BuiltinResources, type KubeObject } from "../../src/kube/resource.ts";
import { updateStatusWithRetry } from "../../src/kube/status.ts";
import { startEnv, WIDGETS } from "./_env.ts";

type Widget = KubeObject & { status?: { count?: number; conditions?: Condition[] } };

Deno.test("status: concurrent read-modify-write status updates all land (409s retried)", async () => {
  const env = await startEnv();
  try {
    const { client } = env;
    await client.create(WIDGETS, { metadata: { name: "s", namespace: "default" }, spec: {} });
    const bump = () =>
      updateStatusWithRetry<Widget>(client, WIDGETS, "s", (cur) => ({
        ...cur.status,
        count: (cur.status?.count ?? 0) + 1,
      }), { namespace: "default", clock: systemClock, attempts: 50, backoffMs: 1 });
    await Promise.all(Array.from({ length: 12 }, bump));
    const w = await client.get<Widget>(WIDGETS, "s", { namespace: "default" });
    assert.equal(w.status?.count, 12);

    // Conditions through a status write; unchanged status keeps lastTransitionTime.
    const t1 = new Date("2026-03-01T10:00:00Z");
    const t2 = new Date("2026-03-01T11:00:00Z");
    const ready = (now: Date, status: "True" | "False") => (cur: Widget) => ({
      ...cur.status,
      conditions: setCondition(cur.status?.conditions, {
        type: "Ready",
        status,
        reason: status === "True" ? "Synced" : "Pending",
        message: "",
        observedGeneration: cur.metadata.generation,
      }, now),
    });
    const opts = { namespace: "default", clock: systemClock };
    await updateStatusWithRetry<Widget>(client, WIDGETS, "s", ready(t1, "True"), opts);
    const again = await updateStatusWithRetry<Widget>(
      client,
      WIDGETS,
      "s",
      ready(t2, "True"),
      opts,
    );
    const c = again.status!.conditions![0];
    assert.equal(c.lastTransitionTime, "2026-03-01T10:00:00Z");
    assert.equal(c.observedGeneration, again.metadata.generation);
    // mutate returning undefined skips the write.
    const same = await updateStatusWithRetry<Widget>(client, WIDGETS, "s", () => undefined, opts);
    assert.equal(same.metadata.resourceVersion, again.metadata.resourceVersion);
  } finally {
    await env.close();
  }
});

Deno.test("events: a repeated event increments series.count instead of creating a duplicate", async () => {
  const env = await startEnv();
  try {
    const { client } = env;
    const w = await client.create<KubeObject>(WIDGETS, {
      metadata: { name: "e", namespace: "default" },
      spec: {},
    });
    const clock = new ManualClock(Date.UTC(2026, 2, 1));
    const rec = new EventRecorder({
      client,
      clock,
      logger: silentLogger,
      reportingController: "couchestor.io/test",
      reportingInstance: "pod-0",
    });
    const ev = {
      regarding: referenceTo(w),
      type: "Warning" as const,
      reason: "MigrationFailed",
      action: "Migrate",
      note: "pool full",
    };
    const first = await rec.record(ev);
    assert.equal(first?.series, undefined);
    await clock.advance(1000);
    await rec.record(ev);
    await clock.advance(1000);
    const third = await rec.record(ev);
    assert.equal(third?.series?.count, 3);
    await rec.record({ ...ev, note: "pool offline" });
    const list = await client.list<KubeEvent>(BuiltinResources.events, { namespace: "default" });
    const mine = list.items.filter((e) => e.regarding?.name === "e");
    assert.equal(mine.length, 2, "one object per distinct event");
    const counted = mine.find((e) => e.note === "pool full")!;
    assert.equal(counted.series?.count, 3);
    assert.equal(counted.series?.lastObservedTime, "2026-03-01T00:00:02.000000Z");
    assert.equal(counted.regarding.uid, w.metadata.uid);
    assert.equal(counted.reportingController, "couchestor.io/test");
  } finally {
    await env.close();
  }
});

Deno.test("finalizers: added on reconcile, deletion held until cleanup ran, then the object goes", async () => {
  const env = await startEnv();
  try {
    const { client } = env;
    const fin = "couchestor.io/cleanup";
    const cleaned: string[] = [];
    const handlers = {
      apply: (o: KubeObject) => Promise.resolve(o.metadata.finalizers?.length ?? 0),
      cleanup: (o: KubeObject) => {
        cleaned.push(o.metadata.name!);
        return Promise.resolve();
      },
    };
    await client.create(WIDGETS, { metadata: { name: "f", namespace: "default" }, spec: {} });
    let cur = await client.get<KubeObject>(WIDGETS, "f", { namespace: "default" });
    const r1 = await reconcileWithFinalizer(client, WIDGETS, cur, fin, handlers);
    assert.deepEqual(r1, { kind: "applied", result: 1 });
    cur = await client.get<KubeObject>(WIDGETS, "f", { namespace: "default" });
    assert.ok(hasFinalizer(cur, fin));

    await client.delete(WIDGETS, "f", { namespace: "default" });
    cur = await client.get<KubeObject>(WIDGETS, "f", { namespace: "default" });
    assert.ok(cur.metadata.deletionTimestamp, "held by the finalizer");
    const r2 = await reconcileWithFinalizer(client, WIDGETS, cur, fin, handlers);
    assert.deepEqual(r2, { kind: "cleaned-up" });
    assert.deepEqual(cleaned, ["f"]);
    await assert.rejects(() => client.get(WIDGETS, "f", { namespace: "default" }), isNotFound);
  } finally {
    await env.close();
  }
});
