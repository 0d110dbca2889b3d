/**
 * The EC cold tier end to end in the sandbox (sandbox API server, Mayastor simulator over HTTP,
 * real EcStore directories on the simulator's cold pools): EC move under 4+2, reads through the
 * cache, two cold pools destroyed, the ErasureCodingPolicy controller's rebuild, rehydration.
 */
import assert from "node:assert/strict";
import { blockKey } from "../../src/cache/l3_ec.ts";
import { EC_STRIPES } from "../../src/controllers/ec-policy/controller.ts";
import { VOLUME_LABEL } from "../../src/controllers/ec-policy/ecstripe_records.ts";
import { loadManifest } from "../../src/ec/store/manifest.ts";
import { blockCount } from "../../src/ectier/executor.ts";
import { EC_TIER_ANNOTATION } from "../../src/ectier/state.ts";
import type { KubeObject } from "../../src/kube/resource.ts";
import { BuiltinResources } from "../../src/kube/resource.ts";
import { TIER_LABEL } from "../../src/sandbox/mayastor/cluster.ts";
import {
  EC_POLICY,
  eventually,
  POLICY,
  PV_NAME,
  sha256,
  startEnv,
  VOLUME_BYTES,
} from "./helpers.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function metric(text: Promise<string>, series: string): Promise<number | undefined> {
  const line = (await text).split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test("ec tier: a cold volume goes 4+2, survives two destroyed cold pools, comes back hot", async () => {
  await using env = await startEnv();
  const original = env.sim.originalHash(env.volumeUuid)!;
  const order: string[] = [];
  let hashesAtDelete: Record<string, string> | undefined;
  const op = await env.operator({
    afterSave: async (s, a) => {
      order.push(`${s.kind}:${s.phase}:${a.kind}`);
      if (s.kind === "rehydrate" && a.kind === "deleteStripes") {
        hashesAtDelete = await env.sim.replicaHashes(env.volumeUuid);
      }
    },
  });
  try {
    const r = await op.archive();
    assert.equal(r.started, true, JSON.stringify(r));
    await op.runner.idle();
    const s = op.runner.state(PV_NAME)!;
    assert.equal(s.phase, "Done", s.error ?? "");
    assert.equal(s.result, "Succeeded");
    // Replicas retired only after verification.
    const retireAt = order.indexOf("ec-move:Retiring:releaseReplicas");
    assert.ok(retireAt > order.indexOf("ec-move:Verified:observe"), order.join(" "));
    assert.equal(env.sim.cluster.volumes.get(env.volumeUuid)!.replicas.size, 0);
    assert.equal(s.shardPools.length, 8);
    assert.equal(new Set(s.shardPools).size, 8);

    // Exact data through the cache; stored bytes 1.5x logical (+ stripe padding).
    const data = await op.reader.read(PV_NAME, 0, VOLUME_BYTES);
    assert.equal(await sha256(data), original);
    assert.equal(s.logicalBytes, VOLUME_BYTES);
    const ratio = s.storedBytes! / s.logicalBytes!;
    assert.ok(ratio >= 1.5 && ratio < 1.501, `stored/logical = ${ratio}`);
    assert.deepEqual(op.runner.ecBytes(POLICY.name), {
      logical: s.logicalBytes,
      stored: s.storedBytes,
      efficiency: 0.667,
    });
    // Persisted on the PV.
    const pv = await env.client.get<KubeObject>(BuiltinResources.persistentVolumes, PV_NAME);
    assert.match(pv.metadata.annotations![EC_TIER_ANNOTATION], /"phase":"Done"/);

    // ECStripes and the policy's bytes on /metrics.
    op.ctl.enqueue(EC_POLICY);
    await eventually("couchestor_ec_bytes logical", async () =>
      await metric(
        op.metrics.registry.metrics(),
        `couchestor_ec_bytes{policy="${EC_POLICY}",kind="logical"}`,
      ) === VOLUME_BYTES);
    const stored = await metric(
      op.metrics.registry.metrics(),
      `couchestor_ec_bytes{policy="${EC_POLICY}",kind="stored"}`,
    );
    assert.equal(stored, s.storedBytes);

    // Two cold pools destroyed: reads still exact (degraded), then the controller rebuilds.
    const [lost1, lost2] = s.shardPools;
    await Deno.remove(env.sim.ecRoot(lost1), { recursive: true });
    await Deno.remove(env.sim.ecRoot(lost2), { recursive: true });
    for (let i = 0; i < blockCount(VOLUME_BYTES, s.blockSize); i++) {
      op.cache.cache.l1.delete(blockKey(PV_NAME, i));
    }
    const degraded = await op.reader.read(PV_NAME, 0, VOLUME_BYTES);
    assert.equal(await sha256(degraded), original);
    const vol = await op.ctl.volume(PV_NAME)!;
    // Degraded (rebuilt from parity on the fly) unless the controller's rebuild got there first.
    const st = vol.store.stats;
    assert.ok(st.degradedReads > 0 || st.reconstructedShards > 0, JSON.stringify(st));

    op.ctl.enqueue(EC_POLICY);
    await eventually("shards rebuilt onto other cold pools and ECStripes Healthy", async () => {
      const m = await loadManifest(`${s.storeDir}/manifest.json`);
      const moved = Object.values(m!.stripes).every((st) =>
        !st.placement.includes(lost1) && !st.placement.includes(lost2) &&
        st.health === "healthy"
      );
      if (!moved) return false;
      const { items } = await env.client.listAll<KubeObject & { status?: { state?: string } }>(
        EC_STRIPES,
        { labelSelector: `${VOLUME_LABEL}=${PV_NAME}` },
      );
      return items.length > 0 && items.every((o) => o.status?.state === "Healthy");
    });

    // Heat-up: rehydrated to the hot pool with the same hash; only then are stripes removed.
    const h = await op.restore("hot");
    assert.equal(h.started, true);
    await op.runner.idle();
    assert.equal(op.runner.state(PV_NAME), undefined, "the annotation is forgotten");
    const v = env.sim.cluster.volumes.get(env.volumeUuid)!;
    assert.equal(v.replicas.size, 1);
    assert.equal(env.sim.cluster.replicas.get([...v.replicas][0])!.pool, "hot-1");
    assert.deepEqual(Object.values(await env.sim.replicaHashes(env.volumeUuid)), [original]);
    assert.deepEqual(Object.values(hashesAtDelete!), [original]);
    const verifiedAt = order.indexOf("rehydrate:ReplicasVerified:observe");
    const deleteAt = order.indexOf("rehydrate:DeletingStripes:deleteStripes");
    assert.ok(verifiedAt >= 0 && deleteAt > verifiedAt, order.join(" "));
    assert.equal(await exists(s.storeDir), false);
    for (const p of s.shardPools) {
      assert.equal(await exists(`${env.sim.ecRoot(p)}/${PV_NAME}`), false, p);
    }
    // The records go in the EC policy's reconcile that deleteStripes enqueues (asynchronous).
    await eventually("the stripe records are deleted", async () => {
      const { items } = await env.client.listAll(EC_STRIPES, {
        labelSelector: `${VOLUME_LABEL}=${PV_NAME}`,
      });
      return items.length === 0;
    });
    const after = await env.client.get<KubeObject>(BuiltinResources.persistentVolumes, PV_NAME);
    assert.equal(after.metadata.annotations?.[EC_TIER_ANNOTATION], undefined);
  } finally {
    await op.stop();
  }
});

Deno.test("ec tier: not enough cold pools in distinct failure domains refuses the move", async () => {
  await using env = await startEnv();
  const op = await env.operator();
  try {
    const narrow = {
      matchExpressions: [{
        key: TIER_LABEL,
        operator: "In" as const,
        values: ["cold"],
      }, { key: "pool", operator: "Exists" as const }],
    };
    const r = await op.archive({ cold: narrow });
    assert.equal(r.started, false);
    assert.ok(!r.started && r.reason === "NotEnoughColdPools");
    assert.match(!r.started ? r.message : "", /needs 6 Online cold pools .* found 0/);
    assert.equal(env.sim.cluster.volumes.get(env.volumeUuid)!.replicas.size, 1);
  } finally {
    await op.stop();
  }
});
