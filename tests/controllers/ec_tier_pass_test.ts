/**
 * The StoragePolicy pass with the EC cold tier wired in by the composition root: a hot volume
 * that goes idle is moved into 2+1 stripes (not to a cold replica), the policy status shows
 * ecVolumes and ecBytes; when it heats up it is rehydrated onto the hot pool with its original
 * bytes.
 */
import assert from "node:assert/strict";
import { GROUP_VERSION, type StoragePolicyStatus } from "../../src/api/mod.ts";
import { EC_POLICIES } from "../../src/controllers/ec-policy/reconcile.ts";
import { STORAGE_POLICIES } from "../../src/controllers/storage-policy/resources.ts";
import { SimEcTierPorts } from "../../src/ectier/sim.ts";
import type { KubeObject } from "../../src/kube/resource.ts";
import { sha256Hex } from "../../src/sandbox/mayastor/datastore.ts";
import { drive, MiB, policy, POOLS, startEnv } from "./harness.ts";

Deno.test("storage policy + EC tier: idle volume goes to 2+1 stripes, hot again comes back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "couchestor-ecpass-" });
  const env = await startEnv({
    volumes: [{ name: "pv-big", sizeBytes: MiB, pools: ["hot-1"], profile: { kind: "idle" } }],
    pools: [...POOLS, { id: "cold-3", node: "node-2", capacityBytes: 1 << 30, tier: "cold" }],
    globalLimit: 4,
    reconcile: { resyncMs: 1_000 },
    ec: (c) => ({ ports: new SimEcTierPorts(c.sim.adminUrl).ports(), storeRoot: `${dir}/stores` }),
  });
  const { client, sim } = env.cluster;
  const uuid = env.cluster.volumes.get("pv-big")!;
  const original = sim.originalHash(uuid)!;
  const tier = env.operator.ecTier!;
  const runner = tier.runner;
  try {
    await client.create<KubeObject>(EC_POLICIES, {
      apiVersion: GROUP_VERSION,
      kind: "ErasureCodingPolicy",
      metadata: { name: "ec-2-1" },
      spec: {
        dataShards: 2,
        parityShards: 1,
        stripeSizeBytes: 64 * 1024,
        scrub: { enabled: false },
      },
    });
    await client.create(
      STORAGE_POLICIES,
      policy("tiering", {
        ecPolicyRef: "ec-2-1",
        ecMinVolumeSizeBytes: 512 * 1024,
        cooldownPeriod: "5s",
      }) as unknown as KubeObject,
    );
    await drive(env, () => runner.isEcTiered("pv-big") && !runner.isBusy("pv-big"));
    assert.equal(runner.state("pv-big")?.phase, "Done");
    assert.equal(sim.cluster.volumes.get(uuid)!.replicas.size, 0, "replicas retired");
    const data = await tier.reader.read("pv-big", 0, MiB);
    assert.equal(await sha256Hex(data), original);
    await drive(env, async () => {
      const sp = await client.get<KubeObject>(STORAGE_POLICIES, "tiering");
      const st = sp.status as StoragePolicyStatus | undefined;
      return st?.ecVolumes === 1 && st.ecBytes?.logical === MiB &&
        st.ecBytes.stored === 1.5 * MiB && st.coldVolumes === 1;
    });

    // Heat-up: rehydrated onto the hot pool with the original bytes.
    sim.setProfile(uuid, { kind: "steady", iops: 5000 });
    await drive(env, () => !runner.isEcTiered("pv-big") && !runner.isBusy("pv-big"), {
      maxSteps: 600,
    });
    const v = sim.cluster.volumes.get(uuid)!;
    assert.equal(sim.cluster.replicas.get([...v.replicas][0])!.pool, "hot-1");
    assert.deepEqual(Object.values(await sim.replicaHashes(uuid)), [original]);
  } finally {
    await env.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
