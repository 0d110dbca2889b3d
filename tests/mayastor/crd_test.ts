/**
 * CRD mode and DiskPool CRs against the sandbox Kubernetes API server: the
 * simulator keeps DiskPool and MayastorVolume CRs there, the adapters read and
 * patch them through the kube client.
 */
import assert from "node:assert/strict";
import { KubeClient } from "../../src/kube/client.ts";
import { createVolumeBackend } from "../../src/mayastor/backend.ts";
import { MayastorCrdBackend } from "../../src/mayastor/crd.ts";
import { DISKPOOL_RESOURCE, KubeDiskPoolSource } from "../../src/mayastor/kube_diskpools.ts";
import { moveReplica } from "../../src/mayastor/move.ts";
import { MayastorRestBackend } from "../../src/mayastor/rest.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { startSandbox } from "../../src/sandbox/apiserver/mod.ts";
import { TIER_LABEL } from "../../src/sandbox/mayastor/cluster.ts";
import { MayastorCrdSync } from "../../src/sandbox/mayastor/crdsync.ts";
import { drive, harness, simHealthy } from "./harness.ts";

const NS = "mayastor";

async function withSandbox(
  _mode: "rest" | "crd",
  f: (ctx: {
    h: Awaited<ReturnType<typeof harness>>;
    kube: KubeClient;
    sync: MayastorCrdSync;
  }) => Promise<void>,
) {
  const h = await harness();
  const sb = await startSandbox({ tls: false });
  const kube = new KubeClient({ connection: { server: sb.httpUrl, token: sb.token } });
  try {
    const sync = new MayastorCrdSync({
      server: sb.httpUrl,
      token: sb.token,
      sim: h.sim,
      namespace: NS,
      logger: silentLogger,
    });
    await sync.install();
    await f({ h, kube, sync });
  } finally {
    kube.close();
    await sb.close();
    await h.close();
  }
}

Deno.test("REST mode: pool labels come from the DiskPool CRs in the API server", async () => {
  await withSandbox("rest", async ({ h, kube }) => {
    await kube.patch(DISKPOOL_RESOURCE, "cold-2", { metadata: { labels: { "zone": "b" } } }, {
      namespace: NS,
    });
    const backend = new MayastorRestBackend({
      baseUrl: h.sim.url,
      clock: h.clock,
      logger: silentLogger,
      maxAttempts: 1,
      diskPools: new KubeDiskPoolSource(kube, NS),
    });
    const pools = await backend.listPools();
    const cold2 = pools.find((p) => p.id === "cold-2")!;
    assert.equal(cold2.labels.zone, "b");
    assert.equal(cold2.labels[TIER_LABEL], "cold");
    const crs = await new KubeDiskPoolSource(kube, NS).listDiskPools();
    assert.equal(crs.length, 4);
    assert.equal(crs.find((c) => c.metadata.name === "hot-1")!.status?.pool_status, "Online");
  });
});

Deno.test("CRD mode: lists DiskPools and MayastorVolumes, moves a replica hot → cold, hash unchanged", async () => {
  await withSandbox("crd", async ({ h, kube, sync }) => {
    const backend = new MayastorCrdBackend({
      kube,
      namespace: NS,
      clock: h.clock,
      logger: silentLogger,
      pollMs: 500,
    });
    const pools = await backend.listPools();
    assert.deepEqual(pools.map((p) => p.id).sort(), ["cold-1", "cold-2", "hot-1", "hot-2"]);
    assert.ok(pools.every((p) => p.status === "Online" && p.capacityBytes > 0));
    const vols = await backend.listVolumes();
    assert.equal(vols.length, 1);
    const v = vols[0];
    assert.equal(v.uuid, h.volume);
    assert.equal(v.status, "Online");
    assert.deepEqual(v.replicas.map((r) => r.pool).sort(), ["hot-1", "hot-2"]);
    assert.ok(v.replicas.every((r) => r.childState === "Online"));

    const from = v.replicas.find((r) => r.pool === "hot-2")!;
    let minHealthy = Infinity;
    const progress: number[] = [];
    await drive(
      h.clock,
      moveReplica(backend, h.volume, from.uuid, "cold-1", {
        clock: h.clock,
        logger: silentLogger,
        pollMs: 500,
        onProgress: (r) => progress.push(r.rebuildProgress ?? 100),
      }),
      async () => {
        await sync.sync();
        minHealthy = Math.min(minHealthy, simHealthy(h.sim, h.volume));
      },
    );
    await sync.sync(); // the control plane applies the retire
    assert.equal(minHealthy, 2);
    assert.ok(progress.some((p) => p > 0 && p < 100), `progress seen: ${progress}`);
    const after = (await backend.getVolume(h.volume))!;
    assert.deepEqual(after.replicas.map((r) => r.pool).sort(), ["cold-1", "hot-1"]);
    assert.equal(after.replicaCount, 2);
    assert.equal(after.status, "Online");
    const hashes = await h.sim.replicaHashes(h.volume);
    assert.equal(Object.keys(hashes).length, 2);
    for (const x of Object.values(hashes)) assert.equal(x, h.sim.originalHash(h.volume));
  });
});

Deno.test("createVolumeBackend picks the adapter --mayastor-api names", async () => {
  await withSandbox("crd", async ({ h, kube }) => {
    const base = { namespace: NS, clock: h.clock, logger: silentLogger };
    const crd = createVolumeBackend({ ...base, api: "crd", kube });
    assert.ok(crd instanceof MayastorCrdBackend);
    assert.equal((await crd.listVolumes())[0].uuid, h.volume);
    const rest = createVolumeBackend({ ...base, api: "rest", restUrl: h.sim.url, kube });
    assert.ok(rest instanceof MayastorRestBackend);
    assert.equal((await rest.listPools()).length, 4);
    assert.throws(() => createVolumeBackend({ ...base, api: "crd" }), /needs a Kubernetes/);
    assert.throws(() => createVolumeBackend({ ...base, api: "rest" }), /api-rest URL/);
  });
});

Deno.test("CRD sync loop keeps DiskPool status current on the simulator's clock", async () => {
  await withSandbox("crd", async ({ h, kube, sync }) => {
    const ctrl = new AbortController();
    const loop = sync.run(1000, ctrl.signal);
    try {
      h.sim.faults.poolOffline("cold-2");
      const source = new KubeDiskPoolSource(kube, NS);
      let status: string | undefined;
      for (let i = 0; i < 50 && status !== "Unknown"; i++) {
        await h.clock.advance(1000);
        await new Promise((r) => setTimeout(r, 5));
        const crs = await source.listDiskPools();
        status = crs.find((c) => c.metadata.name === "cold-2")?.status?.pool_status;
      }
      assert.equal(status, "Unknown");
    } finally {
      ctrl.abort();
      await loop;
    }
  });
});
