/**
 * `couchestor run` (a real child process) builds the erasure-coded cold tier through the same
 * composition root as the demo: with the sandbox, the Mayastor simulator's EC data path
 * (--ec-simulator-url) and a real Prometheus over backfilled history, an idle volume under a
 * StoragePolicy with ecPolicyRef goes to 2+1 stripes; the ErasureCodingPolicy status and the
 * ECStripes are written by that process, not by a test harness.
 */
import assert from "node:assert/strict";
import type { StoragePolicyStatus } from "../../src/api/storage_policy.ts";
import type { ErasureCodingPolicyStatus } from "../../src/api/mod.ts";
import { EC_POLICIES } from "../../src/controllers/ec-policy/reconcile.ts";
import { EC_STRIPES } from "../../src/controllers/ec-policy/controller.ts";
import { STORAGE_POLICIES } from "../../src/controllers/storage-policy/resources.ts";
import type { KubeObject } from "../../src/kube/resource.ts";
import { startLocalCluster } from "../../src/sandbox/local_cluster.ts";
import type { SimPoolConfig } from "../../src/sandbox/mayastor/cluster.ts";
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
const POOLS: SimPoolConfig[] = [
  { id: "hot-1", node: "node-1", capacityBytes: GiB, tier: "hot" },
  { id: "cold-1", node: "node-2", capacityBytes: GiB, tier: "cold" },
  { id: "cold-2", node: "node-3", capacityBytes: GiB, tier: "cold" },
  { id: "cold-3", node: "node-4", capacityBytes: GiB, tier: "cold" },
];

Deno.test("e2e: couchestor run runs the ErasureCodingPolicy controller and the EC tier: an idle volume goes to stripes, status and ECStripes written by the process", async () => {
  requirePrometheus();
  const t0 = Date.now();
  const prom = await startBackfilledPrometheus(
    backfill(["pv-idle"], () => 0, t0 - 5 * 60_000, t0 + 5 * 60_000),
  );
  const cluster = await startLocalCluster({
    pools: POOLS,
    volumes: [{ name: "pv-idle", sizeBytes: 4 * MiB, pools: ["hot-1"] }],
    rebuildBytesPerSec: 4 * MiB,
  });
  const storeDir = await Deno.makeTempDir({ prefix: "couchestor-ec-run-" });
  await cluster.client.create(EC_POLICIES, {
    apiVersion: "storage.billyronks.io/v1",
    kind: "ErasureCodingPolicy",
    metadata: { name: "cold-2-1" },
    spec: { dataShards: 2, parityShards: 1, stripeSizeBytes: 64 * 1024, scrub: { enabled: false } },
  } as KubeObject);
  await cluster.client.create(STORAGE_POLICIES, {
    apiVersion: "storage.billyronks.io/v1",
    kind: "StoragePolicy",
    metadata: { name: "archive" },
    spec: { ...e2ePolicySpec(), ecPolicyRef: "cold-2-1", ecMinVolumeSizeBytes: MiB },
  } as KubeObject);
  const op = startOperator({
    kubeconfig: cluster.sandbox.kubeconfigPath,
    prometheusUrl: prom.url,
    mayastorUrl: cluster.sim.url,
    extra: [`--ec-simulator-url=${cluster.sim.adminUrl}`, `--ec-store-dir=${storeDir}`],
  });
  try {
    const st = await waitFor("the volume in stripes", async () => {
      const s = (await cluster.client.get(STORAGE_POLICIES, "archive")).status as
        | StoragePolicyStatus
        | undefined;
      return s?.ecVolumes === 1 ? s : undefined;
    }, 60_000);
    assert.ok(st.ecBytes && st.ecBytes.logical === 4 * MiB, JSON.stringify(st.ecBytes));
    assert.ok(st.ecBytes.stored >= 6 * MiB && st.ecBytes.stored < 6.1 * MiB, "2+1 = 1.5×");
    const ecp = await waitFor("ErasureCodingPolicy status from the process", async () => {
      const o = await cluster.client.get(EC_POLICIES, "cold-2-1");
      const s = o.status as ErasureCodingPolicyStatus | undefined;
      return (s?.stripes?.total ?? 0) > 0 ? s : undefined;
    });
    assert.equal(ecp.phase, "Ready");
    assert.equal(ecp.stripes?.healthy, ecp.stripes?.total);
    const statusWriters = cluster.sandbox.writes.list({ resource: "erasurecodingpolicies" })
      .filter((w) => w.subresource === "status");
    assert.ok(statusWriters.length >= 1);
    assert.ok(statusWriters.every((w) => w.userAgent.startsWith("couchestor/")));
    const stripes = await cluster.client.listAll(EC_STRIPES);
    assert.ok(stripes.items.length >= 1, "ECStripes recorded");
    const writers = cluster.sandbox.writes.list({ resource: "ecstripes", verb: "create" });
    assert.ok(writers.length >= 1 && writers.every((w) => w.userAgent.startsWith("couchestor/")));
    // The Mayastor volume has no replica left: its data lives in the stripes.
    const v = cluster.sim.cluster.volumes.get(cluster.volumes.get("pv-idle")!)!;
    assert.equal(v.replicas.size, 0);
    const metrics = await (await fetch(op.metricsUrl)).text();
    assert.equal(sumMetric(metrics, "couchestor_ec_bytes", { kind: "logical" }), 4 * MiB);
    assert.equal(await op.stop(), 0);
  } finally {
    await op.kill();
    await cluster.close();
    await prom.stop();
    await Deno.remove(storeDir, { recursive: true });
  }
});
