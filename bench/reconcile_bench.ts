/**
 * StoragePolicy reconcile benchmark (issue #5): one reconcile of a policy over 10,000 volumes,
 * the IOPS already fetched, against the real parts (sandbox API server holding 10,000 PVs, the
 * Mayastor simulator serving 10,000 volumes over REST). Printed beside two baselines measured
 * in the same run: listing the volumes over REST alone, and the pure `decide()` alone. Ends
 * with the process RSS. Run: `deno run -A bench/reconcile_bench.ts [--volumes N]`.
 */
import { systemClock } from "../src/clock.ts";
import { STORAGE_POLICIES } from "../src/controllers/storage-policy/resources.ts";
import { buildOperator } from "../src/app/operator.ts";
import type { KubeObject } from "../src/kube/resource.ts";
import { MayastorRestBackend } from "../src/mayastor/rest.ts";
import type { IopsReading, IopsSource } from "../src/metrics/source.ts";
import { silentLogger } from "../src/observability/log.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import { type LocalVolume, startLocalCluster } from "../src/sandbox/local_cluster.ts";
import { decide, type VolumeState } from "../src/tiering/decide.ts";

const arg = Deno.args.indexOf("--volumes");
const N = arg >= 0 ? Number(Deno.args[arg + 1]) : 10_000;
const GiB = 1024 ** 3;
const pools = [
  { id: "hot-1", node: "node-1", capacityBytes: 64 * GiB, tier: "hot" as const },
  { id: "warm-1", node: "node-2", capacityBytes: 64 * GiB, tier: "warm" as const },
  { id: "cold-1", node: "node-3", capacityBytes: 64 * GiB, tier: "cold" as const },
];
const tierOf = (i: number) => (["hot", "warm", "cold"] as const)[i % 3];
const iopsOf = (i: number) => ({ hot: 5000, warm: 400, cold: 10 })[tierOf(i)] + (i % 7);
const volumes: LocalVolume[] = Array.from({ length: N }, (_, i) => ({
  name: `pv-${String(i).padStart(5, "0")}`,
  sizeBytes: 4096,
  pools: [`${tierOf(i)}-1`],
}));
// A few volumes on the wrong tier so the pass plans moves (dry-run: nothing is copied).
for (let i = 0; i < 6; i++) volumes[i * 3].pools = ["cold-1"];

console.log(`setting up ${N} volumes and PVs …`);
const setupStart = performance.now();
const clock = systemClock;
const cluster = await startLocalCluster({ pools, volumes: [], clock });
for (let i = 0; i < volumes.length; i += 200) {
  await Promise.all(
    volumes.slice(i, i + 200).map(async (v) => {
      const uuid = await cluster.sim.addVolume({
        sizeBytes: v.sizeBytes,
        pools: v.pools,
      });
      cluster.volumes.set(v.name, uuid);
      await cluster.client.create({
        group: "",
        version: "v1",
        plural: "persistentvolumes",
        namespaced: false,
      }, {
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: v.name },
        spec: {
          storageClassName: "mayastor",
          capacity: { storage: "4Ki" },
          accessModes: ["ReadWriteOnce"],
          csi: { driver: "io.openebs.csi-mayastor", volumeHandle: uuid },
        },
      });
    }),
  );
}
await cluster.client.create(STORAGE_POLICIES, {
  apiVersion: "storage.billyronks.io/v1",
  kind: "StoragePolicy",
  metadata: { name: "bench" },
  spec: { highWatermarkIOPS: 2000, warmWatermarkIOPS: 1000, lowWatermarkIOPS: 100, dryRun: true },
} as KubeObject);
console.log(`set up in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);

// Metrics already fetched: the reading is built once and handed out as is.
const reading: IopsReading = {
  ok: true,
  iops: new Map(volumes.map((v, i) => [v.name, iopsOf(i)])),
  at: clock.now(),
  query: "precomputed",
};
const iops: IopsSource = { fetchIops: () => Promise.resolve(reading) };
const operator = buildOperator({
  client: cluster.client,
  backend: (diskPools) =>
    new MayastorRestBackend({
      baseUrl: cluster.sim.url,
      clock,
      logger: silentLogger,
      diskPools,
      pageSize: 1000,
    }),
  iops,
}, {
  reconcile: {
    globalLimit: 10,
    dryRun: true,
    preservation: false,
    migrationTimeoutMs: 30 * 60_000,
    freeSpaceHeadroom: 0.05,
  },
  pollIntervalMs: 1000,
  identity: "bench",
  eventNamespace: "couchestor-system",
}, { clock, logger: silentLogger, metrics: createMetrics({ defaultMetrics: false }) });
const controller = operator.storagePolicies;
const ac = new AbortController();
const informers = [controller.diskPools, ...controller.informers()];
const runs = informers.map((i) => i.run(ac.signal));
await Promise.all(informers.map((i) => i.waitForSync()));
const ctx = { signal: ac.signal, retries: 0, logger: silentLogger, clock };

async function time(f: () => Promise<unknown>, reps: number): Promise<number> {
  await f(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    await f();
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b)[Math.floor(t.length / 2)];
}

const REPS = 5;
const reconcileMs = await time(() => controller.reconciler.reconcile("bench", ctx), REPS);
await operator.inFlight.drain();
const listMs = await time(() => operator.backend.listVolumes(), REPS);
const states: VolumeState[] = volumes.map((v, i) => ({ name: v.name, tier: tierOf(i) }));
const decideMs = await time(() =>
  Promise.resolve(decide({
    policy: {
      name: "bench",
      watermarks: { highWatermarkIOPS: 2000, warmWatermarkIOPS: 1000, lowWatermarkIOPS: 100 },
      cooldownMs: 86_400_000,
      maxConcurrentMigrations: 2,
      warmTier: true,
      tiersAvailable: new Set(["hot", "warm", "cold"]),
    },
    volumes: states,
    metrics: { at: reading.at, iops: reading.iops },
    now: clock.now(),
    maxMetricsAgeMs: 3_600_000,
    inFlight: { policy: 0, global: 0 },
    globalLimit: 10,
  })), REPS);
const pass = controller.reconciler.lastPass.get("bench");
const rssMiB = Deno.memoryUsage().rss / 1024 / 1024;

console.log(`\nreconcile of one policy over ${N} volumes (median of ${REPS}):`);
console.log(
  `  reconcile (list pools+volumes over REST, tiers, decide, status write)  ${
    reconcileMs.toFixed(1)
  } ms`,
);
console.log(
  `  baseline: GET /v0/volumes of ${N} volumes alone                         ${
    listMs.toFixed(1)
  } ms  (reconcile = ${(reconcileMs / listMs).toFixed(2)}x)`,
);
console.log(
  `  baseline: pure decide() alone                                           ${
    decideMs.toFixed(1)
  } ms  (reconcile = ${(reconcileMs / decideMs).toFixed(1)}x)`,
);
const sp = await cluster.client.get(STORAGE_POLICIES, "bench");
const recorded = (sp.status as { totalMigrations?: number } | undefined)?.totalMigrations ?? 0;
console.log(
  `  watched ${
    pass?.counts?.watched ?? 0
  }; dry-run moves recorded by the first pass: ${recorded} ` +
    "(later passes none: the cooldown holds them)",
);
console.log(`  RSS of this process (operator + sandbox + simulator): ${rssMiB.toFixed(0)} MiB`);

ac.abort();
await Promise.allSettled(runs);
await cluster.close();
