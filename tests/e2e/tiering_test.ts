import assert from "node:assert/strict";
import type { StoragePolicyStatus } from "../../src/api/storage_policy.ts";
import {
  PERSISTENT_VOLUMES,
  STORAGE_POLICIES,
} from "../../src/controllers/storage-policy/resources.ts";
import type { KubeObject } from "../../src/kube/resource.ts";
import { OPERATOR_NAMESPACE, startLocalCluster } from "../../src/sandbox/local_cluster.ts";
import type { SimPoolConfig } from "../../src/sandbox/mayastor/cluster.ts";
import { LAST_MIGRATION_ANNOTATION } from "../../src/tiering/cooldown.ts";
import {
  backfill,
  e2ePolicySpec,
  requirePrometheus,
  startBackfilledPrometheus,
  startOperator,
  sumMetric,
  waitFor,
} from "./harness.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** One tier per node: a move's cordons leave the control plane exactly the target pool. */
const POOLS: SimPoolConfig[] = [
  { id: "hot-1", node: "node-1", capacityBytes: GiB, tier: "hot" },
  { id: "hot-2", node: "node-2", capacityBytes: GiB, tier: "hot" },
  { id: "warm-1", node: "node-3", capacityBytes: GiB, tier: "warm" },
  { id: "cold-1", node: "node-4", capacityBytes: GiB, tier: "cold" },
  { id: "cold-2", node: "node-5", capacityBytes: GiB, tier: "cold" },
];

