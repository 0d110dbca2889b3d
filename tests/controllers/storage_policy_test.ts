import assert from "node:assert/strict";
import type { StoragePolicyStatus } from "../../src/api/storage_policy.ts";
import { LAST_MIGRATION_ANNOTATION } from "../../src/tiering/cooldown.ts";
import { PERSISTENT_VOLUMES } from "../../src/controllers/storage-policy/resources.ts";
import {
  drive,
  events,
  getPolicy,
  MiB,
  migrationsCounted,
  policy,
  replicaTiers,
  settled,
  startEnv,
} from "./harness.ts";

Deno.test("controller: hot, warm and cold volumes land on their tier; history, counters, Events and metrics agree", async () => {
  const env = await startEnv({
    policies: [policy("tiers")],
    volumes: [
      {
        name: "pv-hot",
        sizeBytes: MiB,
        pools: ["cold-1"],
        profile: { kind: "steady", iops: 3000 },
      },
      {
        name: "pv-warm",
        sizeBytes: MiB,
        pools: ["cold-2"],
        profile: { kind: "steady", iops: 800 },
      },
      { name: "pv-cold", sizeBytes: MiB, pools: ["hot-1"], profile: { kind: "idle" } },
      {
        name: "pv-band",
        sizeBytes: MiB,
        pools: ["warm-1"],
        profile: { kind: "steady", iops: 1500 },
      },
    ],
  });
  try {
    const sim = env.cluster.sim;
    await drive(env, async () => {
      const sp = await getPolicy(env, "tiers");
      return ((sp.status as StoragePolicyStatus | undefined)?.totalMigrations ?? 0) >= 3 &&
        await settled(env);
    });
    assert.deepEqual(replicaTiers(env, "pv-hot"), ["hot"]);
    assert.deepEqual(replicaTiers(env, "pv-warm"), ["warm"]);
    assert.deepEqual(replicaTiers(env, "pv-cold"), ["cold"]);
    assert.deepEqual(replicaTiers(env, "pv-band"), ["warm"], "hysteresis band: stays");
    for (const [pv, uuid] of env.cluster.volumes) {
      const hashes = Object.values(await sim.replicaHashes(uuid));
      assert.deepEqual(hashes, hashes.map(() => sim.originalHash(uuid)), `${pv} content`);
    }
    const sp = await getPolicy(env, "tiers");
    const st = sp.status as StoragePolicyStatus;
    assert.equal(st.phase, "Active");
    assert.equal(st.totalMigrations, 3);
    assert.equal(st.failedMigrations, 0);
    assert.equal(st.migrationHistory?.length, 3);
    assert.deepEqual(
      st.migrationHistory!.map((h) => `${h.volume}:${h.from}->${h.to}:${h.result}`).sort(),
      ["pv-cold:hot->cold:Succeeded", "pv-hot:cold->hot:Succeeded", "pv-warm:cold->warm:Succeeded"],
    );
    assert.equal(st.observedGeneration, sp.metadata.generation);
    const ready = st.conditions?.find((c) => c.type === "Ready");
    assert.equal(ready?.status, "True");
    assert.equal(st.conditions?.find((c) => c.type === "MetricsAvailable")?.status, "True");
    assert.equal(st.conditions?.find((c) => c.type === "PoolsAvailable")?.status, "True");
    // Counts reflect the end state (the next pass after the moves).
    await drive(
      env,
      async () => ((await getPolicy(env, "tiers")).status as StoragePolicyStatus).hotVolumes === 1,
    );
    const st2 = (await getPolicy(env, "tiers")).status as StoragePolicyStatus;
    assert.deepEqual([st2.hotVolumes, st2.warmVolumes, st2.coldVolumes, st2.watchedVolumes], [
      1,
      2,
      1,
      4,
    ]);

    assert.equal(await migrationsCounted(env.metrics, "succeeded"), 3);
    assert.equal(await migrationsCounted(env.metrics), 3);
    const active = await env.metrics.activeMigrations.get();
    assert.equal(active.values[0]?.value ?? 0, 0);
    const byTier = await env.metrics.volumesByTier.get();
    const tierCount = (t: string) =>
      byTier.values.find((v) => v.labels.policy === "tiers" && v.labels.tier === t)?.value;
    assert.deepEqual([tierCount("hot"), tierCount("warm"), tierCount("cold")], [1, 2, 1]);

    const evs = await events(env);
    const ok = evs.filter((e) => e.reason === "MigrationSucceeded");
    const onPv = ok.filter((e) => (e.regarding as { kind: string }).kind === "PersistentVolume");
    const onSp = ok.filter((e) => (e.regarding as { kind: string }).kind === "StoragePolicy");
    assert.deepEqual(onPv.map((e) => (e.regarding as { name: string }).name).sort(), [
      "pv-cold",
      "pv-hot",
      "pv-warm",
    ]);
    assert.equal(onSp.length, 3);
    assert.equal(evs.filter((e) => e.reason === "MigrationStarted").length, 6);

    for (const pv of ["pv-hot", "pv-warm", "pv-cold"]) {
      const o = await env.cluster.client.get(PERSISTENT_VOLUMES, pv);
      assert.ok(o.metadata.annotations?.[LAST_MIGRATION_ANNOTATION], `${pv} last-migration`);
    }
    const band = await env.cluster.client.get(PERSISTENT_VOLUMES, "pv-band");
    assert.equal(band.metadata.annotations?.[LAST_MIGRATION_ANNOTATION], undefined);
  } finally {
    await env.stop();
  }
});
