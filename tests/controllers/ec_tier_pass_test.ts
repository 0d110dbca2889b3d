/**
 * The StoragePolicy pass with the EC cold tier wired in: a hot volume that goes idle is moved
 * into 2+1 stripes (not to a cold replica), the policy status shows ecVolumes and ecBytes;
 * when it heats up it is rehydrated onto the hot pool with its original bytes.
 */
import assert from "node:assert/strict";
import { GROUP_VERSION, type StoragePolicyStatus } from "../../src/api/mod.ts";
import { EcL3Backend, EcVolumeReader } from "../../src/cache/l3_ec.ts";
import { TieredCache } from "../../src/cache/tiered.ts";
import { systemClock } from "../../src/clock.ts";
import { EcPolicyController } from "../../src/controllers/ec-policy/mod.ts";
import { EC_POLICIES } from "../../src/controllers/ec-policy/reconcile.ts";
import { validatePolicy } from "../../src/controllers/ec-policy/validate.ts";
import { STORAGE_POLICIES } from "../../src/controllers/storage-policy/resources.ts";
import { selectKernel } from "../../src/ec/kernels/select.ts";
import { createBlockHasher } from "../../src/ec/store/checksum.ts";
import { bindingOf, EcTierRunner, PvEcTierStore, SimEcTierPorts } from "../../src/ectier/mod.ts";
import type { KubeObject } from "../../src/kube/resource.ts";
import { MayastorRestBackend } from "../../src/mayastor/rest.ts";
import { sha256Hex } from "../../src/sandbox/mayastor/datastore.ts";
import { silentLogger } from "../../src/observability/log.ts";
import { StoragePolicyOperator } from "../../src/controllers/storage-policy/wiring.ts";
import { drive, MiB, policy, POOLS, startEnv } from "./harness.ts";

Deno.test("storage policy + EC tier: idle volume goes to 2+1 stripes, hot again comes back", async () => {
  const env = await startEnv({
    volumes: [{ name: "pv-big", sizeBytes: MiB, pools: ["hot-1"], profile: { kind: "idle" } }],
    pools: [...POOLS, { id: "cold-3", node: "node-2", capacityBytes: 1 << 30, tier: "cold" }],
    noOperator: true,
  });
  const { client, sim } = env.cluster;
  const uuid = env.cluster.volumes.get("pv-big")!;
  const original = sim.originalHash(uuid)!;
  const dir = await Deno.makeTempDir({ prefix: "couchestor-ecpass-" });
  const ac = new AbortController();
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
  const ecPolicy = async (name: string) => {
    const v = validatePolicy(await client.get<KubeObject>(EC_POLICIES, name));
    return v.ok ? v.policy : undefined;
  };
  // deno-lint-ignore prefer-const
  let runner: EcTierRunner;
  const ctl = new EcPolicyController({
    client,
    volumes: { bindings: () => runner.bindings() },
    node: "node-op",
    kernel: selectKernel().kernel,
    hasher: await createBlockHasher(),
  }, { clock: systemClock, logger: silentLogger, metrics: env.metrics, identity: "op" });
  const cache = new TieredCache({
    l1MaxBytes: 1 << 20,
    l3: new EcL3Backend(async (v) => {
      const s = runner.state(v);
      return s ? (await ctl.open(bindingOf(s), (await ecPolicy(s.ecPolicy))!)).store : undefined;
    }),
  });
  const reader = new EcVolumeReader(cache, (v) => runner.state(v)?.blockSize ?? MiB);
  runner = new EcTierRunner({
    backend: new MayastorRestBackend({
      baseUrl: sim.url,
      clock: systemClock,
      logger: silentLogger,
    }),
    ports: new SimEcTierPorts(sim.adminUrl).ports(),
    store: new PvEcTierStore(client),
    host: ctl,
    ecPolicy: async (n) => (await ecPolicy(n))!,
    reader,
    clock: env.clock,
    logger: silentLogger,
    pollIntervalMs: 100,
  }, { storeRoot: `${dir}/stores` });
  // A dedicated operator with the EC tier hook (the harness's one has none).
  const op = new StoragePolicyOperator({
    client,
    backend: (diskPools) =>
      new MayastorRestBackend({
        baseUrl: sim.url,
        clock: env.clock,
        logger: silentLogger,
        diskPools,
      }),
    iops: env.scrape,
    clock: env.clock,
    logger: silentLogger,
    metrics: env.metrics,
    settings: {
      globalLimit: 4,
      dryRun: false,
      preservation: false,
      pollIntervalMs: 500,
      resyncMs: 1_000,
    },
    identity: "ec-operator",
    eventNamespace: "couchestor-system",
    ecTier: { runner, ecPolicy },
  });
  try {
    await ctl.start(ac.signal);
    await client.create(
      STORAGE_POLICIES,
      policy("tiering", {
        ecPolicyRef: "ec-2-1",
        ecMinVolumeSizeBytes: 512 * 1024,
        cooldownPeriod: "5s",
      }) as unknown as KubeObject,
    );
    const comp = op.component();
    await comp.start(ac.signal);
    try {
      await drive(env, () => runner.isEcTiered("pv-big") && !runner.isBusy("pv-big"));
      assert.equal(runner.state("pv-big")?.phase, "Done");
      assert.equal(sim.cluster.volumes.get(uuid)!.replicas.size, 0, "replicas retired");
      const data = await reader.read("pv-big", 0, MiB);
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
      ac.abort();
      await comp.stop();
    }
  } finally {
    ac.abort();
    await runner.stop();
    await ctl.stop();
    cache.close();
    await env.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