Deno.test("e2e: operator process + real Prometheus over backfilled history: volumes land on their tier; a Prometheus outage demotes nothing; moves resume after it returns", async () => {
  requirePrometheus();
  const t0 = Date.now();
  const dropAt = t0 + 22_000; // pv-later goes idle here (while Prometheus is down)
  const rates: Record<string, (t: number) => number> = {
    "pv-hot": () => 3000,
    "pv-warm": () => 800,
    "pv-cold": () => 0,
    "pv-later": (t) => (t < dropAt ? 3000 : 0),
  };
  const history = backfill(
    Object.keys(rates),
    (pv, t) => rates[pv](t),
    t0 - 5 * 60_000,
    t0 + 5 * 60_000,
  );
  let prom = await startBackfilledPrometheus(history);
  const cluster = await startLocalCluster({
    pools: POOLS,
    volumes: [
      { name: "pv-hot", sizeBytes: MiB, pools: ["cold-1"] },
      { name: "pv-warm", sizeBytes: MiB, pools: ["cold-2"] },
      { name: "pv-cold", sizeBytes: MiB, pools: ["hot-1"] },
      { name: "pv-later", sizeBytes: MiB, pools: ["hot-2"] },
    ],
    rebuildBytesPerSec: 2 * MiB,
  });
  await cluster.client.create(STORAGE_POLICIES, {
    apiVersion: "storage.billyronks.io/v1",
    kind: "StoragePolicy",
    metadata: { name: "e2e" },
    spec: e2ePolicySpec(),
  } as KubeObject);
  const op = startOperator({
    kubeconfig: cluster.sandbox.kubeconfigPath,
    prometheusUrl: prom.url,
    mayastorUrl: cluster.sim.url,
  });
  const status = async () =>
    (await cluster.client.get(STORAGE_POLICIES, "e2e")).status as StoragePolicyStatus | undefined;
  const tierOf = (pv: string) => {
    const v = cluster.sim.cluster.volumes.get(cluster.volumes.get(pv)!)!;
    return [...v.replicas].map((r) => cluster.sim.cluster.replicas.get(r)!.pool.split("-")[0])
      .sort().join(",");
  };
  const cond = async (type: string) =>
    (await status())?.conditions?.find((c) => c.type === type)?.status;
  try {
    // 1. Hot, warm and cold volumes each land on their tier.
    await waitFor("three moves recorded", async () => (await status())?.totalMigrations === 3);
    await waitFor(
      "moves settled",
      () => tierOf("pv-warm") === "warm" && tierOf("pv-hot") === "hot",
    );
    assert.equal(tierOf("pv-hot"), "hot");
    assert.equal(tierOf("pv-warm"), "warm");
    assert.equal(tierOf("pv-cold"), "cold");
    assert.equal(tierOf("pv-later"), "hot");
    for (const [pv, uuid] of cluster.volumes) {
      for (const h of Object.values(await cluster.sim.replicaHashes(uuid))) {
        assert.equal(h, cluster.sim.originalHash(uuid), `${pv} content unchanged`);
      }
    }
    const st = (await status())!;
    assert.equal(st.failedMigrations, 0);
    assert.deepEqual(
      st.migrationHistory!.map((h) => `${h.volume}:${h.from}->${h.to}:${h.result}`).sort(),
      ["pv-cold:hot->cold:Succeeded", "pv-hot:cold->hot:Succeeded", "pv-warm:cold->warm:Succeeded"],
    );
    const metricsText = await waitFor("operator metrics", async () => {
      const t = await (await fetch(op.metricsUrl)).text();
      return sumMetric(t, "couchestor_migrations_total") === 3 ? t : undefined;
    });
    assert.equal(sumMetric(metricsText, "couchestor_migrations_total", { result: "succeeded" }), 3);
    assert.equal(
      sumMetric(metricsText, "couchestor_migrations_total", { from: "cold", to: "hot" }),
      1,
    );
    assert.equal(sumMetric(metricsText, "couchestor_active_migrations"), 0);
    const { items: evs } = await cluster.client.listAll({
      group: "events.k8s.io",
      version: "v1",
      plural: "events",
      namespaced: true,
    }, { namespace: OPERATOR_NAMESPACE });
    const done = evs.filter((e) =>
      e.reason === "MigrationSucceeded" &&
      (e.regarding as { kind: string }).kind === "PersistentVolume"
    ).map((e) => (e.regarding as { name: string }).name).sort();
    assert.deepEqual(done, ["pv-cold", "pv-hot", "pv-warm"]);
    for (const pv of ["pv-hot", "pv-warm", "pv-cold"]) {
      const o = await cluster.client.get(PERSISTENT_VOLUMES, pv);
      assert.ok(o.metadata.annotations?.[LAST_MIGRATION_ANNOTATION]);
    }
    assert.ok(Date.now() < dropAt - 2000, "phase 1 finished before pv-later goes idle");

    // 2. Prometheus stops; pv-later goes idle meanwhile: nothing is demoted.
    await prom.stop({ keepData: true });
    await waitFor(
      "MetricsAvailable=False",
      async () => (await cond("MetricsAvailable")) === "False",
    );
    const c = (await status())!.conditions!.find((x) => x.type === "MetricsAvailable")!;
    assert.equal(c.reason, "Unreachable");
    assert.equal(await cond("Ready"), "False");
    await waitFor("past the drop", () => Date.now() > dropAt + 8000, 30_000);
    assert.equal(tierOf("pv-later"), "hot", "no demotion without metrics");
    assert.equal((await status())!.totalMigrations, 3);

    // 3. Prometheus returns: the condition flips back and the demotion happens.
    prom = await startBackfilledPrometheus("", { dir: prom.dir, port: prom.port });
    await waitFor("MetricsAvailable=True", async () => (await cond("MetricsAvailable")) === "True");
    await waitFor("pv-later demoted", async () => (await status())?.totalMigrations === 4);
    await waitFor("pv-later on cold", () => tierOf("pv-later") === "cold");
    const { items: evs2 } = await cluster.client.listAll({
      group: "events.k8s.io",
      version: "v1",
      plural: "events",
      namespaced: true,
    }, { namespace: OPERATOR_NAMESPACE });
    assert.ok(evs2.some((e) => e.reason === "MetricsUnavailable"));
    assert.ok(evs2.some((e) => e.reason === "MetricsAvailable"));
    const failures = sumMetric(
      await (await fetch(op.metricsUrl)).text(),
      "couchestor_metrics_query_failures_total",
      { policy: "e2e", reason: "Unreachable" },
    );
    assert.ok(failures >= 1);
    assert.equal(await op.stop(), 0, op.logs().slice(-3000));
  } catch (e) {
    console.error(op.logs().slice(-6000));
    throw e;
  } finally {
    await op.kill();
    await prom.stop();
    await cluster.close();
  }
});
